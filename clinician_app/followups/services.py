"""Follow-ups: schedule them (from templates when an encounter is recorded, or by
hand), record contact attempts, close, cancel, reassign, and the My work list.

    from clinician_app.followups import services
    services.schedule_followups_for_encounter(actor, encounter)   # called by record_encounter
    f = services.create_followup(actor, case_id, services.NewFollowup(window="72h", purpose="..."))
    services.record_attempt(actor, f.id, services.NewAttempt(attempted_at=aware, method="phone",
                                                             outcome="no_answer", note="..."))

Due times (decided here, tested across both daylight-saving changes):
* the window is anchored at the crisis: the encounter's end time;
* an hours window ("24h", "72h") is that many real hours later, whatever the
  clock does in between, so "72 h" across a DST change is still 72 hours;
* a days window ("7d") lands on the same local wall-clock time that many
  calendar days later in the agency's time zone (so 23 or 25 real hours may be
  in it); a wall-clock time that a spring-forward skips is read with the offset
  before the change (02:30 becomes 03:30 daylight time), one that a fall-back
  repeats means its first occurrence.
A follow-up is done within its window when it is completed at or before its due
time (the boundary counts as within).

Services flush, never commit; audit details carry ids and codes, never purposes,
notes or reasons.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload, load_only

from clinician_app.auth.models import User
from clinician_app.calls.models import Call
from clinician_app.cases import timeline
from clinician_app.cases.models import Case, Encounter
from clinician_app.core import audit, policy
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text
from clinician_app.core.timeutil import as_utc, to_local, utcnow
from clinician_app.extensions import db

from . import policies
from .codes import (
    COMPLETED_BY_ATTEMPT,
    COMPLETED_BY_CLOSE,
    CUSTOM_WINDOW,
    MAX_WINDOW_DAYS,
    MAX_WINDOW_HOURS,
    METHODS,
    OUTCOMES,
    REACHING_OUTCOMES,
    STATUS_CANCELLED,
    STATUS_DONE,
    STATUS_OPEN,
    TRIGGER_DISPOSITION,
    TRIGGER_KINDS,
    TRIGGER_RISK,
    WINDOW_PATTERN,
    window_label,
)
from .models import (
    ATTEMPT_NOTE_MAX,
    PURPOSE_MAX,
    REASON_MAX,
    TEMPLATE_NAME_MAX,
    TEMPLATE_WINDOWS_MAX,
    Followup,
    FollowupAttempt,
    FollowupTemplate,
)

FUTURE_TOLERANCE = timedelta(minutes=5)  # clock drift between a phone and the server


# --- windows and due times -------------------------------------------------------------

def parse_window(code: str) -> tuple[int, str]:
    """``"72h"`` -> (72, "h"); ValueError for anything else or out of range."""
    match = WINDOW_PATTERN.match(code or "")
    if not match:
        raise ValueError(code)
    number, unit = int(match.group(1)), match.group(2)
    if number < 1 or (unit == "h" and number > MAX_WINDOW_HOURS) or (unit == "d" and number > MAX_WINDOW_DAYS):
        raise ValueError(code)
    return number, unit


def due_time(anchor: datetime, window: str, tz_name: str) -> datetime:
    """When a follow-up of ``window`` anchored at ``anchor`` falls due (UTC); see the module docstring."""
    number, unit = parse_window(window)
    anchor = as_utc(anchor)
    if unit == "h":
        return anchor + timedelta(hours=number)
    local = anchor.astimezone(ZoneInfo(tz_name))
    wall = local.replace(tzinfo=None) + timedelta(days=number)
    return wall.replace(tzinfo=ZoneInfo(tz_name), fold=0).astimezone(UTC)


def is_within_window(completed_at: datetime, due_at: datetime) -> bool:
    """Inclusive: completed exactly at the due time is within the window."""
    return as_utc(completed_at) <= as_utc(due_at)


def _zone(agency_id: str) -> str:
    from clinician_app.agencies.models import Agency

    return db.session.get(Agency, agency_id).timezone


# --- loading ----------------------------------------------------------------------------

def get_followup(actor, followup_id: str) -> Followup:
    """A follow-up in the actor's scope; another agency's is a plain 404."""
    policy.require(actor, Permission.FOLLOWUPS_WORK)
    return policy.get_visible(db.session, Followup, followup_id, actor)


def read_followup(actor, followup_id: str) -> tuple[Followup, str, dict[str, str]]:
    """The follow-up, its person's name and its attempts' notes: an audited read."""
    followup = get_followup(actor, followup_id)
    case = db.session.get(Case, followup.case_id)
    from clinician_app.people.models import Person

    person = db.session.get(Person, case.person_id)
    notes = {a.id: a.note for a in followup.attempts if a.has_note}
    audit.record_at_commit("followup.read", actor=actor, record_type="followup", record_id=followup.id,
                 details={"case_id": case.id, "person_id": person.id, "attempt_notes": len(notes)})
    return followup, person.full_name, notes


def case_for_followups(actor, case_id: str) -> Case:
    policy.require(actor, Permission.FOLLOWUPS_WORK)
    case = policy.get_visible(db.session, Case, case_id, actor)
    if not case.is_open:
        raise Conflict("This case is closed; follow-ups are added to open cases.")
    return case


def assignable_clinicians(agency_id: str) -> list[User]:
    from clinician_app.cases.case_services import case_clinicians

    return case_clinicians(agency_id)


def crisis_time(case: Case) -> datetime:
    """The crisis a hand-made follow-up is anchored at: the end of the case's latest
    encounter, else its latest call, else when the case was opened."""
    ended = db.session.execute(
        select(func.max(Encounter.ended_at)).join(Call, Call.id == Encounter.call_id).where(Call.case_id == case.id)
    ).scalar()
    if ended is None:
        ended = db.session.execute(select(func.max(Call.received_at)).where(Call.case_id == case.id)).scalar()
    return as_utc(ended or case.opened_at)


# --- scheduling -------------------------------------------------------------------------

def _current_risk(call_id: str) -> str | None:
    from clinician_app.triage.models import Triage

    return db.session.execute(
        select(Triage.risk_level).where(Triage.call_id == call_id).order_by(Triage.created_at.desc()).limit(1)
    ).scalar()


def matching_templates(agency_id: str, disposition_code: str, risk_level: str | None) -> list[FollowupTemplate]:
    """The agency's active templates an encounter with this disposition (on a call
    triaged at this risk) sets off. A risk template fires at its level or higher."""
    from clinician_app.triage.codes import RISK_ORDER

    templates = db.session.execute(
        select(FollowupTemplate).where(FollowupTemplate.agency_id == agency_id, FollowupTemplate.active.is_(True))
        .order_by(FollowupTemplate.created_at, FollowupTemplate.id)).scalars()
    matched = []
    for template in templates:
        if template.trigger_kind == TRIGGER_DISPOSITION and template.trigger_code == disposition_code:
            matched.append(template)
        elif (template.trigger_kind == TRIGGER_RISK and risk_level in RISK_ORDER
              and template.trigger_code in RISK_ORDER
              and RISK_ORDER.index(risk_level) >= RISK_ORDER.index(template.trigger_code)):
            matched.append(template)
    return matched


def schedule_followups_for_encounter(actor, encounter: Encounter) -> list[Followup]:
    """Apply the case's agency's matching templates to a just-recorded encounter on a
    call that belongs to a case: one follow-up per window (two templates asking for
    the same window make one), anchored at the encounter's end, due in the case
    agency's time zone, held by the case's clinician (or the one who recorded it)."""
    call = db.session.get(Call, encounter.call_id)
    if call is None or call.case_id is None:
        return []
    case = db.session.get(Case, call.case_id)
    templates = matching_templates(case.agency_id, encounter.disposition.code, _current_risk(call.id))
    tz = _zone(case.agency_id)
    anchor = as_utc(encounter.ended_at)
    made: dict[str, Followup] = {}
    for template in templates:
        for window in template.window_codes:
            if window in made:
                continue
            try:
                due = due_time(anchor, window, tz)
            except ValueError:
                continue  # an edited template's bad window never blocks recording an encounter
            followup = Followup(agency_id=case.agency_id, case_id=case.id, encounter_id=encounter.id,
                                template_id=template.id, assignee_id=case.assignee_id or actor.id, window=window,
                                anchor_at=anchor, due_at=due, status=STATUS_OPEN, created_by_id=actor.id,
                                created_at=utcnow())
            followup.purpose = template.purpose
            db.session.add(followup)
            made[window] = followup
    if made:
        db.session.flush()
        audit.record("followup.schedule", actor=actor, record_type="case", record_id=case.id,
                     details={"encounter_id": encounter.id, "template_ids": sorted({t.id for t in templates}),
                              "followup_ids": [f.id for f in made.values()], "windows": list(made)})
    return list(made.values())


@dataclass
class NewFollowup:
    """A follow-up added by hand. ``window`` is a window code ("72h") or "custom",
    which takes ``due_at`` (timezone-aware) instead."""

    window: str = ""
    due_at: datetime | None = None
    assignee_id: str | None = None
    purpose: str = ""


def create_followup(actor, case_id: str, data: NewFollowup) -> Followup:
    case = case_for_followups(actor, case_id)
    policy.require(actor, Permission.CASES_WRITE)
    errors: dict[str, list[str]] = {}
    anchor = crisis_time(case)
    tz = _zone(case.agency_id)
    due = None
    if data.window == CUSTOM_WINDOW:
        if data.due_at is None:
            errors["due_at"] = ["Enter the date and time it is due."]
        elif data.due_at.tzinfo is None:
            errors["due_at"] = ["Give the time with its time zone."]
        elif data.due_at < anchor:
            errors["due_at"] = [f"The due time can't be before the crisis ({to_local(anchor, tz):%Y-%m-%d %H:%M})."]
        else:
            due = data.due_at.astimezone(UTC)
    else:
        try:
            due = due_time(anchor, data.window, tz)
        except ValueError:
            errors["window"] = ["Choose when it is due."]
    eligible = {u.id for u in assignable_clinicians(case.agency_id)}
    assignee_id = data.assignee_id or actor.id
    if assignee_id not in eligible:
        errors["assignee_id"] = ["Choose an active clinician of the case's agency."]
    purpose = clean_text(data.purpose, PURPOSE_MAX, "purpose", errors, required="Say what the follow-up is for.")
    if errors:
        raise ValidationError("Some of the follow-up's details need correcting.", fields=errors)
    followup = Followup(agency_id=case.agency_id, case_id=case.id, assignee_id=assignee_id, window=data.window,
                        anchor_at=anchor, due_at=due, status=STATUS_OPEN, created_by_id=actor.id, created_at=utcnow())
    followup.purpose = purpose
    db.session.add(followup)
    db.session.flush()
    audit.record("followup.create", actor=actor, record_type="followup", record_id=followup.id,
                 details={"case_id": case.id, "window": followup.window, "assignee_id": assignee_id})
    return followup


# --- attempts and completion ------------------------------------------------------------

@dataclass
class NewAttempt:
    attempted_at: datetime | None = None  # timezone-aware
    method: str = ""
    outcome: str = ""
    note: str = ""


def _open_followup(actor, followup_id: str) -> Followup:
    followup = get_followup(actor, followup_id)
    if not followup.is_open:
        raise Conflict("This follow-up is already done or cancelled.")
    return followup


def _complete(followup: Followup, actor, at: datetime, how: str) -> None:
    followup.status = STATUS_DONE
    followup.completed_at = as_utc(at)
    followup.completed_by = how
    followup.closed_by_id = actor.id
    followup.done_within_window = is_within_window(at, followup.due_at)


def record_attempt(actor, followup_id: str, data: NewAttempt, now: datetime | None = None) -> FollowupAttempt:
    """One contact attempt; an attempt that reached the person completes the follow-up
    at the attempt's time (so a call made in the window but typed in later counts)."""
    followup = _open_followup(actor, followup_id)
    if not policies.may_record_attempt(actor, followup):
        raise PermissionDenied("This follow-up belongs to another agency.")
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    at = data.attempted_at
    if at is None:
        errors["attempted_at"] = ["Enter when you tried to reach the person."]
    elif at.tzinfo is None:
        errors["attempted_at"] = ["Give the time with its time zone."]
    elif at > now + FUTURE_TOLERANCE:
        errors["attempted_at"] = ["The attempt can't be in the future."]
    elif at < as_utc(followup.anchor_at) - FUTURE_TOLERANCE:
        errors["attempted_at"] = ["The attempt can't be before the crisis it follows up."]
    if data.method not in METHODS:
        errors["method"] = ["Choose how you tried to reach the person."]
    if data.outcome not in OUTCOMES:
        errors["outcome"] = ["Choose the outcome."]
    note = clean_text(data.note, ATTEMPT_NOTE_MAX, "note", errors)
    if errors:
        raise ValidationError("Some of the attempt's details need correcting.", fields=errors)
    attempt = FollowupAttempt(followup_id=followup.id, attempted_at=at.astimezone(UTC), method=data.method,
                              outcome=data.outcome, created_by_id=actor.id, created_at=now)
    attempt.note = note or None
    db.session.add(attempt)
    completed = data.outcome in REACHING_OUTCOMES
    if completed:
        _complete(followup, actor, attempt.attempted_at, COMPLETED_BY_ATTEMPT)
    db.session.flush()
    audit.record("followup.attempt", actor=actor, record_type="followup", record_id=followup.id,
                 details={"attempt_id": attempt.id, "method": attempt.method, "outcome": attempt.outcome,
                          "completed": completed, "within_window": followup.done_within_window})
    return attempt


def _reason(reason, message: str) -> str:
    errors: dict[str, list[str]] = {}
    text = clean_text(reason, REASON_MAX, "reason", errors, required=message)
    if errors:
        raise ValidationError(errors["reason"][0], fields=errors)
    return text


def close_followup(actor, followup_id: str, reason: str, now: datetime | None = None) -> Followup:
    """The assignee (or a supervisor) marks it done without a reaching attempt, saying why."""
    followup = _open_followup(actor, followup_id)
    if not policies.may_close(actor, followup):
        raise PermissionDenied("Only the assigned clinician or a supervisor can close this follow-up.")
    text = _reason(reason, "Give the reason for closing the follow-up.")
    _complete(followup, actor, now or utcnow(), COMPLETED_BY_CLOSE)
    followup.close_reason = text
    db.session.flush()
    audit.record("followup.close", actor=actor, record_type="followup", record_id=followup.id,
                 details={"within_window": followup.done_within_window})
    return followup


def cancel_followup(actor, followup_id: str, reason: str, now: datetime | None = None) -> Followup:
    """No longer needed (the person moved away, a duplicate): cancelled, not counted as done."""
    followup = _open_followup(actor, followup_id)
    if not policies.may_close(actor, followup):
        raise PermissionDenied("Only the assigned clinician or a supervisor can cancel this follow-up.")
    text = _reason(reason, "Give the reason for cancelling the follow-up.")
    followup.status = STATUS_CANCELLED
    followup.completed_at = as_utc(now or utcnow())
    followup.closed_by_id = actor.id
    followup.close_reason = text
    db.session.flush()
    audit.record("followup.cancel", actor=actor, record_type="followup", record_id=followup.id, details={})
    return followup


def reassign_followup(actor, followup_id: str, assignee_id: str | None) -> Followup:
    policy.require(actor, Permission.FOLLOWUPS_MANAGE)
    followup = _open_followup(actor, followup_id)
    if not policies.may_reassign(actor, followup):
        raise PermissionDenied("Only a supervisor of the owning agency can reassign this follow-up.")
    eligible = {u.id: u for u in assignable_clinicians(followup.agency_id)}
    if not assignee_id or assignee_id not in eligible:
        raise ValidationError("Choose a clinician.", fields={"assignee_id": ["Choose an active clinician of the agency."]})
    if assignee_id == followup.assignee_id:
        raise ValidationError("Choose someone else.", fields={
            "assignee_id": [f"{eligible[assignee_id].display_name} already holds this follow-up."]})
    previous = followup.assignee_id
    followup.assignee_id = assignee_id
    db.session.flush()
    db.session.refresh(followup, ["assignee"])
    from clinician_app.notifications.services import notify

    notify(assignee_id, "followup_assigned", "followup", followup.id)
    audit.record("followup.reassign", actor=actor, record_type="followup", record_id=followup.id,
                 details={"assignee_id": assignee_id, "previous_assignee_id": previous})
    return followup


# --- My work ----------------------------------------------------------------------------

@dataclass
class WorkRow:
    followup: Followup
    person_name: str
    overdue: bool
    due_today: bool


@dataclass
class MyWork:
    now_rows: list[WorkRow]  # overdue first, then due today
    upcoming: list[WorkRow]
    everyone: bool  # a supervisor's view of every clinician's

    @property
    def overdue_count(self) -> int:
        return sum(1 for r in self.now_rows if r.overdue)


def local_day_bounds(day: date, tz_name: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz_name)
    start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=zone).astimezone(UTC)
    return start, end


def my_work(actor, *, everyone: bool = False, clinician_id: str | None = None,
            now: datetime | None = None) -> MyWork:
    """Open follow-ups: overdue and due today first (most overdue first), then the
    rest by due time. A supervisor may see every clinician's, or one clinician's."""
    policy.require(actor, Permission.FOLLOWUPS_WORK)
    supervisor = policy.has_permission(actor, Permission.FOLLOWUPS_MANAGE)
    if (everyone or clinician_id) and not supervisor:
        raise PermissionDenied("Only supervisors see other clinicians' follow-ups.")
    now = now or utcnow()
    stmt = policy.visible(select(Followup), actor, Followup).where(Followup.status == STATUS_OPEN)
    if clinician_id:
        stmt = stmt.where(Followup.assignee_id == clinician_id)
    elif not everyone:
        stmt = stmt.where(Followup.assignee_id == actor.id)
    followups = list(db.session.execute(stmt.order_by(Followup.due_at, Followup.id)).unique().scalars())
    _, end_of_today = local_day_bounds(to_local(now, actor.agency.timezone).date(), actor.agency.timezone)
    names = _person_names(actor, followups, view="my_work")
    now_rows, upcoming = [], []
    for f in followups:
        overdue = as_utc(f.due_at) < now
        row = WorkRow(f, names.get(f.case_id, ""), overdue, not overdue and as_utc(f.due_at) < end_of_today)
        (now_rows if overdue or row.due_today else upcoming).append(row)
    return MyWork(now_rows=now_rows, upcoming=upcoming, everyone=bool(everyone or clinician_id))


def _person_names(actor, followups: list[Followup], view: str) -> dict[str, str]:
    """Case id -> the person's name, for a list a clinician works from: audited reads."""
    from clinician_app.people.models import Person

    case_ids = {f.case_id for f in followups}
    if not case_ids:
        return {}
    rows = db.session.execute(select(Case.id, Person).join(Person, Person.id == Case.person_id)
                              .where(Case.id.in_(case_ids))).all()
    for person_id in sorted({p.id for _, p in rows}):
        audit.record_at_commit("person.read", actor=actor, record_type="person", record_id=person_id, details={"view": view})
    return {case_id: person.full_name for case_id, person in rows}


def own_followups_between(actor, start: datetime, end: datetime) -> list[Followup]:
    """The actor's own follow-ups (any status) due in [start, end): the calendar's."""
    policy.require(actor, Permission.FOLLOWUPS_WORK)
    return list(db.session.execute(
        select(Followup).where(Followup.assignee_id == actor.id, Followup.due_at >= start, Followup.due_at < end)
        .order_by(Followup.due_at, Followup.id)).unique().scalars())


def own_open_followups(actor) -> list[Followup]:
    policy.require(actor, Permission.FOLLOWUPS_WORK)
    return list(db.session.execute(
        select(Followup).where(Followup.assignee_id == actor.id, Followup.status == STATUS_OPEN)
        .order_by(Followup.due_at, Followup.id)).unique().scalars())


# --- templates --------------------------------------------------------------------------

@dataclass
class NewTemplate:
    name: str = ""
    trigger_kind: str = ""
    trigger_code: str = ""
    windows: str = ""  # "24h, 72h, 7d"
    purpose: str = ""


def list_templates(actor) -> list[FollowupTemplate]:
    policy.require(actor, Permission.FOLLOWUP_TEMPLATES_EDIT)
    return list(db.session.execute(
        select(FollowupTemplate).where(FollowupTemplate.agency_id == actor.agency_id)
        .order_by(FollowupTemplate.active.desc(), FollowupTemplate.name)).scalars())


def _trigger_codes(kind: str) -> set[str]:
    if kind == TRIGGER_RISK:
        from clinician_app.triage.codes import RISK_LEVELS

        return set(RISK_LEVELS)
    from clinician_app.cases.services import active_dispositions

    return {d.code for d in active_dispositions()}


def add_template(actor, data: NewTemplate) -> FollowupTemplate:
    policy.require(actor, Permission.FOLLOWUP_TEMPLATES_EDIT)
    errors: dict[str, list[str]] = {}
    name = clean_text(data.name, TEMPLATE_NAME_MAX, "name", errors, required="Name the template.")
    if data.trigger_kind not in TRIGGER_KINDS:
        errors["trigger_kind"] = ["Choose what sets it off."]
    elif data.trigger_code not in _trigger_codes(data.trigger_kind):
        errors["trigger_code"] = ["Choose a disposition or a risk level that matches the trigger."]
    windows = []
    for raw in (data.windows or "").replace(" ", "").lower().split(","):
        if not raw:
            continue
        try:
            parse_window(raw)
        except ValueError:
            errors["windows"] = [f"Write windows like 24h, 72h, 7d (hours up to {MAX_WINDOW_HOURS}, "
                                 f"days up to {MAX_WINDOW_DAYS}); {raw!r} isn't one."]
            break
        if raw not in windows:
            windows.append(raw)
    if not windows and "windows" not in errors:
        errors["windows"] = ["Give at least one window, like 24h."]
    joined = ",".join(windows)
    if len(joined) > TEMPLATE_WINDOWS_MAX:
        errors["windows"] = ["List fewer windows."]
    purpose = clean_text(data.purpose, PURPOSE_MAX, "purpose", errors, required="Say what the follow-ups are for.")
    if errors:
        raise ValidationError("The template needs correcting.", fields=errors)
    template = FollowupTemplate(agency_id=actor.agency_id, name=name, trigger_kind=data.trigger_kind,
                                trigger_code=data.trigger_code, windows=joined, purpose=purpose, active=True,
                                created_by_id=actor.id, created_at=utcnow())
    db.session.add(template)
    db.session.flush()
    audit.record("followup_template.create", actor=actor, record_type="followup_template", record_id=template.id,
                 details={"trigger_kind": template.trigger_kind, "trigger_code": template.trigger_code,
                          "windows": joined})
    return template


def set_template_active(actor, template_id: str, active: bool) -> FollowupTemplate:
    policy.require(actor, Permission.FOLLOWUP_TEMPLATES_EDIT)
    template = db.session.get(FollowupTemplate, template_id or "")
    if template is None or template.agency_id != actor.agency_id:
        raise NotFound("That template was not found.")
    if template.active != active:
        template.active = active
        db.session.flush()
        audit.record("followup_template.activate" if active else "followup_template.deactivate", actor=actor,
                     record_type="followup_template", record_id=template.id, details={})
    return template


def ensure_template(agency_id: str, name: str, trigger_kind: str, trigger_code: str, windows: str,
                    purpose: str) -> FollowupTemplate:
    """The seed path (demo data): a template by name, created if missing."""
    template = db.session.execute(select(FollowupTemplate).where(
        FollowupTemplate.agency_id == agency_id, FollowupTemplate.name == name)).scalar_one_or_none()
    if template is None:
        template = FollowupTemplate(agency_id=agency_id, name=name, trigger_kind=trigger_kind,
                                    trigger_code=trigger_code, windows=windows, purpose=purpose, active=True)
        try:
            with db.session.begin_nested():
                db.session.add(template)
                db.session.flush()
        except IntegrityError:  # pragma: no cover - a concurrent seed
            return ensure_template(agency_id, name, trigger_kind, trigger_code, windows, purpose)
    return template


# --- the case page's timeline ---------------------------------------------------------------

def _case_followups(case, actor, *columns):
    if not policy.has_permission(actor, Permission.FOLLOWUPS_WORK):
        return None
    if not (actor.agency_id == case.agency_id or case.assignee_id == actor.id):
        return None  # break-the-glass readers see the clinical record, not the work list
    return select(*columns).where(Followup.case_id == case.id)


def _timeline_times(case, actor, limit: int):
    stmt = _case_followups(case, actor, Followup.due_at)
    return None if stmt is None else stmt.order_by(Followup.due_at.desc()).limit(limit)


def _timeline(case, actor, limit: int | None = None, since=None) -> list[timeline.TimelineItem]:
    stmt = _case_followups(case, actor, Followup)
    if stmt is None:
        return []
    from flask import has_request_context, url_for

    from .codes import STATUSES

    stmt = (stmt.options(load_only(Followup.id, Followup.status, Followup.done_within_window, Followup.due_at,
                                   Followup.window),
                         lazyload(Followup.assignee))  # what the timeline shows, nothing more
            .order_by(Followup.due_at.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(Followup.due_at >= since)
    rows = db.session.execute(stmt).unique().scalars()
    items = []
    for f in rows:
        summary = STATUSES.get(f.status, f.status)
        if f.status == STATUS_DONE:
            summary += ", within its window" if f.done_within_window else ", late"
        items.append(timeline.TimelineItem(
            at=as_utc(f.due_at), kind="followup", title=f"Follow-up due: {window_label(f.window)}", summary=summary,
            url=url_for("followups.detail", followup_id=f.id) if has_request_context() else None))
    return items


timeline.register("followups", _timeline, times=_timeline_times)
