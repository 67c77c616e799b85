"""The auditor's reading of the audit trail: filtered, paged listing, CSV export
and chain verification. Auditors see the events of their own agency only; the
chain check covers the whole chain, since a gap anywhere breaks every link after it.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, exists, func, select

from clinician_app.core import audit
from clinician_app.core.audit import AuditEvent, VerifyResult, verify_chain
from clinician_app.core.csv_export import csv_text
from clinician_app.core.errors import ValidationError
from clinician_app.core.keyfile import current_keys
from clinician_app.core.policy import Permission, require, visible
from clinician_app.core.timeutil import format_local, utcnow
from clinician_app.extensions import db

PER_PAGE = 50
EXPORT_BATCH = 1000
# An action is "domain.verb"; a trailing "*" asks for every action starting with the rest.
ACTION_RE = re.compile(r"^[a-z0-9_.:-]{1,80}\*?$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Keeps a computed day boundary inside what datetime and both databases can hold.
EARLIEST_YEAR, LATEST_YEAR = 1970, 9998


@dataclass(frozen=True)
class AuditFilter:
    """What the auditor asked for; empty strings and None mean "any"."""

    username: str = ""
    action: str = ""
    record_type: str = ""
    record_id: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def query_args(self) -> dict[str, str]:
        """The filter as URL parameters (named like the form's fields), blanks left out."""
        values = {"user": self.username, "action": self.action, "record_type": self.record_type,
                  "record_id": self.record_id,
                  "date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in values.items() if v}


@dataclass
class EventPage:
    events: list[AuditEvent]
    total: int
    newer_than: int | None  # cursor for the page of newer events, if there is one
    older_than: int | None  # cursor for the page of older events, if there is one


def clean_filter(actor, raw: AuditFilter) -> AuditFilter:
    """Normalise and check a filter; raises ValidationError naming each bad field."""
    require(actor, Permission.AUDIT_READ)
    errors: dict[str, list[str]] = {}
    cleaned = replace(
        raw,
        username=(raw.username or "").strip().lower(),
        action=(raw.action or "").strip().lower(),
        record_type=(raw.record_type or "").strip().lower(),
        record_id=(raw.record_id or "").strip(),
    )
    limits = {"user": (cleaned.username, 80), "action": (cleaned.action, 81),
              "record_type": (cleaned.record_type, 40), "record_id": (cleaned.record_id, 64)}
    for name, (value, longest) in limits.items():
        if CONTROL_RE.search(value):
            errors[name] = ["Remove the control characters."]
        elif len(value) > longest:
            errors[name] = [f"Use at most {longest} characters."]
    if "action" not in errors and cleaned.action and not ACTION_RE.match(cleaned.action):
        errors["action"] = ["Choose an action from the list, or type one like auth.signin or auth.*"]
    for name, day in (("date_from", cleaned.date_from), ("date_to", cleaned.date_to)):
        if day is not None and not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            errors[name] = [f"Enter a date between {EARLIEST_YEAR} and {LATEST_YEAR}."]
    if not errors and cleaned.date_from and cleaned.date_to and cleaned.date_to < cleaned.date_from:
        errors["date_to"] = ["The end date must be the same as or after the start date."]
    if errors:
        raise ValidationError("Please correct the highlighted filters.", fields=errors)
    return cleaned


def _day_start_utc(day: date, tz_name: str) -> datetime:
    """Midnight at the start of ``day`` in the agency's zone, as UTC (DST-aware)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def filtered_events(actor, flt: AuditFilter) -> Select:
    """The actor's agency's events matching ``flt`` (already cleaned), unordered."""
    require(actor, Permission.AUDIT_READ)
    stmt = visible(select(AuditEvent), actor, AuditEvent)
    if flt.username:
        stmt = stmt.where(AuditEvent.actor_username == flt.username)
    if flt.action.endswith("*"):
        stmt = stmt.where(AuditEvent.action.startswith(flt.action[:-1], autoescape=True))
    elif flt.action:
        stmt = stmt.where(AuditEvent.action == flt.action)
    if flt.record_type:
        stmt = stmt.where(AuditEvent.record_type == flt.record_type)
    if flt.record_id:
        stmt = stmt.where(AuditEvent.record_id == flt.record_id)
    tz_name = actor.agency.timezone
    if flt.date_from:
        stmt = stmt.where(AuditEvent.occurred_at >= _day_start_utc(flt.date_from, tz_name))
    if flt.date_to:
        stmt = stmt.where(AuditEvent.occurred_at < _day_start_utc(flt.date_to + timedelta(days=1), tz_name))
    return stmt


def list_events(actor, flt: AuditFilter, *, older_than: int | None = None, newer_than: int | None = None,
                per_page: int = PER_PAGE) -> EventPage:
    """One page, newest first. Pages are keyed on the sequence number rather than
    an offset, so events written meanwhile (an export is itself one) don't shift them."""
    base = filtered_events(actor, flt)
    if newer_than is not None:
        rows = db.session.execute(
            base.where(AuditEvent.seq > newer_than).order_by(AuditEvent.seq).limit(per_page)).scalars().all()
        rows.reverse()
    else:
        stmt = base.where(AuditEvent.seq < older_than) if older_than is not None else base
        rows = db.session.execute(stmt.order_by(AuditEvent.seq.desc()).limit(per_page)).scalars().all()
    if not rows and (older_than is not None or newer_than is not None):
        return list_events(actor, flt, per_page=per_page)  # a stale cursor: start again at the newest
    total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    newer = older = None
    if rows:
        ids = base.with_only_columns(AuditEvent.seq)
        if db.session.execute(select(exists(ids.where(AuditEvent.seq > rows[0].seq)))).scalar():
            newer = rows[0].seq
        if db.session.execute(select(exists(ids.where(AuditEvent.seq < rows[-1].seq)))).scalar():
            older = rows[-1].seq
    return EventPage(events=rows, total=total, newer_than=newer, older_than=older)


def known_actions(actor) -> list[str]:
    """Actions that occur in the actor's agency's trail, for the filter's list."""
    require(actor, Permission.AUDIT_READ)
    stmt = visible(select(AuditEvent.action), actor, AuditEvent).distinct().order_by(AuditEvent.action)
    return list(db.session.execute(stmt).scalars())


# --- export -------------------------------------------------------------------------

CSV_COLUMNS = ("seq", "occurred_at_utc", "occurred_at_local", "actor_username", "actor_id", "action", "outcome",
               "record_type", "record_id", "remote_addr", "reason", "details")
_EXPORT_FIELDS = (AuditEvent.seq, AuditEvent.occurred_at, AuditEvent.actor_username, AuditEvent.actor_id,
                  AuditEvent.action, AuditEvent.outcome, AuditEvent.record_type, AuditEvent.record_id,
                  AuditEvent.remote_addr, AuditEvent.reason, AuditEvent.details)


@dataclass
class Export:
    filename: str
    rows: int
    lines: Iterator[str]


def export_events(actor, flt: AuditFilter) -> Export:
    """Record the export, then stream every matching event before it, newest first.

    The caller commits before ``lines`` is read, so the export is on record even if
    the download is abandoned midway.
    """
    base = filtered_events(actor, flt)
    count = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    event = audit.record("audit.export", actor=actor, record_type="audit_trail",
                         details={"filters": flt.query_args(), "rows": count})
    tz_name = actor.agency.timezone
    filename = f"audit-{actor.agency.code.lower()}-{format_local(utcnow(), tz_name, '%Y-%m-%d')}.csv"
    rows = base.with_only_columns(*_EXPORT_FIELDS).where(AuditEvent.seq < event.seq)
    return Export(filename=filename, rows=count,
                  lines=_csv_lines(current_app._get_current_object(), rows, tz_name))


def _csv_lines(app, stmt: Select, tz_name: str) -> Iterator[str]:
    """The CSV text, a batch at a time. The body is read after the request has
    ended, so each batch is read in a short app context (and database session) of
    its own, none held open across a ``yield``: the server may resume the
    generator elsewhere."""
    yield csv_text([CSV_COLUMNS])
    before = None
    while True:
        # Batches keyed on seq keep memory flat however long the trail is.
        batch_stmt = stmt if before is None else stmt.where(AuditEvent.seq < before)
        with app.app_context():
            batch = db.session.execute(batch_stmt.order_by(AuditEvent.seq.desc()).limit(EXPORT_BATCH)).all()
        if not batch:
            return
        # Every cell is guarded (a reason is typed by users); seq and the times never start like a formula.
        yield csv_text([
            row.seq,
            row.occurred_at.astimezone(UTC).isoformat(timespec="seconds"),
            format_local(row.occurred_at, tz_name, "%Y-%m-%d %H:%M:%S %Z"),
            row.actor_username, row.actor_id, row.action, row.outcome, row.record_type,
            row.record_id, row.remote_addr, row.reason, row.details,
        ] for row in batch)
        before = batch[-1].seq


# --- verification ---------------------------------------------------------------------

def verify_trail(actor) -> VerifyResult:
    """Check the whole chain and put the check itself on record."""
    require(actor, Permission.AUDIT_READ)
    result = verify_chain(db.session, current_keys().audit_key)
    audit.record(
        "audit.verify", actor=actor, record_type="audit_trail",
        outcome="success" if result.ok else "failure",
        reason=None if result.ok else f"chain verification found {len(result.problems)} problem(s)",
        details={"checked": result.checked, "problems": len(result.problems), "first_bad_seq": result.first_bad_seq},
    )
    return result
