"""Referral test helpers: town A's clinician with an open case, the BHU's liaison,
supervisor and clinician, a third town's liaison, and a sender's record full of
sentinel text (notes, a call narrative, screen answers) that must never cross."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.referrals import services
from clinician_app.triage.services import TriageInput, record_triage
from tests.calls.factories import make_call
from tests.cases.note_factories import make_case, make_note, sentinel


@dataclass
class World:
    agencies: dict
    clinician: object
    case: object
    person: object
    bhu_liaison: object
    bhu_supervisor: object
    bhu_clinician: object
    b_liaison: object
    secrets: list


@pytest.fixture()
def world(agencies, make_user):
    clinician = make_user(agencies["A"], "clinician", display_name="Casey Clinician")
    case = make_case(agencies["A"].id, assignee=clinician)
    person = case.person
    person.phone = "978-555-0199"
    normal = make_note(case, clinician)
    call = make_call(agencies["A"].id, received_at=utcnow() - timedelta(hours=2))
    narrative = sentinel("narrative")
    call.narrative = narrative
    call.person_id, call.case_id = person.id, case.id
    db.session.flush()
    observations = sentinel("screen")
    record_triage(clinician, call.id, TriageInput(answers={"q1": True, "q2": False, "q6": False}, observations=observations,
                                                  risk_level="moderate", acuity="urgent", route="department",
                                                  override_reason="Test routing."))
    return World(agencies=agencies, clinician=clinician, case=case, person=person,
                 bhu_liaison=make_user(agencies["BHU"], "liaison", display_name="Logan Liaison"),
                 bhu_supervisor=make_user(agencies["BHU"], "supervisor"),
                 bhu_clinician=make_user(agencies["BHU"], "bhu_clinician"),
                 b_liaison=make_user(agencies["B"], "liaison"),
                 secrets=[normal.body, narrative, observations])


def part2_note(world):
    note = make_note(world.case, world.clinician, sensitivity="part2")
    world.secrets.append(note.body)
    return note


def agency_referral(world, consent=None, *, part2: bool = True, basis: str | None = None, **overrides):
    data = services.NewAgencyReferral(
        to_agency_id=world.agencies["BHU"].id, reason=sentinel("reason"), risk_level="high", cautions=["weapon"],
        caution_notes=sentinel("caution"), requested_action="take_over", summary_text=sentinel("summary"),
        includes_part2=part2, basis=basis if basis is not None else ("consent" if consent is not None else "treatment"),
        consent_id=consent.id if consent is not None else None)
    for key, value in overrides.items():
        setattr(data, key, value)
    return services.send_agency_referral(world.clinician, world.case.id, data)
