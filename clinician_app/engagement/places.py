"""The places registry (schools, businesses, parks...) and what hangs on a place:
matching a call's address to a place, linking a call to one, the place's page
(its visits, events, sessions and recent calls) and the "engagement here" panel
on a call's page. Anyone who may read a call of their own agency may link it to
one of the agency's places; the registry itself is the engagement role's."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, case, func, or_, select

from clinician_app.calls.addresses import normalise_address
from clinician_app.calls.models import Call
from clinician_app.calls.services import get_call
from clinician_app.core import audit, policy
from clinician_app.core.errors import PermissionDenied
from clinician_app.core.policy import Permission, has_permission
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from . import checks, codes
from .models import ADDRESS_MAX, NAME_MAX, CommunityVisit, EngagementEvent, Place, YouthSession

PLACE_CALL_DAYS = 365
PANEL_VISIT_DAYS = 180
PANEL_EVENT_DAYS = 365
PANEL_LIMIT = 5


def list_places(actor, kind: str = "") -> list[Place]:
    policy.require(actor, Permission.ENGAGEMENT_READ)
    stmt = policy.visible(select(Place), actor, Place)
    if kind in codes.PLACE_KINDS:
        stmt = stmt.where(Place.kind == kind)
    return list(db.session.execute(stmt.order_by(Place.name)).scalars())


def place_choices(agency_id: str) -> list[Place]:
    """The agency's places, for pickers (no permission: names and kinds only)."""
    return list(db.session.execute(select(Place).where(Place.agency_id == agency_id).order_by(Place.name)).scalars())


def get_place(actor, place_id: str) -> Place:
    policy.require(actor, Permission.ENGAGEMENT_READ)
    return policy.get_visible(db.session, Place, place_id, actor)


def own_place(agency_id: str, place_id: str | None, errors: dict, name: str = "place_id") -> Place | None:
    if not place_id:
        return None
    place = db.session.get(Place, place_id)
    if place is None or place.agency_id != agency_id:
        errors[name] = ["Choose a place from the list."]
        return None
    return place


def place_for_address(agency_id: str, address: str | None) -> Place | None:
    """The agency's place whose normalised address is this one's, if any (the first by name)."""
    key = normalise_address(address)
    if not key:
        return None
    return db.session.execute(select(Place).where(Place.agency_id == agency_id, Place.address_key == key)
                              .order_by(Place.name).limit(1)).scalar_one_or_none()


@dataclass
class PlaceData:
    name: str = ""
    kind: str = ""
    address: str = ""


def _place_values(data: PlaceData) -> dict:
    errors: dict = {}
    name = checks.text(data.name, NAME_MAX, "name", errors, required="Name the place.")
    kind = checks.code(data.kind, codes.PLACE_KINDS, "kind", errors, "Choose what kind of place it is.")
    address = checks.text(data.address, ADDRESS_MAX, "address", errors)
    checks.raise_if(errors)
    return {"name": name, "kind": kind, "address": address, "address_key": normalise_address(address) or None}


def _check_name_free(agency_id: str, name: str, place_id: str | None = None) -> None:
    stmt = select(Place.id).where(Place.agency_id == agency_id, func.lower(Place.name) == name.lower())
    if place_id:
        stmt = stmt.where(Place.id != place_id)
    if db.session.execute(stmt.limit(1)).first() is not None:
        checks.raise_if({"name": ["Your agency already has a place with this name."]})


def create_place(actor, data: PlaceData) -> Place:
    policy.require(actor, Permission.ENGAGEMENT_MANAGE)
    values = _place_values(data)
    _check_name_free(actor.agency_id, values["name"])
    place = Place(agency_id=actor.agency_id, created_by_id=actor.id, created_at=utcnow(), **values)
    db.session.add(place)
    db.session.flush()
    audit.record("engagement.place_create", actor=actor, record_type="place", record_id=place.id,
                 details={"kind": place.kind})
    return place


def update_place(actor, place_id: str, data: PlaceData) -> Place:
    policy.require(actor, Permission.ENGAGEMENT_MANAGE)
    place = policy.get_visible(db.session, Place, place_id, actor)
    values = _place_values(data)
    _check_name_free(place.agency_id, values["name"], place.id)
    for key, value in values.items():
        setattr(place, key, value)
    db.session.flush()
    audit.record("engagement.place_update", actor=actor, record_type="place", record_id=place.id,
                 details={"kind": place.kind})
    return place


def _at_place(place: Place):
    """Calls at the place: linked to it, or (not linked elsewhere) at its address."""
    linked = Call.place_id == place.id
    if not place.address_key:
        return linked
    return or_(linked, and_(Call.place_id.is_(None), Call.agency_id == place.agency_id,
                            Call.address_key == place.address_key))


@dataclass
class PlaceCalls:
    """Calls at a place in the last year: non-clinical fields only (number, time,
    type, status, co-response flag). The call's page shows the rest to whom may see it."""

    total: int
    co_response: int
    items: list[Call]
    days: int = PLACE_CALL_DAYS


def calls_at_place(actor, place: Place, limit: int = 25) -> PlaceCalls | None:
    """None for a user who may not read calls (the engagement role)."""
    if not has_permission(actor, Permission.CALLS_READ):
        return None
    stmt = policy.visible(select(Call), actor, Call).where(
        _at_place(place), Call.received_at >= utcnow() - timedelta(days=PLACE_CALL_DAYS))
    rows = stmt.subquery()
    total, flagged = db.session.execute(select(func.count(), func.coalesce(func.sum(
        case((rows.c.co_response.is_(True), 1), else_=0)), 0)).select_from(rows)).one()
    items = db.session.execute(stmt.order_by(Call.received_at.desc(), Call.id).limit(limit)).scalars().all()
    return PlaceCalls(total=int(total), co_response=int(flagged or 0), items=list(items))


def _latest_at(actor, model, place_id: str, column, limit: int, since=None) -> list:
    """The actor's visible records of one kind at a place, newest first (since a time or day, if given)."""
    stmt = policy.visible(select(model), actor, model).where(model.place_id == place_id)
    if since is not None:
        stmt = stmt.where(column >= since)
    return db.session.execute(stmt.order_by(column.desc()).limit(limit)).scalars().unique().all()


def place_page(actor, place_id: str) -> dict:
    place = get_place(actor, place_id)
    return {"place": place,
            "visits": _latest_at(actor, CommunityVisit, place.id, CommunityVisit.started_at, 25),
            "events": _latest_at(actor, EngagementEvent, place.id, EngagementEvent.held_on, 25),
            "sessions": _latest_at(actor, YouthSession, place.id, YouthSession.held_on, 25),
            "calls": calls_at_place(actor, place)}


def call_panel(actor, call: Call) -> dict:
    """What a call's page shows about engagement at its place: the linked place (or
    the agency's place at the call's address, as a suggestion), and that place's
    recent visits and events for those who read engagement records. Anyone who may
    read a call of their own agency may link it to a place."""
    place = db.session.get(Place, call.place_id) if call.place_id else None
    suggested = None
    if place is None:
        suggested = place_for_address(call.agency_id, call.address)
    shown = place or suggested
    own_agency = call.agency_id == actor.agency_id
    panel = {"place": place, "suggested": suggested, "visits": [], "events": [],
             "can_read": has_permission(actor, Permission.ENGAGEMENT_READ) and own_agency,
             "can_link": has_permission(actor, Permission.CALLS_READ) and own_agency, "places": [],
             "codes": codes}
    if shown is not None and panel["can_read"]:
        now = utcnow()
        panel["visits"] = _latest_at(actor, CommunityVisit, shown.id, CommunityVisit.started_at, PANEL_LIMIT,
                                     since=now - timedelta(days=PANEL_VISIT_DAYS))
        panel["events"] = _latest_at(actor, EngagementEvent, shown.id, EngagementEvent.held_on, PANEL_LIMIT,
                                     since=(now - timedelta(days=PANEL_EVENT_DAYS)).date())
    if panel["can_link"]:
        panel["places"] = place_choices(call.agency_id)
    return panel


def link_call_to_place(actor, call_id: str, place_id: str | None) -> Call:
    """Link a call of the actor's own agency to one of its places (None unlinks)."""
    call = get_call(actor, call_id)
    if call.agency_id != actor.agency_id:
        raise PermissionDenied("Only the call's agency links it to one of its places.")
    errors: dict = {}
    place = own_place(call.agency_id, place_id, errors)
    checks.raise_if(errors)
    call.place_id = place.id if place else None
    db.session.flush()
    audit.record("call.place_link", actor=actor, record_type="call", record_id=call.id,
                 details={"place_id": call.place_id})
    return call
