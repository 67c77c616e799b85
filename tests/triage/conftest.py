"""Triage test helpers: a town with clinicians, a supervisor and the BHU, and
calls created and triaged through the real services."""
from __future__ import annotations

from datetime import timedelta

import pytest

from clinician_app.agencies.models import Shift
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.triage.models import RoutingRule
from clinician_app.triage.services import TriageInput, record_triage
from tests.calls.factories import make_call
from tests.conftest import SENTINELS

OBSERVATIONS = "Pacing, says the voices tell him Wilhelmina Quorrach is watching."
OVERRIDE_REASON = "Family asked for the clinician who knows him from last spring."
SENTINELS.update({OBSERVATIONS})


@pytest.fixture()
def town(agencies):
    return agencies["A"]


@pytest.fixture()
def bhu(agencies):
    return agencies["BHU"]


@pytest.fixture()
def clinician(make_user, town):
    return make_user(town, "clinician", display_name="Dana Reyes")


@pytest.fixture()
def clinician2(make_user, town):
    return make_user(town, "clinician", display_name="Sam Okafor")


@pytest.fixture()
def supervisor(make_user, town):
    return make_user(town, "supervisor", display_name="Pat Lindqvist")


@pytest.fixture()
def bhu_clinician(make_user, bhu):
    return make_user(bhu, "bhu_clinician", display_name="Ari Castellanos")


@pytest.fixture()
def bhu_supervisor(make_user, bhu):
    return make_user(bhu, "supervisor", display_name="Lee Moreau")


def put_on_duty(user, agency, hours=4):
    now = utcnow()
    shift = Shift(agency_id=agency.id, user_id=user.id, starts_at=now - timedelta(hours=1),
                  ends_at=now + timedelta(hours=hours))
    db.session.add(shift)
    db.session.flush()
    return shift


def add_rule(agency, priority, route, acuities=(), on_duty="any", outside_service=None, description=""):
    rule = RoutingRule(agency_id=agency.id, priority=priority, acuities=",".join(acuities), on_duty=on_duty,
                       route=route, outside_service=outside_service, description=description)
    db.session.add(rule)
    db.session.flush()
    return rule


def triage_input(route="bhu", acuity="urgent", **overrides) -> TriageInput:
    values = {"answers": {"q1": True, "q2": False, "q6": False}, "observations": OBSERVATIONS,
              "risk_level": "low", "acuity": acuity, "route": route, "outside_service": None,
              "override_reason": ""}
    values.update(overrides)
    return TriageInput(**values)


def triaged_call(town, actor, route="department", **overrides):
    """A call flagged in ``town`` and triaged by ``actor`` to ``route`` (with
    an override reason, so it works whatever the rules suggest)."""
    call = make_call(town.id)
    record_triage(actor, call.id, triage_input(route=route, override_reason=OVERRIDE_REASON, **overrides))
    return call
