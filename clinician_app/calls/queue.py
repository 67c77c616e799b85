"""The co-response queue: the flagged calls a clinician, BHU clinician or
supervisor may work, most urgent first, then oldest first.

The page is read under pressure and re-read every few seconds by every open
queue, so it costs a fixed number of queries whatever its length (the town and
the holder come joined in the one SELECT, and the row limit is checked by
fetching one row more rather than counting) and little CPU per row: the SELECT
names only the columns the page shows (never the encrypted narrative or notes,
so nothing is decrypted), and everything a row displays (labels, tags, age,
overdue, links, which actions apply) is worked out here in one pass, so the
template only writes strings out. That also lets tests check them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import case, select
from sqlalchemy.engine import Row

from clinician_app.agencies.models import Agency
from clinician_app.auth.models import User
from clinician_app.core import policy
from clinician_app.core.policy import Permission, requires
from clinician_app.core.timeutil import as_utc, format_local, utcnow
from clinician_app.extensions import db

from . import codes
from .models import Call, caution_column, indicator_column
from .views import bp

QUEUE_STATUSES = (codes.STATUS_FLAGGED, codes.STATUS_TRIAGED, codes.STATUS_ASSIGNED, codes.STATUS_ON_SCENE)
# Still waiting for a clinician to reach the person: the target clock runs.
WAITING_STATUSES = (codes.STATUS_FLAGGED, codes.STATUS_TRIAGED, codes.STATUS_ASSIGNED)
URGENCY_ORDER = {"now": 0, "same_day": 1, "follow_up": 2}
QUEUE_LIMIT = 100

# Tag colours (the app-tag--<kind> modifier) by urgency and status.
URGENCY_KINDS = {"now": "danger", "same_day": "warning", "follow_up": "muted"}
STATUS_KINDS = {"flagged": "warning", "on_scene": "danger"}
_INDICATOR_COLUMNS = tuple((indicator_column(code), label) for code, label in codes.INDICATORS.items())
_CAUTION_COLUMNS = tuple((caution_column(code), label) for code, label in codes.CAUTIONS.items())
_TARGET_COLUMNS = {"now": "target_now_minutes", "same_day": "target_same_day_minutes",
                   "follow_up": "target_follow_up_minutes"}


@dataclass(slots=True)
class QueueRow:
    """One queued call, with what its row shows already worked out."""

    call: Row  # the queried columns (id, incident_number, status, ...), not an ORM Call
    minutes_waiting: int
    target_minutes: int | None
    overdue: bool
    may_claim: bool
    repeat_contact: bool = False  # the linked person has had repeated calls lately
    urgency_label: str = ""
    urgency_kind: str = ""
    type_label: str = ""
    tags: tuple[tuple[str, str], ...] = ()  # (kind, label): indicators, then cautions
    status_label: str = ""
    status_kind: str = ""
    holder_text: str = ""  # "Held by ..." or "Unclaimed", and where it was routed
    may_triage: bool = False
    may_record: bool = False

    @property
    def waiting_text(self) -> str:
        return waiting_text(self.minutes_waiting)


def waiting_text(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {rest:02d} min"
    return f"{hours // 24} d {hours % 24} h"


@dataclass
class Queue:
    rows: list[QueueRow]
    more: bool  # more calls wait than the page shows
    generated_at: datetime

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.rows if row.overdue)


def queue_statement(actor):
    urgency_rank = case(URGENCY_ORDER, value=Call.urgency, else_=len(URGENCY_ORDER))
    stmt = (
        select(Call.id, Call.incident_number, Call.call_type, Call.urgency, Call.status, Call.flagged_at,
               Call.received_at, Call.first_contact_at, Call.route, Call.outside_service, Call.route_agency_id,
               Call.assignee_id, Call.person_id,
               *(getattr(Call, column) for column, _label in _INDICATOR_COLUMNS + _CAUTION_COLUMNS),
               # Whether there are caution notes, not the notes: nothing is decrypted here.
               Call.caution_notes_enc.is_not(None).label("has_caution_notes"),
               Agency.code.label("agency_code"),
               *(getattr(Agency, column) for column in _TARGET_COLUMNS.values()),
               User.display_name.label("assignee_name"))
        .join(Agency, Agency.id == Call.agency_id)
        .outerjoin(User, User.id == Call.assignee_id)
    )
    return (
        policy.visible(stmt, actor, Call)
        .where(Call.co_response.is_(True), Call.status.in_(QUEUE_STATUSES))
        .order_by(urgency_rank, Call.flagged_at, Call.received_at, Call.id)
    )


def load_queue(actor, now: datetime | None = None, limit: int = QUEUE_LIMIT) -> Queue:
    policy.require(actor, Permission.QUEUE_VIEW)
    from clinician_app.cases.repeat_contacts import repeat_contacts
    from clinician_app.triage.codes import route_label
    from clinician_app.triage.policies import may_claim

    actor = getattr(actor, "_get_current_object", lambda: actor)()  # current_user: one lookup, not one per row
    now = now or utcnow()
    found = db.session.execute(queue_statement(actor).limit(limit + 1)).all()
    calls = found[:limit]
    repeats = repeat_contacts([call.person_id for call in calls], now)  # one grouped query for the page
    claimer = policy.has_permission(actor, Permission.CALLS_CLAIM)
    may_triage = policy.has_permission(actor, Permission.TRIAGE)
    may_write = policy.has_permission(actor, Permission.CASES_WRITE)
    rows = []
    for call in calls:
        since = as_utc(call.flagged_at or call.received_at)
        minutes = max(0, int((now - since).total_seconds() // 60))
        target_column = _TARGET_COLUMNS.get(call.urgency or "")
        target = getattr(call, target_column) if target_column else None
        status = call.status
        overdue = (target is not None and minutes > target and status in WAITING_STATUSES
                   and call.first_contact_at is None)
        claimable = (claimer and status == codes.STATUS_TRIAGED and call.assignee_id is None
                     and may_claim(actor, call))
        tags = [("indicator", label) for column, label in _INDICATOR_COLUMNS if getattr(call, column)]
        tags += [("danger", label) for column, label in _CAUTION_COLUMNS if getattr(call, column)]
        if call.has_caution_notes:
            tags.append(("danger", "Caution notes"))
        holder = f"Held by {call.assignee_name}" if call.assignee_id is not None else "Unclaimed"
        if call.route:
            holder = f"{holder} · {route_label(call.route, call.outside_service)}"
        rows.append(QueueRow(
            call=call, minutes_waiting=minutes, target_minutes=target, overdue=overdue, may_claim=claimable,
            repeat_contact=call.person_id in repeats,
            urgency_label=codes.URGENCIES.get(call.urgency, "None"), urgency_kind=URGENCY_KINDS.get(call.urgency, ""),
            type_label=f"{codes.CALL_TYPES.get(call.call_type, call.call_type)} · {call.agency_code}",
            tags=tuple(tags), status_label=codes.STATUS_TAGS.get(status, status), status_kind=STATUS_KINDS.get(status, ""),
            holder_text=holder, may_triage=may_triage and status in (codes.STATUS_FLAGGED, codes.STATUS_TRIAGED),
            may_record=may_write and call.assignee_id is not None and call.assignee_id == actor.id))
    return Queue(rows=rows, more=len(found) > limit, generated_at=now)


def _poll_seconds() -> int:
    return max(1, int(current_app.config.get("QUEUE_POLL_SECONDS", 15)))


def _context(queue: Queue) -> dict:
    endpoints = current_app.view_functions
    user = current_user._get_current_object()
    # URL prefixes built once per render, not once per row (ids are UUIDs: nothing to escape).
    urls = {"detail": url_for("calls.detail", call_id="x")[:-1],
            "triage": "/triage/calls/",
            "encounter": url_for("cases.new_encounter", call_id="x")[:-len("x/encounter")]}
    if "triage.screen" in endpoints:
        urls["triage"] = url_for("triage.screen", call_id="x")[:-1]
    return {"queue": queue, "poll_seconds": _poll_seconds(), "urls": urls, "csrf": generate_csrf(),
            "updated_text": format_local(queue.generated_at, user.agency.timezone, "%H:%M:%S"),
            "can_triage": "triage.screen" in endpoints,
            "can_claim": "triage.claim" in endpoints,
            "can_record": "cases.new_encounter" in endpoints}


@bp.get("/queue")
@requires(Permission.QUEUE_VIEW)
def queue():
    return render_template("calls/queue.html", **_context(load_queue(current_user)))


@bp.get("/queue/rows")
@requires(Permission.QUEUE_VIEW)
def queue_rows():
    """The queue's table alone: what the page's htmx poll swaps in."""
    return render_template("calls/_queue_rows.html", **_context(load_queue(current_user)))
