"""Recording a triage: the call moves to triaged with its route; overrides
need a reason; bad input names its fields; reading answers is audited and
they are stored encrypted."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import NotFound, PermissionDenied, ValidationError
from clinician_app.extensions import db
from clinician_app.triage.models import Triage
from clinician_app.triage.services import read_triage, record_triage
from tests.calls.factories import make_call

from .conftest import OBSERVATIONS, OVERRIDE_REASON, add_rule, put_on_duty, triage_input


def _actions(call_id):
    return db.session.execute(select(AuditEvent.action).where(AuditEvent.record_id == call_id)
                              .order_by(AuditEvent.seq)).scalars().all()


def test_triage_following_the_suggestion_routes_the_call(town, bhu, clinician):
    call = make_call(town.id)  # no rules, nobody on duty: fallback BHU
    triage = record_triage(clinician, call.id, triage_input(route="bhu", acuity="urgent"))

    assert (call.status, call.route, call.routed_to, call.route_agency_id, call.acuity) == (
        "triaged", "bhu", "bhu", bhu.id, "urgent")
    assert call.triaged_at is not None
    assert (triage.suggested_route, triage.overridden, triage.override_reason) == ("bhu", False, None)
    assert triage.screen_risk == "low" and "fallback" in triage.suggestion_reason
    assert _actions(call.id)[-1] == "triage.create"


def test_override_requires_a_reason_and_keeps_it(town, clinician):
    put_on_duty(clinician, town)
    add_rule(town, 1, "department", on_duty="yes")
    call = make_call(town.id)

    with pytest.raises(ValidationError) as exc:
        record_triage(clinician, call.id, triage_input(route="bhu"))
    assert "override_reason" in exc.value.fields
    assert call.status == "flagged"

    triage = record_triage(clinician, call.id, triage_input(route="bhu", override_reason=OVERRIDE_REASON))
    assert triage.overridden and triage.override_reason == OVERRIDE_REASON
    assert (triage.suggested_route, triage.route) == ("department", "bhu")


def test_a_different_outside_service_is_an_override(town, clinician):
    add_rule(town, 1, "outside", outside_service="988")
    call = make_call(town.id)
    with pytest.raises(ValidationError) as exc:
        record_triage(clinician, call.id, triage_input(route="outside", outside_service="ems"))
    assert "override_reason" in exc.value.fields
    triage = record_triage(clinician, call.id, triage_input(route="outside", outside_service="988"))
    assert not triage.overridden and call.route_agency_id == town.id and call.outside_service == "988"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"route": None}, "route"),
    ({"route": "outside", "outside_service": None}, "outside_service"),
    ({"acuity": None}, "acuity"),
    ({"risk_level": "severe"}, "risk_level"),
    ({"answers": {"q1": True, "q2": True, "q6": False}}, "q3"),
    ({"answers": {"q1": False, "q2": False, "q6": True}}, "q6_recent"),
    ({"answers": {"q1": True, "q2": True, "q3": False, "q4": True, "q5": False, "q6": False},
      "risk_level": "moderate"}, "risk_level"),  # below the screen's high
    ({"observations": "x" * 4001}, "observations"),
])
def test_bad_triage_names_the_field_and_changes_nothing(town, clinician, overrides, field):
    call = make_call(town.id)
    with pytest.raises(ValidationError) as exc:
        record_triage(clinician, call.id, triage_input(**{"override_reason": OVERRIDE_REASON, **overrides}))
    assert field in exc.value.fields
    assert call.status == "flagged" and call.route is None
    assert db.session.execute(select(Triage).where(Triage.call_id == call.id)).first() is None


def test_risk_defaults_to_the_screen_and_may_be_raised_to_imminent(town, clinician):
    answers = {"q1": True, "q2": True, "q3": True, "q4": False, "q5": False, "q6": False}
    call = make_call(town.id)
    triage = record_triage(clinician, call.id, triage_input(answers=answers, risk_level=None))
    assert (triage.screen_risk, triage.risk_level) == ("moderate", "moderate")
    again = record_triage(clinician, call.id, triage_input(answers=answers, risk_level="imminent"))
    assert again.risk_level == "imminent"


def test_blank_screen_is_recorded_as_not_done(town, clinician):
    call = make_call(town.id)
    triage = record_triage(clinician, call.id, triage_input(answers={}, risk_level=None))
    assert (triage.screen_risk, triage.risk_level, triage.answers) == ("not_screened", "low", None)


def test_skipped_questions_are_not_stored(town, clinician):
    call = make_call(town.id)
    triage = record_triage(clinician, call.id, triage_input(
        answers={"q1": True, "q2": False, "q3": True, "q4": True, "q5": True, "q6": False}))
    assert triage.answers == {"q1": True, "q2": False, "q3": None, "q4": None, "q5": None, "q6": False,
                              "q6_recent": None}
    assert triage.screen_risk == "low"


def test_answers_and_observations_are_encrypted_and_reads_audited(town, clinician):
    call = make_call(town.id)
    triage = record_triage(clinician, call.id, triage_input())
    db.session.flush()
    raw = db.session.execute(text("SELECT answers_enc, observations_enc FROM triages WHERE id = :id"),
                             {"id": triage.id}).one()
    assert OBSERVATIONS.encode() not in bytes(raw[1]) and b"q1" not in bytes(raw[0])

    view = read_triage(clinician, call)
    assert view.observations == OBSERVATIONS and view.answers["q1"] is True
    db.session.commit()  # audited reads are written as the transaction commits
    assert _actions(call.id)[-1] == "triage.read"


def test_who_may_triage(agencies, town, bhu, clinician, make_user):
    call = make_call(town.id)
    with pytest.raises(NotFound):
        record_triage(make_user(agencies["B"], "clinician"), call.id, triage_input())
    with pytest.raises(NotFound):  # not routed to the BHU: the BHU can't see it
        record_triage(make_user(bhu, "bhu_clinician"), call.id, triage_input())
    with pytest.raises(PermissionDenied):
        record_triage(make_user(town, "dispatcher"), call.id, triage_input())
    with pytest.raises(PermissionDenied):
        read_triage(make_user(town, "admin"), call)


def test_bhu_clinician_may_triage_again_a_call_routed_to_the_bhu(town, bhu, clinician, make_user):
    call = make_call(town.id)
    record_triage(clinician, call.id, triage_input(route="bhu"))
    bhu_clinician = make_user(bhu, "bhu_clinician")
    record_triage(bhu_clinician, call.id, triage_input(route="outside", outside_service="mobile_crisis",
                                                       override_reason=OVERRIDE_REASON))
    assert (call.route, call.route_agency_id) == ("outside", town.id)
