"""Engagement events and seminars, recorded by the engagement role."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from clinician_app.core import audit, policy
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from . import checks, codes, places
from .models import MATERIALS_MAX, PARTNERS_MAX, TITLE_MAX, EngagementEvent


@dataclass
class EventData:
    kind: str = ""
    title: str = ""
    topic: str = ""
    held_on: date | None = None
    place_id: str | None = None
    partners: str = ""
    attendance: int | str | None = None
    officer_ids: list[str] = field(default_factory=list)
    materials: str = ""


def record_event(actor, data: EventData) -> EngagementEvent:
    policy.require(actor, Permission.ENGAGEMENT_MANAGE)
    errors: dict = {}
    kind = checks.code(data.kind, codes.EVENT_KINDS, "kind", errors, "Choose an event or a seminar.")
    title = checks.text(data.title, TITLE_MAX, "title", errors, required="Give the event a title.")
    topic = checks.text(data.topic, TITLE_MAX, "topic", errors, required="Enter the topic.")
    held_on = checks.day(data.held_on, "held_on", errors, required="Enter the date, like 2026-05-14.", today=checks.agency_today(actor))
    place = places.own_place(actor.agency_id, data.place_id, errors)
    partners = checks.text(data.partners, PARTNERS_MAX, "partners", errors)
    attendance = checks.count(data.attendance, "attendance", errors, what="attendance")
    officers = checks.chosen_officers(actor.agency_id, data.officer_ids, errors, required=False)
    materials = checks.text(data.materials, MATERIALS_MAX, "materials", errors, multiline=True)
    checks.raise_if(errors)
    event = EngagementEvent(agency_id=actor.agency_id, kind=kind, title=title, topic=topic, held_on=held_on,
                            place_id=place.id if place else None, partners=partners, attendance=attendance,
                            materials=materials, created_by_id=actor.id, created_at=utcnow())
    event.officers = officers
    db.session.add(event)
    db.session.flush()
    audit.record("engagement.event_record", actor=actor, record_type="engagement_event", record_id=event.id,
                 details={"kind": kind, "place_id": event.place_id})
    return event
