"""Repeat contacts: a person with N or more calls within D days (each agency sets
N and D; 3 in 90 by default) is flagged for proactive outreach.

Pages flag many persons at once (the queue, the case list), so the count is one
grouped query for the whole set, plus one for the agencies' thresholds: a page
costs the same two queries whether it shows three persons or a hundred. The
window is measured back from now; a person's own agency's threshold applies.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, select

from clinician_app.agencies.models import Agency
from clinician_app.calls.models import Call
from clinician_app.core import audit, policy
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import UTCDateTime
from clinician_app.extensions import db
from clinician_app.people.models import Person


@dataclass(frozen=True)
class RepeatContact:
    person_id: str
    calls: int  # calls within the window
    days: int  # the window

    @property
    def text(self) -> str:
        return f"Repeat contact: {self.calls} calls in {self.days} days"


def _cutoff_by_agency(settings, now: datetime):
    """SQL: the start of the window for the person's agency (a CASE over the few agencies)."""
    return case({agency_id: literal(now - timedelta(days=days), UTCDateTime())
                 for agency_id, (_calls, days) in settings.items()}, value=Person.agency_id)


def repeat_contacts(person_ids: Iterable[str | None], now: datetime | None = None, *,
                    agencies: Iterable[Agency] | None = None) -> dict[str, RepeatContact]:
    """The persons among ``person_ids`` who are repeat contacts, by id. ``agencies``:
    the persons' agencies, if the caller has them loaded (their thresholds are not
    read again); a person of an agency not among them is not flagged."""
    ids = sorted({pid for pid in person_ids if pid})
    if not ids:
        return {}
    now = now or utcnow()
    if agencies is not None:
        settings = {a.id: (a.repeat_contact_calls, a.repeat_contact_days) for a in agencies}
    else:
        settings = {row.id: (row.repeat_contact_calls, row.repeat_contact_days) for row in db.session.execute(
            select(Agency.id, Agency.repeat_contact_calls, Agency.repeat_contact_days)
            .where(Agency.id.in_(select(Person.agency_id).where(Person.id.in_(ids)).scalar_subquery())))}
    if not settings:
        return {}
    stmt = (select(Call.person_id, Person.agency_id, func.count(Call.id))
            .join(Person, Person.id == Call.person_id)
            .where(Call.person_id.in_(ids), Call.received_at >= _cutoff_by_agency(settings, now), Call.received_at <= now)
            .group_by(Call.person_id, Person.agency_id))
    found = {}
    for person_id, agency_id, count in db.session.execute(stmt):
        threshold, days = settings[agency_id]
        if count >= threshold:
            found[person_id] = RepeatContact(person_id, count, days)
    return found


def repeat_contact(person_id: str | None, now: datetime | None = None) -> RepeatContact | None:
    return repeat_contacts([person_id], now).get(person_id or "")


@dataclass(frozen=True)
class OutreachRow:
    person: Person
    contact: RepeatContact
    last_call_at: datetime
    open_case_id: str | None
    plan_status: str | None  # the newest response plan's status, if any


def outreach_list(actor, now: datetime | None = None, limit: int = 200) -> list[OutreachRow]:
    """A supervisor's proactive-outreach list: the agency's repeat contacts, most
    calls first. Names are shown, so each person listed is an audited read."""
    from .codes import CASE_OPEN, PLAN_SUPERSEDED
    from .models import Case, ResponsePlan

    policy.require(actor, Permission.CASES_ASSIGN)
    now = now or utcnow()
    agency = actor.agency
    since = now - timedelta(days=agency.repeat_contact_days)
    count = func.count(Call.id)
    stmt = (select(Call.person_id, count, func.max(Call.received_at))
            .join(Person, Person.id == Call.person_id)
            .where(Person.agency_id == actor.agency_id, Person.merged_into_id.is_(None),
                   Call.received_at >= since, Call.received_at <= now)
            .group_by(Call.person_id)
            .having(count >= agency.repeat_contact_calls)
            .order_by(count.desc(), func.max(Call.received_at).desc())
            .limit(limit))
    rows = db.session.execute(stmt).all()
    ids = [row[0] for row in rows]
    if not ids:
        audit.record("case.outreach_list", actor=actor, record_type="person", details={"results": 0})
        return []
    persons = {p.id: p for p in db.session.execute(select(Person).where(Person.id.in_(ids))).scalars()}
    open_cases = dict(db.session.execute(
        select(Case.person_id, func.max(Case.id)).where(Case.person_id.in_(ids), Case.status == CASE_OPEN,
                                                         Case.agency_id == actor.agency_id)
        .group_by(Case.person_id)).all())
    plans: dict[str, str] = {}
    for person_id, status in db.session.execute(
            select(ResponsePlan.person_id, ResponsePlan.status)
            .where(ResponsePlan.person_id.in_(ids), ResponsePlan.status != PLAN_SUPERSEDED)
            .order_by(ResponsePlan.written_at)):
        plans[person_id] = status  # the newest wins
    result = [OutreachRow(persons[pid], RepeatContact(pid, calls, agency.repeat_contact_days), last,
                          open_cases.get(pid), plans.get(pid)) for pid, calls, last in rows]
    audit.record("case.outreach_list", actor=actor, record_type="person", details={"results": len(result)})
    for row in result:
        audit.record_at_commit("person.read", actor=actor, record_type="person", record_id=row.person.id,
                     details={"view": "outreach"})
    return result
