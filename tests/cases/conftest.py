"""Encounter test helpers. Notes and closing reasons the tests store are
sentinels: the suite fails at the end if any reaches a log."""
from __future__ import annotations

from datetime import timedelta

import pytest

from clinician_app.cases.services import NewEncounter
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.triage.claims import claim_call
from clinician_app.triage.services import TriageInput, record_triage
from tests.calls.factories import make_call
from tests.conftest import SENTINELS

NOTE = "Spoke with Marisol Quintero-Haas on the porch; agreed to see her counsellor Tuesday."
CLOSE_REASON = "Duplicate of the call Brigid Okonkwo-Lund's daughter placed a minute earlier."
SENTINELS.update({NOTE, CLOSE_REASON})


def new_encounter(**overrides) -> NewEncounter:
    now = utcnow()
    values = {
        "kind": "on_scene",
        "started_at": now - timedelta(minutes=40),
        "ended_at": now - timedelta(minutes=5),
        "disposition": "resolved_on_scene",
        "point_of_intervention": "pre_arrest",
        "custody_diverted": "yes",
        "jail_diversion_option": "yes",
        "ed_visit_prevented": "unknown",
        "charges": [("Disorderly conduct", True)],
        "note": NOTE,
    }
    values.update(overrides)
    return NewEncounter(**values)


def claimed_call(clinician, route="department", **call_overrides):
    """A call of the clinician's town, triaged and claimed through the real services."""
    call = make_call(clinician.agency_id, received_at=utcnow() - timedelta(hours=1), **call_overrides)
    record_triage(clinician, call.id, TriageInput(acuity="urgent", route=route, override_reason="Test routing."))
    claim_call(clinician, call.id)
    db.session.flush()
    return call


@pytest.fixture()
def clinician(make_user, agencies):
    return make_user(agencies["A"], "clinician", display_name="Casey Clinician")


@pytest.fixture()
def supervisor(make_user, agencies):
    return make_user(agencies["A"], "supervisor")
