"""Follow-up test helpers: a clinician and a supervisor of town A, and a call in a
case ready for an encounter (triaged and claimed through the real services)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.triage.claims import claim_call
from clinician_app.triage.services import TriageInput, record_triage
from tests.calls.factories import make_call
from tests.cases.note_factories import make_case


@pytest.fixture()
def clinician(make_user, agencies):
    return make_user(agencies["A"], "clinician", display_name="Casey Clinician")


@pytest.fixture()
def supervisor(make_user, agencies):
    return make_user(agencies["A"], "supervisor", display_name="Sam Supervisor")


def call_in_case(clinician, risk_level: str = "moderate"):
    """A call of the clinician's town in an open case the clinician holds, triaged at
    ``risk_level`` and claimed: ready for record_encounter."""
    case = make_case(clinician.agency_id, assignee=clinician)
    call = make_call(clinician.agency_id, received_at=utcnow() - timedelta(hours=1))
    call.person_id, call.case_id = case.person_id, case.id
    db.session.flush()
    record_triage(clinician, call.id, TriageInput(risk_level=risk_level, acuity="urgent", route="department",
                                                  override_reason="Test routing."))
    claim_call(clinician, call.id)
    db.session.flush()
    return call, case
