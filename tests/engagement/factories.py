"""Engagement records for the tests and the authorization matrix, stored as the
services store them (visit notes encrypted), without going through permissions."""
from __future__ import annotations

import secrets
from datetime import date, timedelta

from clinician_app.calls.addresses import normalise_address
from clinician_app.core.timeutil import utcnow
from clinician_app.engagement.models import (
    CommunityVisit,
    EngagementEvent,
    Place,
    RegionalPartnership,
    YouthProgram,
    YouthSession,
)
from clinician_app.extensions import db


def make_place(agency_id: str, *, name: str | None = None, kind: str = "school",
               address: str | None = "200 Richardson Road") -> Place:
    place = Place(agency_id=agency_id, name=name or f"Place {secrets.token_hex(3)}", kind=kind, address=address,
                  address_key=normalise_address(address) or None)
    db.session.add(place)
    db.session.flush()
    return place


def make_visit(user, place: Place | None = None, *, days_ago: float = 1, purpose: str = "Walk-through",
               notes: str | None = None, kind: str = "school", address: str | None = None,
               duration: int = 20) -> CommunityVisit:
    visit = CommunityVisit(agency_id=user.agency_id, place_id=place.id if place else None,
                           address=None if place else (address or "1 Elm Street"), kind=place.kind if place else kind,
                           started_at=utcnow() - timedelta(days=days_ago), duration_minutes=duration, purpose=purpose,
                           created_by_id=user.id)
    visit.notes = notes
    visit.officers = [user]
    db.session.add(visit)
    db.session.flush()
    return visit


def make_event(user, place: Place | None = None, *, held_on: date | None = None, title: str = "Safety night",
               attendance: int | None = 40, kind: str = "event") -> EngagementEvent:
    event = EngagementEvent(agency_id=user.agency_id, kind=kind, title=title, topic="Online safety",
                            held_on=held_on or date.today() - timedelta(days=3), place_id=place.id if place else None,
                            attendance=attendance, created_by_id=user.id)
    db.session.add(event)
    db.session.flush()
    return event


def make_partnership(user, partners=(), *, title: str = "Regional response", kind: str = "regional_response",
                     started_on: date | None = None, ended_on: date | None = None) -> RegionalPartnership:
    partnership = RegionalPartnership(agency_id=user.agency_id, kind=kind, title=title,
                                      started_on=started_on or date.today() - timedelta(days=30), ended_on=ended_on,
                                      created_by_id=user.id)
    partnership.partner_agencies = list(partners)
    db.session.add(partnership)
    db.session.flush()
    return partnership


def make_program(user, *, title: str = "Summer Academy", program: str = "academy") -> YouthProgram:
    record = YouthProgram(agency_id=user.agency_id, program=program, title=title, created_by_id=user.id)
    db.session.add(record)
    db.session.flush()
    return record


def make_session(user, program: YouthProgram, *, held_on: date | None = None, counts=(3, 4, 5),
                 place: Place | None = None) -> YouthSession:
    session = YouthSession(agency_id=program.agency_id, program_id=program.id,
                           held_on=held_on or date.today() - timedelta(days=2), activity="Basketball clinic",
                           place_id=place.id if place else None, participants_8_10=counts[0],
                           participants_11_13=counts[1], participants_14_17=counts[2], created_by_id=user.id)
    db.session.add(session)
    db.session.flush()
    return session
