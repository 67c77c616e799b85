"""Cases, notes and break-the-glass grants for the notes tests and the
authorization matrix, stored as the services store them (bodies encrypted).
Every body a factory writes is a sentinel: the suite fails if one reaches a log."""
from __future__ import annotations

import secrets
from datetime import timedelta

from clinician_app.cases.break_glass_models import BreakGlassGrant
from clinician_app.cases.codes import CASE_CLOSED, CASE_OPEN
from clinician_app.cases.models import Case
from clinician_app.cases.note_models import SENSITIVITY_NORMAL, CaseNote
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from tests.conftest import SENTINELS
from tests.people.factories import make_person


def sentinel(label: str = "note") -> str:
    text = f"SENTINEL-{label}-{secrets.token_hex(6)}"
    SENTINELS.add(text)
    return text


def make_case(agency_id: str, assignee=None, status: str = CASE_OPEN) -> Case:
    case = Case(agency_id=agency_id, person_id=make_person(agency_id).id, status=status,
                assignee_id=assignee.id if assignee is not None else None)
    if status == CASE_CLOSED:
        case.closed_at = utcnow()
        case.outcome = "stabilised"
    db.session.add(case)
    db.session.flush()
    return case


def make_note(case: Case, author, sensitivity: str = SENSITIVITY_NORMAL, body: str | None = None,
              kind: str = "contact", addendum_to: CaseNote | None = None) -> CaseNote:
    """A note written without the service's checks (the seed path), so any user may author it."""
    note = CaseNote(case_id=case.id, agency_id=case.agency_id, kind=kind, sensitivity=sensitivity,
                    author_id=author.id, addendum_to_id=addendum_to.id if addendum_to else None)
    note.body = body or sentinel(sensitivity)
    db.session.add(note)
    db.session.flush()
    return note


def make_grant(user, case: Case, minutes: int = 60, reason_text: str | None = None) -> BreakGlassGrant:
    now = utcnow()
    grant = BreakGlassGrant(user_id=user.id, case_id=case.id, person_id=case.person_id, agency_id=case.agency_id,
                            reason_code="imminent_risk", granted_at=now, expires_at=now + timedelta(minutes=minutes))
    grant.reason_text = reason_text or sentinel("reason")
    db.session.add(grant)
    db.session.flush()
    return grant
