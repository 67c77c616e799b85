"""Follow-ups for the tests and the authorization matrix, stored as the services
store them (purposes encrypted). Purposes are sentinels: the suite fails if one
reaches a log."""
from __future__ import annotations

from datetime import datetime, timedelta

from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.followups.models import Followup
from tests.cases.note_factories import make_case, sentinel


def make_followup(case, assignee, *, due_at: datetime | None = None, anchor_at: datetime | None = None,
                  window: str = "custom", purpose: str | None = None) -> Followup:
    now = utcnow()
    due_at = due_at or now + timedelta(hours=4)
    followup = Followup(agency_id=case.agency_id, case_id=case.id, assignee_id=assignee.id, window=window,
                        anchor_at=anchor_at or min(due_at, now) - timedelta(hours=24), due_at=due_at, status="open",
                        created_by_id=assignee.id)
    followup.purpose = purpose or sentinel("purpose")
    db.session.add(followup)
    db.session.flush()
    return followup


def followup_for(user, **kwargs) -> Followup:
    """A follow-up on a new case of the user's agency, held by the user."""
    return make_followup(make_case(user.agency_id, assignee=user), user, **kwargs)
