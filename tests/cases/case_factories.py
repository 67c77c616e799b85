"""Calls linked to persons, cases and response plans for the case tests and the
authorization matrix, stored as the services store them. Plan texts are
sentinels: the suite fails if one reaches a log."""
from __future__ import annotations

from datetime import timedelta

from clinician_app.cases.codes import PLAN_APPROVED, PLAN_PENDING
from clinician_app.cases.models import ResponsePlan
from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import new_id
from clinician_app.extensions import db
from tests.calls.factories import make_call
from tests.cases.note_factories import sentinel
from tests.people.factories import make_person


def linked_calls(person, days_ago: list[float], **overrides) -> list:
    """Calls of the person's agency received ``days_ago`` days back, linked to the person."""
    calls = []
    for days in days_ago:
        call = make_call(person.agency_id, received_at=utcnow() - timedelta(days=days), **overrides)
        call.person_id = person.id
        calls.append(call)
    db.session.flush()
    return calls


def make_plan(agency_id: str, person=None, status: str = PLAN_PENDING, author=None) -> ResponsePlan:
    """A plan written without the service's checks (the seed path)."""
    from clinician_app.auth.models import User

    person = person or make_person(agency_id)
    author_id = author.id if author is not None else db.session.query(User.id).limit(1).scalar()
    plan = ResponsePlan(id=new_id(), agency_id=agency_id, person_id=person.id, status=status,
                        written_by_id=author_id, written_at=utcnow())
    plan.approach = sentinel("approach")
    plan.officer_safety = sentinel("safety")
    if status == PLAN_APPROVED:
        plan.decided_at, plan.decided_by_id = utcnow(), author_id
    db.session.add(plan)
    db.session.flush()
    return plan
