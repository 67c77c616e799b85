"""The lists of every kind of engagement record: the filter, the agency-scoped
query behind it, a page of it, and its CSV export (visit notes are never
exported; cells a spreadsheet would run as formulas are defused)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, or_, select

from clinician_app.core import audit, policy
from clinician_app.core.csv_export import csv_text
from clinician_app.core.pagination import Page, paginate
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import format_local, utcnow
from clinician_app.extensions import db

from . import codes
from .models import (
    AwarenessPost,
    CommunityVisit,
    EngagementEvent,
    RegionalPartnership,
    YouthProgram,
    YouthSession,
    event_officers,
    visit_officers,
    youth_session_officers,
)

PER_PAGE = 50
EXPORT_LIMIT = 20_000


@dataclass
class EngagementFilter:
    date_from: date | None = None
    date_to: date | None = None
    kind: str = ""
    place_id: str = ""
    officer_id: str = ""

    def query_args(self) -> dict[str, str]:
        values = {"date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else "",
                  "kind": self.kind, "place_id": self.place_id, "officer_id": self.officer_id}
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class RecordKind:
    """How one kind of record is listed: its model, date column, kind codes and officers."""

    model: type
    kinds: dict
    kind_column: str
    date_column: str
    officers: object = None  # the association table, or None
    officer_column: str = ""
    has_place: bool = False


KINDS: dict[str, RecordKind] = {
    "visits": RecordKind(CommunityVisit, codes.PLACE_KINDS, "kind", "started_at", visit_officers, "visit_id", True),
    "events": RecordKind(EngagementEvent, codes.EVENT_KINDS, "kind", "held_on", event_officers, "event_id", True),
    "partnerships": RecordKind(RegionalPartnership, codes.PARTNERSHIP_KINDS, "kind", "started_on"),
    "posts": RecordKind(AwarenessPost, codes.POST_TOPICS, "topic", "posted_on"),
    "youth": RecordKind(YouthSession, codes.YOUTH_PROGRAMS, "program", "held_on", youth_session_officers,
                        "session_id", True),
}


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def filtered(actor, record: str, flt: EngagementFilter) -> Select:
    """The records of one kind the actor may see, narrowed by the filter, newest first.
    Dates are local days; a partnership matches a range it was running in."""
    policy.require(actor, Permission.ENGAGEMENT_READ)
    spec = KINDS[record]
    model = spec.model
    stmt = policy.visible(select(model), actor, model)
    if record == "youth":
        stmt = stmt.join(YouthProgram, YouthProgram.id == YouthSession.program_id)
        if flt.kind in spec.kinds:
            stmt = stmt.where(YouthProgram.program == flt.kind)
    elif flt.kind in spec.kinds:
        stmt = stmt.where(getattr(model, spec.kind_column) == flt.kind)
    column = getattr(model, spec.date_column)
    tz = actor.agency.timezone
    if record == "visits":
        if flt.date_from:
            stmt = stmt.where(column >= _local_midnight(flt.date_from, tz))
        if flt.date_to:
            stmt = stmt.where(column < _local_midnight(flt.date_to + timedelta(days=1), tz))
    elif record == "partnerships":
        if flt.date_to:
            stmt = stmt.where(column <= flt.date_to)
        if flt.date_from:
            stmt = stmt.where(or_(RegionalPartnership.ended_on.is_(None), RegionalPartnership.ended_on >= flt.date_from))
    else:
        if flt.date_from:
            stmt = stmt.where(column >= flt.date_from)
        if flt.date_to:
            stmt = stmt.where(column <= flt.date_to)
    if spec.has_place and flt.place_id:
        stmt = stmt.where(model.place_id == flt.place_id)
    if spec.officers is not None and flt.officer_id:
        table = spec.officers
        stmt = stmt.where(exists(select(table.c.user_id).where(
            table.c[spec.officer_column] == model.id, table.c.user_id == flt.officer_id)))
    return stmt.order_by(column.desc(), model.created_at.desc(), model.id)


def list_records(actor, record: str, flt: EngagementFilter | None = None, page: int = 1,
                 per_page: int = PER_PAGE) -> Page:
    return paginate(filtered(actor, record, flt or EngagementFilter()), page, per_page, unique=True)


def _names(users) -> str:
    return "; ".join(u.display_name for u in users)


def _csv_rows(record: str, items, tz: str) -> tuple[list[str], list[list]]:
    if record == "visits":
        return (["started_local", "place", "address", "place_kind", "duration_minutes", "officers", "purpose"],
                [[format_local(v.started_at, tz, "%Y-%m-%d %H:%M"), v.place.name if v.place else "",
                  v.address or "", codes.label(codes.PLACE_KINDS, v.kind), v.duration_minutes, _names(v.officers),
                  v.purpose] for v in items])
    if record == "events":
        return (["date", "kind", "title", "topic", "place", "partners", "attendance", "officers", "materials"],
                [[e.held_on.isoformat(), codes.label(codes.EVENT_KINDS, e.kind), e.title, e.topic,
                  e.place.name if e.place else "", e.partners or "", "" if e.attendance is None else e.attendance,
                  _names(e.officers), e.materials or ""] for e in items])
    if record == "partnerships":
        return (["started", "ended", "kind", "title", "lead_agency", "partner_agencies", "other_partners",
                 "description", "outcomes"],
                [[p.started_on.isoformat(), p.ended_on.isoformat() if p.ended_on else "",
                  codes.label(codes.PARTNERSHIP_KINDS, p.kind), p.title, p.agency.name,
                  "; ".join(a.name for a in p.partner_agencies), p.other_partners or "", p.description or "",
                  p.outcomes or ""] for p in items])
    if record == "posts":
        return (["date", "platform", "topic", "title", "link", "reach"],
                [[p.posted_on.isoformat(), codes.label(codes.PLATFORMS, p.platform),
                  codes.label(codes.POST_TOPICS, p.topic), p.title, p.url or "",
                  "" if p.reach is None else p.reach] for p in items])
    bands = [f"participants_{label}" for label in codes.AGE_BANDS.values()]
    return (["date", "program", "program_title", "activity", "place", "officers", *bands, "participants_total"],
            [[s.held_on.isoformat(), codes.label(codes.YOUTH_PROGRAMS, s.program_record.program),
              s.program_record.title, s.activity, s.place.name if s.place else "", _names(s.officers),
              *s.counts.values(), s.participants] for s in items])


@dataclass
class Export:
    filename: str
    rows: int
    text: str


def export_records(actor, record: str, flt: EngagementFilter) -> Export:
    """The filtered records as CSV (cells a spreadsheet would run as formulas are
    defused). Visit notes are never exported. The export is audited."""
    stmt = filtered(actor, record, flt)
    items = db.session.execute(stmt.limit(EXPORT_LIMIT)).scalars().unique().all()
    tz = actor.agency.timezone
    header, rows = _csv_rows(record, items, tz)
    text = csv_text([header, *rows])
    audit.record("engagement.export", actor=actor, record_type=f"engagement_{record}",
                 details={"filters": flt.query_args(), "rows": len(rows)})
    stamp = format_local(utcnow(), tz, "%Y-%m-%d")
    return Export(filename=f"engagement-{record}-{actor.agency.code.lower()}-{stamp}.csv", rows=len(rows),
                  text=text)
