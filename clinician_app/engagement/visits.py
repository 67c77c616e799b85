"""Community visits: an officer's stop at a place of the registry or at a typed
address. Officers and the engagement role record them (``ENGAGEMENT_WRITE``);
their notes may name people, so they are encrypted and every read is audited."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from clinician_app.core import audit, policy
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db

from . import checks, codes, places
from .models import ADDRESS_MAX, MAX_DURATION_MINUTES, NOTES_MAX, PURPOSE_MAX, CommunityVisit

FUTURE_TOLERANCE = timedelta(minutes=5)  # clock drift between a phone and the server


@dataclass
class VisitData:
    place_id: str | None = None
    address: str = ""
    kind: str = ""
    started_at: datetime | None = None  # timezone-aware
    duration_minutes: int | str | None = None
    officer_ids: list[str] = field(default_factory=list)
    purpose: str = ""
    notes: str = ""


def record_visit(actor, data: VisitData) -> CommunityVisit:
    """An officer's stop: at a place of the registry (its kind is the place's), or
    at a free address with the kind of place typed in."""
    policy.require(actor, Permission.ENGAGEMENT_WRITE)
    errors: dict = {}
    place = places.own_place(actor.agency_id, data.place_id, errors)
    address = checks.text(data.address, ADDRESS_MAX, "address", errors)
    if place is None and not address and "place_id" not in errors and "address" not in errors:
        errors["address"] = ["Choose a place, or type the address you visited."]
    if place is not None:
        kind = place.kind
    elif data.place_id:
        kind = ""  # the place given was refused: its kind is not asked for
    else:
        kind = checks.code(data.kind, codes.PLACE_KINDS, "kind", errors, "Choose what kind of place it was.")
    started = data.started_at
    if started is None:
        errors["started_at"] = ["Enter when the visit started."]
    elif started.tzinfo is None:
        raise ValueError("started_at must be timezone-aware")
    elif as_utc(started) > utcnow() + FUTURE_TOLERANCE:
        errors["started_at"] = ["The start time can't be in the future."]
    elif started.date() < checks.EARLIEST:
        errors["started_at"] = ["Enter a time after the year 2000."]
    minutes = None
    if data.duration_minutes is None or data.duration_minutes == "":
        errors["duration_minutes"] = ["Enter how many minutes the visit took, like 20."]
    else:
        try:
            minutes = int(data.duration_minutes)
        except (TypeError, ValueError):
            errors["duration_minutes"] = ["Enter the duration in whole minutes, like 20."]
        else:
            if minutes < 0:
                errors["duration_minutes"] = ["The duration can't be negative: enter the minutes spent, like 20."]
            elif minutes == 0 or minutes > MAX_DURATION_MINUTES:
                errors["duration_minutes"] = [f"Enter a duration from 1 to {MAX_DURATION_MINUTES} minutes."]
    officers = checks.chosen_officers(actor.agency_id, data.officer_ids, errors, required=True)
    purpose = checks.text(data.purpose, PURPOSE_MAX, "purpose", errors, required="Say what the visit was for.")
    notes = checks.text(data.notes, NOTES_MAX, "notes", errors, multiline=True)
    checks.raise_if(errors)
    visit = CommunityVisit(agency_id=actor.agency_id, place_id=place.id if place else None,
                           address=None if place else address, kind=kind, started_at=as_utc(started),
                           duration_minutes=minutes, purpose=purpose, created_by_id=actor.id, created_at=utcnow())
    visit.notes = notes
    visit.officers = officers
    db.session.add(visit)
    db.session.flush()
    audit.record("engagement.visit_record", actor=actor, record_type="engagement_visit", record_id=visit.id,
                 details={"place_id": visit.place_id, "kind": kind, "officer_ids": [o.id for o in officers]})
    return visit


def read_visit(actor, visit_id: str) -> tuple[CommunityVisit, str | None]:
    """A visit and its notes (which may name people): the read is audited."""
    policy.require(actor, Permission.ENGAGEMENT_READ)
    visit = policy.get_visible(db.session, CommunityVisit, visit_id, actor)
    notes = visit.notes
    if notes is not None:
        audit.record_at_commit("engagement.visit_read", actor=actor, record_type="engagement_visit", record_id=visit.id)
    return visit, notes
