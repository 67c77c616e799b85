"""The on-call roster: shifts per clinician per agency, a week at a time, and who
is on duty now (routing asks this: triage/routing.py).

Shifts are stored in UTC and entered and shown in the agency's time zone. A day
in that zone is not always 24 hours (daylight-saving changes), so day bounds
are computed from local midnights, never by adding 24 hours.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clinician_app.core import audit
from clinician_app.core.errors import NotFound, ValidationError
from clinician_app.core.policy import Permission, Role, require
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db

from .models import Agency, Shift

MAX_SHIFT = timedelta(hours=24)


def roster_role(agency: Agency) -> str:
    """The role a user needs to be on this agency's roster."""
    return Role.BHU_CLINICIAN.value if agency.is_bhu else Role.CLINICIAN.value


def rosterable_users(agency: Agency) -> list:
    """Active users of the agency who may hold a shift, by display name."""
    from clinician_app.auth.models import User, UserRole

    stmt = (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(User.agency_id == agency.id, User.disabled_at.is_(None), UserRole.role == roster_role(agency))
            .order_by(User.display_name))
    return list(db.session.execute(stmt).scalars().unique())


def on_duty_now(agency_id: str, at: datetime | None = None) -> list:
    """The agency's clinicians whose shift covers ``at`` (default: now), by name.

    A shift counts only while its holder is active and still holds the roster
    role: a disabled account is not on call, whatever the roster says."""
    from clinician_app.auth.models import User, UserRole

    at = as_utc(at) or utcnow()
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        return []
    stmt = (select(User).join(Shift, Shift.user_id == User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(Shift.agency_id == agency_id, Shift.starts_at <= at, Shift.ends_at > at,
                   User.disabled_at.is_(None), UserRole.role == roster_role(agency))
            .order_by(User.display_name))
    return list(db.session.execute(stmt).scalars().unique())


def is_on_duty(agency_id: str, at: datetime | None = None) -> bool:
    return bool(on_duty_now(agency_id, at))


# --- local time -----------------------------------------------------------------------

def local_to_utc(day: date, clock: time, tz_name: str, field_name: str = "starts_at") -> datetime:
    """A wall-clock time in the agency's zone as UTC; a time skipped by the
    spring-forward change does not exist and is refused. In the repeated hour
    of the autumn change the first occurrence is meant."""
    tz = ZoneInfo(tz_name)
    local = datetime.combine(day, clock, tzinfo=tz)
    utc = local.astimezone(UTC)
    if utc.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        message = "That time does not exist on that day: the clocks change."
        raise ValidationError(message, fields={field_name: [message]})
    return utc


def local_midnight(day: date, tz_name: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


# --- changes -----------------------------------------------------------------------------

def _own_agency(actor) -> Agency:
    return db.session.get(Agency, actor.agency_id)


def add_shift(actor, data: dict) -> Shift:
    """Put a clinician on the actor's agency roster.

    ``data``: ``user_id``, ``starts_at`` and ``ends_at`` (timezone-aware)."""
    require(actor, Permission.ROSTER_EDIT)
    agency = _own_agency(actor)
    errors: dict[str, list[str]] = {}
    starts, ends = data.get("starts_at"), data.get("ends_at")
    for name, value in (("starts_at", starts), ("ends_at", ends)):
        if not isinstance(value, datetime) or value.tzinfo is None:
            errors[name] = ["Enter a date and time."]
    if not errors:
        starts, ends = as_utc(starts), as_utc(ends)
        if ends <= starts:
            errors["ends_at"] = ["The shift must end after it starts."]
        elif ends - starts > MAX_SHIFT:
            errors["ends_at"] = ["A shift can be at most 24 hours."]
    eligible = {u.id: u for u in rosterable_users(agency)}
    user = eligible.get(data.get("user_id") or "")
    if user is None:
        role = "BHU clinician" if agency.is_bhu else "department clinician"
        errors["user_id"] = [f"Choose an active {role} of your agency."]
    if errors:
        raise ValidationError("Some of the shift's details need correcting.", fields=errors)

    overlap = db.session.execute(
        select(Shift.id).where(Shift.user_id == user.id, Shift.starts_at < ends, Shift.ends_at > starts).limit(1)
    ).scalar_one_or_none()
    if overlap is not None:
        message = f"{user.display_name} already has a shift that overlaps this one."
        raise ValidationError(message, fields={"starts_at": [message]})

    shift = Shift(agency_id=agency.id, user_id=user.id, starts_at=starts, ends_at=ends, created_by_id=actor.id)
    db.session.add(shift)
    db.session.flush()
    audit.record("shift.create", actor=actor, record_type="shift", record_id=shift.id,
                 details={"user_id": user.id, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()})
    return shift


def delete_shift(actor, shift_id: str) -> None:
    require(actor, Permission.ROSTER_EDIT)
    shift = db.session.get(Shift, shift_id)
    if shift is None or shift.agency_id != actor.agency_id:
        raise NotFound("That shift was not found.")
    details = {"user_id": shift.user_id, "starts_at": as_utc(shift.starts_at).isoformat(),
               "ends_at": as_utc(shift.ends_at).isoformat()}
    db.session.delete(shift)
    db.session.flush()
    audit.record("shift.delete", actor=actor, record_type="shift", record_id=shift_id, details=details)


# --- the week view -------------------------------------------------------------------------

@dataclass
class RosterDay:
    day: date
    shifts: list[Shift] = field(default_factory=list)


@dataclass
class RosterWeek:
    agency: Agency
    start: date
    days: list[RosterDay]
    on_duty: list

    @property
    def previous(self) -> date:
        return self.start - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.start + timedelta(days=7)


def roster_week(actor, day: date | None = None) -> RosterWeek:
    """The actor's agency roster for the Monday-to-Sunday week holding ``day``
    (in the agency's zone); a shift crossing midnight is listed on both days."""
    require(actor, Permission.ROSTER_VIEW)
    agency = _own_agency(actor)
    tz = agency.timezone
    today = utcnow().astimezone(ZoneInfo(tz)).date()
    start = week_start(day or today)
    bounds = [local_midnight(start + timedelta(days=i), tz) for i in range(8)]
    shifts = list(db.session.execute(
        select(Shift).where(Shift.agency_id == agency.id, Shift.starts_at < bounds[7], Shift.ends_at > bounds[0])
        .order_by(Shift.starts_at)
    ).scalars())
    days = []
    for i in range(7):
        lo, hi = bounds[i], bounds[i + 1]
        days.append(RosterDay(start + timedelta(days=i),
                              [s for s in shifts if as_utc(s.starts_at) < hi and as_utc(s.ends_at) > lo]))
    return RosterWeek(agency=agency, start=start, days=days, on_duty=on_duty_now(agency.id))
