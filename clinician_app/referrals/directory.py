"""The service directory: search, add and edit the services clinicians refer to.
Public service information, no PHI."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select

from clinician_app.agencies.models import Agency
from clinician_app.core import audit, policy
from clinician_app.core.errors import NotFound, ValidationError
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from . import codes
from .models import (
    SERVICE_ADDRESS_MAX,
    SERVICE_DESCRIPTION_MAX,
    SERVICE_HOURS_MAX,
    SERVICE_NAME_MAX,
    SERVICE_PHONE_MAX,
    SERVICE_WEBSITE_MAX,
    ServiceEntry,
    service_towns,
)


@dataclass
class ServiceData:
    name: str = ""
    kind: str = ""
    description: str = ""
    phone: str = ""
    address: str = ""
    website: str = ""
    hours: str = ""
    serves_all_towns: bool = False
    town_ids: list[str] = field(default_factory=list)
    active: bool = True


def town_agencies() -> list[Agency]:
    return list(db.session.execute(select(Agency).where(Agency.kind == "town").order_by(Agency.name)).scalars())


def list_services(actor, *, text: str = "", kind: str = "", town_id: str = "", include_inactive: bool = False
                  ) -> list[ServiceEntry]:
    """The directory, searched by words in the name or description, kind and town served."""
    policy.require(actor, Permission.SIGNED_IN)
    stmt = select(ServiceEntry)
    if not include_inactive:
        stmt = stmt.where(ServiceEntry.active.is_(True))
    words = (text or "").strip()[:100]
    if words:
        for word in words.split()[:6]:
            stmt = stmt.where(or_(ServiceEntry.name.ilike(f"%{word}%", escape="\\"),
                                  ServiceEntry.description.ilike(f"%{word}%", escape="\\")))
    if kind in codes.SERVICE_KINDS:
        stmt = stmt.where(ServiceEntry.kind == kind)
    if town_id:
        served = select(service_towns.c.service_id).where(service_towns.c.agency_id == town_id)
        stmt = stmt.where(or_(ServiceEntry.serves_all_towns.is_(True), ServiceEntry.id.in_(served)))
    return list(db.session.execute(stmt.order_by(ServiceEntry.name, ServiceEntry.id)).scalars())


def get_service(service_id: str) -> ServiceEntry:
    service = db.session.get(ServiceEntry, service_id) if service_id else None
    if service is None:
        raise NotFound("That service was not found.")
    return service


def save_service(actor, data: ServiceData, service_id: str | None = None) -> ServiceEntry:
    policy.require(actor, Permission.SERVICE_DIRECTORY_EDIT)
    service = get_service(service_id) if service_id else None
    errors: dict[str, list[str]] = {}
    name = clean_text(data.name, SERVICE_NAME_MAX, "name", errors, required="Name the service.", multiline=False)
    if data.kind not in codes.SERVICE_KINDS:
        errors["kind"] = ["Choose the kind of service."]
    values = {
        "description": clean_text(data.description, SERVICE_DESCRIPTION_MAX, "description", errors),
        "phone": clean_text(data.phone, SERVICE_PHONE_MAX, "phone", errors, multiline=False),
        "address": clean_text(data.address, SERVICE_ADDRESS_MAX, "address", errors),
        "website": clean_text(data.website, SERVICE_WEBSITE_MAX, "website", errors, multiline=False),
        "hours": clean_text(data.hours, SERVICE_HOURS_MAX, "hours", errors, multiline=False),
    }
    if values["website"] and not values["website"].startswith(("https://", "http://")):
        errors["website"] = ["Enter a web address starting with https://"]
    if not values["phone"] and not values["address"] and not values["website"] and "phone" not in errors:
        errors["phone"] = ["Give at least a phone number, an address or a web address."]
    towns = {a.id: a for a in town_agencies()}
    chosen = [towns[t] for t in dict.fromkeys(data.town_ids or []) if t in towns]
    if len(chosen) != len(set(data.town_ids or [])):
        errors["town_ids"] = ["Choose towns from the list."]
    elif not data.serves_all_towns and not chosen:
        errors["town_ids"] = ["Choose the towns it serves, or tick that it serves every town."]
    if errors:
        raise ValidationError("The service was not saved.", fields=errors)
    created = service is None
    if created:
        service = ServiceEntry(created_by_id=actor.id)
        db.session.add(service)
    service.name, service.kind = name, data.kind
    for key, value in values.items():
        setattr(service, key, value)
    service.serves_all_towns = bool(data.serves_all_towns)
    service.towns = [] if service.serves_all_towns else chosen
    service.active = bool(data.active)
    service.updated_at = utcnow()
    db.session.flush()
    audit.record("service.create" if created else "service.update", actor=actor, record_type="service",
                 record_id=service.id, details={"kind": service.kind, "active": service.active})
    return service


def ensure_service(data: ServiceData) -> ServiceEntry:
    """The seed path (demo data): a service by name, created if missing."""
    service = db.session.execute(select(ServiceEntry).where(ServiceEntry.name == data.name)).scalars().first()
    if service is None:
        service = ServiceEntry(name=data.name, kind=data.kind, description=data.description, phone=data.phone,
                               address=data.address, website=data.website, hours=data.hours,
                               serves_all_towns=data.serves_all_towns, active=True)
        if data.town_ids:
            service.towns = list(db.session.execute(select(Agency).where(Agency.id.in_(data.town_ids))).scalars())
        db.session.add(service)
        db.session.flush()
    return service
