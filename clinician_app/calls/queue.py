"""The co-response queue: the flagged calls a clinician, BHU clinician or
supervisor may work, most urgent first, then oldest first.

The page is read under pressure and re-read every few seconds, so it costs a
fixed number of queries whatever its length: the town comes joined with the
call, the holder is joined in the same SELECT, and the row limit is checked by
fetching one row more rather than counting. Age and the overdue highlight are
worked out here, not in the template, so tests can check them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import case, select
from sqlalchemy.orm import defer, joinedload, noload

from clinician_app.auth.models import User
from clinician_app.core import policy
from clinician_app.core.policy import Permission, requires
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db

from . import codes
from .models import Call
from .views import bp

QUEUE_STATUSES = (codes.STATUS_FLAGGED, codes.STATUS_TRIAGED, codes.STATUS_ASSIGNED, codes.STATUS_ON_SCENE)
# Still waiting for a clinician to reach the person: the target clock runs.
WAITING_STATUSES = (codes.STATUS_FLAGGED, codes.STATUS_TRIAGED, codes.STATUS_ASSIGNED)
URGENCY_ORDER = {"now": 0, "same_day": 1, "follow_up": 2}
QUEUE_LIMIT = 100


@dataclass
class QueueRow:
    call: Call
    minutes_waiting: int
    target_minutes: int | None
    overdue: bool
    may_claim: bool
    repeat_contact: bool = False  # the linked person has had repeated calls lately

    @property
    def waiting_text(self) -> str:
        minutes = self.minutes_waiting
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
    return (
        policy.visible(select(Call), actor, Call)
        .where(Call.co_response.is_(True), Call.status.in_(QUEUE_STATUSES))
        .options(defer(Call.narrative_enc),  # clinical, and not shown here
                 joinedload(Call.assignee).load_only(User.id, User.display_name)
                 .options(noload(User.role_rows), noload(User.agency)))
        .order_by(urgency_rank, Call.flagged_at, Call.received_at, Call.id)
    )


def load_queue(actor, now: datetime | None = None, limit: int = QUEUE_LIMIT) -> Queue:
    policy.require(actor, Permission.QUEUE_VIEW)
    from clinician_app.triage.policies import may_claim

    now = now or utcnow()
    calls = list(db.session.execute(queue_statement(actor).limit(limit + 1)).unique().scalars())
    from clinician_app.cases.repeat_contacts import repeat_contacts

    repeats = repeat_contacts([call.person_id for call in calls[:limit]], now)  # one grouped query for the page
    rows = []
    for call in calls[:limit]:
        since = as_utc(call.flagged_at or call.received_at)
        minutes = max(0, int((now - since).total_seconds() // 60))
        target = call.agency.target_minutes(call.urgency)
        overdue = (target is not None and minutes > target and call.status in WAITING_STATUSES
                   and call.first_contact_at is None)
        claimable = (call.status == codes.STATUS_TRIAGED and call.assignee_id is None
                     and policy.has_permission(actor, Permission.CALLS_CLAIM) and may_claim(actor, call))
        rows.append(QueueRow(call=call, minutes_waiting=minutes, target_minutes=target, overdue=overdue,
                             may_claim=claimable, repeat_contact=call.person_id in repeats))
    return Queue(rows=rows, more=len(calls) > limit, generated_at=now)


def _poll_seconds() -> int:
    return max(1, int(current_app.config.get("QUEUE_POLL_SECONDS", 15)))


def _context(queue: Queue) -> dict:
    from clinician_app.triage.codes import route_label

    endpoints = current_app.view_functions
    # URL prefixes built once per render, not once per row (ids are UUIDs: nothing to escape).
    urls = {"detail": url_for("calls.detail", call_id="x")[:-1],
            "triage": "/triage/calls/",
            "encounter": url_for("cases.new_encounter", call_id="x")[:-len("x/encounter")]}
    if "triage.screen" in endpoints:
        urls["triage"] = url_for("triage.screen", call_id="x")[:-1]
    return {"queue": queue, "codes": codes, "route_label": route_label, "poll_seconds": _poll_seconds(),
            "urls": urls, "viewer_id": current_user.id, "csrf": generate_csrf(),
            "can_triage": "triage.screen" in endpoints and policy.has_permission(current_user, Permission.TRIAGE),
            "can_claim": "triage.claim" in endpoints,
            "can_record": "cases.new_encounter" in endpoints
            and policy.has_permission(current_user, Permission.CASES_WRITE)}


@bp.get("/queue")
@requires(Permission.QUEUE_VIEW)
def queue():
    return render_template("calls/queue.html", **_context(load_queue(current_user)))


@bp.get("/queue/rows")
@requires(Permission.QUEUE_VIEW)
def queue_rows():
    """The queue's table alone: what the page's htmx poll swaps in."""
    return render_template("calls/_queue_rows.html", **_context(load_queue(current_user)))
