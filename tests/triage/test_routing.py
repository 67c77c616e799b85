"""Routing rules: town x on duty x acuity -> route, first match by priority,
the fallback named as such; rules edited through the services with audit."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import NotFound, PermissionDenied, ValidationError
from clinician_app.extensions import db
from clinician_app.triage import routing
from tests.calls.factories import make_call

from .conftest import add_rule, put_on_duty


@pytest.fixture()
def town_rules(agencies):
    """Town A routes by rule; town B has no rules (always the fallback)."""
    a = agencies["A"]
    add_rule(a, 10, "department", ("emergent", "urgent"), "yes", description="Our clinician co-responds.")
    add_rule(a, 20, "bhu", ("emergent", "urgent"), "no")
    add_rule(a, 30, "outside", ("information",), "any", outside_service="988")
    add_rule(a, 40, "department", (), "yes")
    return a


# (town, department clinician on duty, acuity, expected route, outside service, fallback)
ROUTING_TABLE = [
    ("A", True, "emergent", "department", None, False),
    ("A", False, "emergent", "bhu", None, False),
    ("A", True, "urgent", "department", None, False),
    ("A", False, "urgent", "bhu", None, False),
    ("A", True, "information", "outside", "988", False),
    ("A", False, "information", "outside", "988", False),
    ("A", True, "routine", "department", None, False),
    ("A", False, "routine", "bhu", None, True),  # nothing matches: fallback
    ("B", True, "emergent", "bhu", None, True),
    ("B", False, "information", "bhu", None, True),
]


@pytest.mark.parametrize(("town_key", "on_duty", "acuity", "route", "service", "fallback"), ROUTING_TABLE)
def test_suggested_route(agencies, town_rules, make_user, town_key, on_duty, acuity, route, service, fallback):
    town = agencies[town_key]
    clinician = make_user(town, "clinician")
    if on_duty:
        put_on_duty(clinician, town)
    call = make_call(town.id)

    suggestion = routing.suggest_route(call, acuity=acuity)

    assert (suggestion.route, suggestion.outside_service, suggestion.fallback) == (route, service, fallback)
    assert suggestion.on_duty is on_duty
    assert ("fallback" in suggestion.reason) is fallback
    assert ("a department clinician is on duty" if on_duty else "no department clinician is on duty") in suggestion.reason


def test_a_clinician_of_another_agency_on_duty_does_not_count(agencies, town_rules, make_user):
    put_on_duty(make_user(agencies["B"], "clinician"), agencies["B"])
    call = make_call(agencies["A"].id)
    assert routing.suggest_route(call, acuity="emergent").route == "bhu"


def test_a_disabled_clinician_on_the_roster_is_not_on_duty(agencies, town_rules, make_user):
    from clinician_app.core.timeutil import utcnow

    clinician = make_user(agencies["A"], "clinician")
    put_on_duty(clinician, agencies["A"])
    clinician.disabled_at = utcnow()
    call = make_call(agencies["A"].id)
    assert routing.suggest_route(call, acuity="emergent").route == "bhu"


def test_the_requested_urgency_stands_in_for_acuity_before_triage(agencies, town_rules):
    call = make_call(agencies["A"].id, urgency="now")
    suggestion = routing.suggest_route(call)
    assert suggestion.acuity == "emergent" and suggestion.route == "bhu"


def test_priority_not_insertion_order_decides(agencies):
    town = agencies["A"]
    add_rule(town, 50, "bhu")
    first = add_rule(town, 5, "outside", outside_service="mobile_crisis")
    suggestion = routing.suggest_route(make_call(town.id), acuity="urgent")
    assert (suggestion.route, suggestion.rule_id) == ("outside", first.id)


# --- editing -----------------------------------------------------------------------------

def test_supervisor_creates_updates_and_deletes_own_town_rules_audited(agencies, make_user):
    supervisor = make_user(agencies["A"], "supervisor")
    rule = routing.create_rule(supervisor, None, {"priority": "7", "acuities": ["emergent"], "on_duty": "yes",
                                                  "route": "department", "description": "Ours first."})
    assert (rule.agency_id, rule.acuities, rule.priority) == (agencies["A"].id, "emergent", 7)
    routing.update_rule(supervisor, rule.id, {"priority": 8, "acuities": [], "on_duty": "any",
                                              "route": "outside", "outside_service": "ems"})
    assert (rule.route, rule.outside_service, rule.acuity_list) == ("outside", "ems", [])
    routing.delete_rule(supervisor, rule.id)
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.record_id == rule.id)
                                 .order_by(AuditEvent.seq)).scalars().all()
    assert actions == ["routing_rule.create", "routing_rule.update", "routing_rule.delete"]


@pytest.mark.parametrize(("data", "field"), [
    ({"priority": "x", "route": "bhu"}, "priority"),
    ({"priority": 0, "route": "bhu"}, "priority"),
    ({"priority": 3, "route": "elsewhere"}, "route"),
    ({"priority": 3, "route": "outside"}, "outside_service"),
    ({"priority": 3, "route": "bhu", "acuities": ["soon"]}, "acuities"),
    ({"priority": 3, "route": "bhu", "on_duty": "maybe"}, "on_duty"),
    ({"priority": 3, "route": "bhu", "description": "x" * 301}, "description"),
    ({"priority": 1, "route": "bhu"}, "priority"),  # taken
])
def test_bad_rules_are_refused_with_the_field_named(agencies, make_user, data, field):
    supervisor = make_user(agencies["A"], "supervisor")
    add_rule(agencies["A"], 1, "department")
    with pytest.raises(ValidationError) as exc:
        routing.create_rule(supervisor, None, data)
    assert field in exc.value.fields


def test_a_town_supervisor_cannot_touch_another_towns_rules(agencies, make_user):
    supervisor = make_user(agencies["A"], "supervisor")
    other = add_rule(agencies["B"], 1, "bhu")
    with pytest.raises(NotFound):
        routing.update_rule(supervisor, other.id, {"priority": 2, "route": "bhu"})
    with pytest.raises(NotFound):
        routing.create_rule(supervisor, agencies["B"].id, {"priority": 2, "route": "bhu"})


def test_bhu_admin_edits_any_towns_rules_clinician_none(agencies, make_user):
    admin = make_user(agencies["BHU"], "admin")
    rule = routing.create_rule(admin, agencies["B"].id, {"priority": 2, "route": "bhu"})
    assert rule.agency_id == agencies["B"].id
    with pytest.raises(PermissionDenied):
        routing.list_rules(make_user(agencies["A"], "clinician"))
