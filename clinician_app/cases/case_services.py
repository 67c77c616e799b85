"""Cases (episodes of care): link a call to a person, open a case or add a call
to one, close, reassign, list, and the case page.

    from clinician_app.cases.case_services import link_person, open_case, join_case
    link_person(actor, call_id, person_id)          # the person the call was about
    case = open_case(actor, person_id, call_id=call_id)   # or join_case(actor, call_id, case.id)

A case belongs to the agency whose clinicians work it; its person is a record of
that agency (persons are agency-scoped). Services flush, never commit, and write
their audit event in the caller's transaction: ids and codes, never names.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, lazyload, load_only

from clinician_app.auth.models import User, UserRole
from clinician_app.calls.models import Call
from clinician_app.core import audit, policy
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.core.pagination import Page, paginate
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.people.models import Person

from . import policies, timeline
from .codes import CASE_CLOSED, CASE_OPEN, CASE_OUTCOMES
from .models import Case
from .repeat_contacts import RepeatContact, repeat_contacts

CASE_ROLES = ("clinician", "bhu_clinician", "supervisor")
PER_PAGE = 25
OTHER_AGENCY_PERSON = ("That person is not among your agency's records, so your agency can't link them or open a case "
                       "for them. Search your agency's records, or add the person.")


# --- loading -------------------------------------------------------------------------

def _visible_person(actor, person_id: str | None, field: str = "person_id") -> Person:
    """A person of the actor's agency (the survivor, if merged), or a form error
    that says plainly why not: persons are kept per agency."""
    person = None
    if person_id:
        person = db.session.execute(
            policy.visible(select(Person).where(Person.id == person_id), actor, Person)).scalar_one_or_none()
    if person is None:
        raise ValidationError(OTHER_AGENCY_PERSON if person_id else "Choose a person.", fields={field: [
            OTHER_AGENCY_PERSON if person_id else "Choose a person."]})
    from clinician_app.people.services import merged_into

    return merged_into(person) or person


def workable_call(actor, call_id: str) -> Call:
    call = policy.get_visible(db.session, Call, call_id, actor)
    if not policies.may_record_encounter(actor, call):
        raise PermissionDenied("This call is worked by another agency; its clinicians link it to a person.")
    return call


def get_case(actor, case_id: str, *, view: str = "page") -> tuple[Case, str | None]:
    """A case in the actor's scope, or one they hold a running break-the-glass
    grant for (with the grant's id); otherwise a plain 404. Audited (case.read)."""
    case, grant_id = _find_case(actor, case_id)
    audit.record(**_case_read(actor, case, grant_id, view))
    return case, grant_id


def _case_read(actor, case: Case, grant_id: str | None, view: str) -> dict:
    """The case.read audit event of ``get_case``, for ``audit.record`` or ``audit.record_many``."""
    details = {"view": view, **({"break_glass_grant": grant_id} if grant_id else {})}
    return {"action": "case.read", "actor": actor, "record_type": "case", "record_id": case.id, "details": details,
            "reason": "break the glass" if grant_id else None}


def _find_case(actor, case_id: str, *options) -> tuple[Case, str | None]:
    from . import break_glass

    policy.require(actor, Permission.CASES_READ)
    case = db.session.execute(policy.visible(select(Case).where(Case.id == case_id).options(*options), actor, Case)
                              ).scalar_one_or_none()
    grant_id = None
    if case is None:
        grant = break_glass.active_grant(actor, case_id)
        if grant is None:
            raise NotFound("That record was not found.")
        case, grant_id = db.session.get(Case, case_id), grant.id
    return case, grant_id


def open_cases_of(actor, person_id: str) -> list[Case]:
    stmt = policy.visible(select(Case), actor, Case).where(Case.person_id == person_id, Case.status == CASE_OPEN)
    return list(db.session.execute(stmt.order_by(Case.opened_at.desc())).scalars())


def case_clinicians(agency_id: str) -> list[User]:
    """Who may hold a case: the agency's active clinicians and supervisors, by name."""
    stmt = (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(User.agency_id == agency_id, User.disabled_at.is_(None), UserRole.role.in_(CASE_ROLES))
            .order_by(User.display_name))
    return list(db.session.execute(stmt).scalars().unique())


def _clinician(agency_id: str, user_id: str | None, field: str = "assignee_id") -> User:
    eligible = {u.id: u for u in case_clinicians(agency_id)}
    if not user_id or user_id not in eligible:
        raise ValidationError("Choose a clinician.", fields={field: ["Choose an active clinician of your agency."]})
    return eligible[user_id]


# --- linking -------------------------------------------------------------------------

def link_person(actor, call_id: str, person_id: str | None) -> Call:
    """Record who the call was about. Relinking to someone else takes the call out
    of the previous person's case, since a case is one person's."""
    policy.require(actor, Permission.CASES_WRITE)
    policy.require(actor, Permission.PERSONS_READ)
    call = workable_call(actor, call_id)
    person = _visible_person(actor, person_id)
    previous = call.person_id
    if previous == person.id:
        return call
    call.person_id = person.id
    left_case = call.case_id
    call.case_id = None
    call.updated_at = utcnow()
    db.session.flush()
    audit.record("call.link_person", actor=actor, record_type="call", record_id=call.id,
                 details={"person_id": person.id, "previous_person_id": previous, "left_case_id": left_case})
    return call


def open_case(actor, person_id: str | None, *, call_id: str | None = None, assignee_id: str | None = None) -> Case:
    """Open an episode of care for a person of the actor's agency (one open case at
    a time per person), assigned to ``assignee_id`` or the actor; the call, if
    given, joins it."""
    policy.require(actor, Permission.CASES_WRITE)
    person = _visible_person(actor, person_id)
    call = workable_call(actor, call_id) if call_id else None
    if call is not None and call.person_id != person.id:
        raise ValidationError("Link the call to this person before opening a case from it.",
                              fields={"call_id": ["The call is not linked to this person."]})
    if open_cases_of(actor, person.id):
        raise Conflict("This person already has an open case. Add the call to that case instead.")
    assignee = _clinician(actor.agency_id, assignee_id or actor.id)
    now = utcnow()
    case = Case(agency_id=actor.agency_id, person_id=person.id, assignee_id=assignee.id, status=CASE_OPEN,
                opened_at=now, opened_by_id=actor.id)
    db.session.add(case)
    db.session.flush()
    if call is not None:
        call.case_id = case.id
        call.updated_at = now
    db.session.flush()
    audit.record("case.open", actor=actor, record_type="case", record_id=case.id,
                 details={"person_id": person.id, "assignee_id": assignee.id, "call_id": call.id if call else None})
    return case


def join_case(actor, call_id: str, case_id: str | None) -> Call:
    """Add a call to an open case of the call's person."""
    policy.require(actor, Permission.CASES_WRITE)
    call = workable_call(actor, call_id)
    case = db.session.execute(policy.visible(select(Case).where(Case.id == (case_id or "")), actor, Case)
                              ).scalar_one_or_none()
    if case is None:
        raise ValidationError("Choose one of the person's open cases.", fields={"case_id": ["Choose an open case."]})
    if call.person_id is None or case.person_id != call.person_id:
        raise ValidationError("That case is another person's; link the call to the case's person first.",
                              fields={"case_id": ["That case is another person's."]})
    if not case.is_open:
        raise Conflict("That case is closed; open a new case instead.")
    if call.case_id != case.id:
        previous = call.case_id
        call.case_id = case.id
        call.updated_at = utcnow()
        db.session.flush()
        audit.record("case.join_call", actor=actor, record_type="case", record_id=case.id,
                     details={"call_id": call.id, "previous_case_id": previous})
    return call


def close_case(actor, case_id: str, outcome: str | None) -> Case:
    policy.require(actor, Permission.CASES_WRITE)
    case = policy.get_visible(db.session, Case, case_id, actor)
    if not case.is_open:
        raise Conflict("This case is already closed.")
    if outcome not in CASE_OUTCOMES:
        raise ValidationError("Choose the outcome.", fields={"outcome": ["Choose how the episode of care ended."]})
    case.status, case.outcome, case.closed_at, case.closed_by_id = CASE_CLOSED, outcome, utcnow(), actor.id
    db.session.flush()
    audit.record("case.close", actor=actor, record_type="case", record_id=case.id, details={"outcome": outcome})
    return case


def reassign_case(actor, case_id: str, assignee_id: str | None) -> Case:
    """A supervisor gives the case to another clinician of the agency (audited)."""
    policy.require(actor, Permission.CASES_ASSIGN)
    case = policy.get_visible(db.session, Case, case_id, actor)
    if not case.is_open:
        raise Conflict("This case is closed; reopen work by opening a new case.")
    assignee = _clinician(case.agency_id, assignee_id)
    if assignee.id == case.assignee_id:
        raise ValidationError("Choose someone else.", fields={"assignee_id": [f"{assignee.display_name} already holds this case."]})
    previous = case.assignee_id
    case.assignee_id = assignee.id
    db.session.flush()
    audit.record("case.reassign", actor=actor, record_type="case", record_id=case.id,
                 details={"assignee_id": assignee.id, "previous_assignee_id": previous})
    return case


# --- the case list -------------------------------------------------------------------

@dataclass
class CaseFilter:
    scope: str = "mine"  # "mine", "open" (the agency's open cases), "all" (supervisors)
    clinician_id: str | None = None  # supervisors: one clinician's cases
    status: str | None = None  # "open", "closed" or None for both


@dataclass
class CaseRow:
    case: Case
    person_name: str
    call_count: int
    last_call_at: object
    repeat: RepeatContact | None


class CaseList(Page[CaseRow]):
    """A page of the case list; the template reads its items as ``rows``."""

    @property
    def rows(self) -> list[CaseRow]:
        return self.items


def list_cases(actor, filters: CaseFilter | None = None, page: int = 1, per_page: int = PER_PAGE) -> CaseList:
    """The case list: five queries whatever its length (count, page, people,
    call figures, repeat-contact figures). Names are shown: audited reads."""
    policy.require(actor, Permission.CASES_READ)
    filters = filters or CaseFilter()
    supervisor = policy.has_permission(actor, Permission.CASES_ASSIGN)
    stmt = policy.visible(select(Case), actor, Case)
    if filters.scope == "mine":
        stmt = stmt.where(Case.assignee_id == actor.id)
    elif filters.scope == "open":
        stmt = stmt.where(Case.status == CASE_OPEN)
    elif not supervisor:  # "all" is a supervisor's view
        raise PermissionDenied("Only supervisors list every case.")
    if filters.clinician_id:
        if not supervisor:
            raise PermissionDenied("Only supervisors list another clinician's cases.")
        stmt = stmt.where(Case.assignee_id == filters.clinician_id)
    if filters.status in (CASE_OPEN, CASE_CLOSED):
        stmt = stmt.where(Case.status == filters.status)
    found = paginate(stmt.options(joinedload(Case.assignee).load_only(User.id, User.display_name).lazyload(User.role_rows))
                     .order_by(Case.status.desc(), Case.opened_at.desc(), Case.id), page, per_page, unique=True)
    cases = found.items
    person_ids = {c.person_id for c in cases}
    persons = {p.id: p for p in db.session.execute(
        select(Person).where(Person.id.in_(person_ids)).options(
            load_only(Person.id, Person.first_name_enc, Person.last_name_enc))).scalars()} if cases else {}
    figures = {row[0]: (row[1], row[2]) for row in db.session.execute(
        select(Call.case_id, func.count(Call.id), func.max(Call.received_at))
        .where(Call.case_id.in_([c.id for c in cases])).group_by(Call.case_id))} if cases else {}
    repeats = repeat_contacts(person_ids)
    rows = [CaseRow(c, persons[c.person_id].full_name, *figures.get(c.id, (0, None)), repeats.get(c.person_id))
            for c in cases]
    for person_id in sorted(person_ids):
        audit.record_at_commit("person.read", actor=actor, record_type="person", record_id=person_id, details={"view": "case_list"})
    return CaseList(items=rows, total=found.total, page=found.page, per_page=per_page)


def cases_for_person(actor, person: Person) -> list[Case]:
    if not policy.has_permission(actor, Permission.CASES_READ):
        return []
    stmt = policy.visible(select(Case), actor, Case).where(Case.person_id == person.id)
    return list(db.session.execute(stmt.order_by(Case.opened_at.desc())).scalars())


# --- the case page -------------------------------------------------------------------

@dataclass(frozen=True)
class Caution:
    """Plain values, so the page renders after the view's commit without reloading each call."""

    call_id: str
    incident_number: str
    received_at: object
    codes: list[str]
    notes: str | None


# A case page reads and shows a bounded amount whatever the case's history: the
# newest timeline entries (older notes are on the notes page) and the newest
# calls with safety cautions.
TIMELINE_LIMIT = 50
CAUTIONS_LIMIT = 50


@dataclass
class CasePage:
    case: Case
    person: Person
    cautions: list[Caution]
    items: list[timeline.TimelineItem]
    repeat: RepeatContact | None
    grant_id: str | None = None  # reached through break-the-glass
    more_items: bool = False  # the timeline has entries older than those shown
    more_cautions: bool = False  # more calls with cautions than those shown


def case_page(actor, case_id: str) -> CasePage:
    """The case, its person, the safety cautions from the person's calls (most
    recent first), and the timeline. Reading it is audited (case.read, person.read)."""
    # The person and the assignee's name come with the case (one query, not three).
    case, grant_id = _find_case(actor, case_id, joinedload(Case.person),
                                joinedload(Case.assignee).load_only(User.id, User.display_name).lazyload(User.role_rows))
    person = case.person
    audit.record_many_at_commit([_case_read(actor, case, grant_id, "page"), {  # written as the page commits
        "action": "person.read", "actor": actor, "record_type": "person", "record_id": person.id,
        "details": {"view": "case"}}])
    calls = db.session.execute(
        policy.visible(select(Call), actor, Call).where(
            Call.person_id == person.id,
            or_(Call.caution_weapon, Call.caution_violence, Call.caution_hazards, Call.caution_notes_enc.is_not(None)))
        # What the cautions show, nothing more (no narrative, no agency join).
        .options(load_only(Call.id, Call.incident_number, Call.received_at, Call.caution_weapon,
                           Call.caution_violence, Call.caution_hazards, Call.caution_notes_enc), lazyload(Call.agency))
        .order_by(Call.received_at.desc()).limit(CAUTIONS_LIMIT + 1)).scalars().all()
    cautions = [Caution(call.id, call.incident_number, call.received_at, call.cautions,
                        call.caution_notes if call.caution_notes_enc is not None else None)
                for call in calls[:CAUTIONS_LIMIT] if call.has_cautions]
    items, more_items = timeline.recent_items(case, actor, TIMELINE_LIMIT)
    return CasePage(case=case, person=person, cautions=cautions, items=items,
                    repeat=repeat_contacts([person.id], agencies=[actor.agency] if person.agency_id == actor.agency_id
                                           else None).get(person.id), grant_id=grant_id,
                    more_items=more_items, more_cautions=len(calls) > CAUTIONS_LIMIT)


# Each timeline source's rows come from one statement builder, so the times it
# gives (timeline.py) are those of exactly the entries it returns.

def _case_calls(case: Case, actor, *columns):
    return policy.visible(select(*columns), actor, Call).where(Call.case_id == case.id)


def _calls_in_case(case: Case, actor, limit: int | None = None, since=None) -> list[Call]:
    stmt = (_case_calls(case, actor, Call)
            .options(load_only(Call.id, Call.incident_number, Call.call_type, Call.status, Call.received_at),
                     lazyload(Call.agency))  # what the timeline shows, nothing more
            .order_by(Call.received_at.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(Call.received_at >= since)
    return list(db.session.execute(stmt).scalars())


def _call_times(case, actor, limit: int):
    return _case_calls(case, actor, Call.received_at).order_by(Call.received_at.desc()).limit(limit)


def _call_items(case, actor, limit: int | None = None, since=None) -> list[timeline.TimelineItem]:
    from flask import url_for

    from clinician_app.calls import codes as call_codes

    return [timeline.TimelineItem(at=call.received_at, kind="call", url=url_for("calls.detail", call_id=call.id),
                                  title=f"Call {call.incident_number}: {call_codes.label(call_codes.CALL_TYPES, call.call_type)}",
                                  summary=call_codes.label(call_codes.STATUSES, call.status))
            for call in _calls_in_case(case, actor, limit, since)]


def _case_triages(case, actor, *columns):
    from clinician_app.triage.models import Triage

    if not policy.has_permission(actor, Permission.CALLS_READ_CLINICAL):
        return None
    stmt = select(*columns).select_from(Triage).join(Call, Call.id == Triage.call_id).where(Call.case_id == case.id)
    return policy.visible(stmt, actor, Call)


def _triage_times(case, actor, limit: int):
    from clinician_app.triage.models import Triage

    stmt = _case_triages(case, actor, Triage.created_at)
    return None if stmt is None else stmt.order_by(Triage.created_at.desc()).limit(limit)


def _triage_items(case, actor, limit: int | None = None, since=None) -> list[timeline.TimelineItem]:
    from flask import url_for

    from clinician_app.triage import codes as triage_codes
    from clinician_app.triage.models import Triage

    stmt = _case_triages(case, actor, Triage, Call.incident_number)
    if stmt is None:
        return []
    stmt = (stmt.options(load_only(Triage.id, Triage.call_id, Triage.risk_level, Triage.acuity, Triage.route,
                                   Triage.outside_service, Triage.created_at),
                         lazyload(Triage.created_by))  # not shown: no join, no roles query
            .order_by(Triage.created_at.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(Triage.created_at >= since)
    return [timeline.TimelineItem(
        at=t.created_at, kind="triage", url=url_for("calls.detail", call_id=t.call_id),
        title=f"Triage of call {number}: {triage_codes.RISK_LEVELS.get(t.risk_level, t.risk_level)} risk",
        summary=f"{triage_codes.ACUITIES.get(t.acuity, t.acuity)}; {triage_codes.route_label(t.route, t.outside_service)}")
        for t, number in db.session.execute(stmt)]


def _case_encounters(case, actor, *columns):
    from .models import Disposition, Encounter

    stmt = (select(*columns).select_from(Encounter).join(Disposition, Disposition.id == Encounter.disposition_id)
            .join(Call, Call.id == Encounter.call_id).where(Call.case_id == case.id))
    return policy.visible(stmt, actor, Call)


def _encounter_times(case, actor, limit: int):
    from .models import Encounter

    return _case_encounters(case, actor, Encounter.started_at).order_by(Encounter.started_at.desc()).limit(limit)


def _encounter_items(case, actor, limit: int | None = None, since=None) -> list[timeline.TimelineItem]:
    from flask import url_for

    from .codes import ENCOUNTER_KINDS
    from .models import Disposition, Encounter

    stmt = (_case_encounters(case, actor, Encounter.id, Encounter.call_id, Encounter.kind, Encounter.started_at,
                             Disposition.label)
            .order_by(Encounter.started_at.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(Encounter.started_at >= since)
    return [timeline.TimelineItem(at=started, kind="encounter", url=url_for("calls.detail", call_id=call_id),
                                  title=f"Encounter: {ENCOUNTER_KINDS.get(kind, kind)}", summary=label)
            for _id, call_id, kind, started, label in db.session.execute(stmt)]


timeline.register("calls", _call_items, times=_call_times)
timeline.register("triages", _triage_items, times=_triage_times)
timeline.register("encounters", _encounter_items, times=_encounter_times)
