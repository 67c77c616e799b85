"""Calls: what dispatch (or CAD) records, with the co-response flag and the
time of each step of the workflow.

What is sensitive is encrypted (SECURITY.md promise 8): the narrative, which
is clinical, and the caution notes, which are not clinical but may name people.
The address stays in clear, with a normalised key beside it, because dispatch
matches prior calls at a location by it.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Numeric, String, UniqueConstraint, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from clinician_app.agencies.models import Agency
from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import EncryptedField, UTCDateTime, encrypted_column, new_id
from clinician_app.extensions import db

from .addresses import ADDRESS_KEY_MAX
from .codes import CAUTIONS, INDICATORS, STATUS_FLAGGED

# Field limits, shared by the form and the service (the service is the authority).
INCIDENT_NUMBER_MAX = 40
ADDRESS_MAX = 200
CAUTION_NOTES_MAX = 500
NARRATIVE_MAX = 2000


def indicator_column(code: str) -> str:
    return f"indicator_{code}"


def caution_column(code: str) -> str:
    return f"caution_{code}"


class Call(db.Model):
    __tablename__ = "calls"
    __table_args__ = (
        UniqueConstraint("agency_id", "incident_number", name="uq_calls_agency_incident"),
        Index("ix_calls_agency_address_key", "agency_id", "address_key"),
        Index("ix_calls_agency_received", "agency_id", "received_at"),
        Index("ix_calls_agency_updated", "agency_id", "updated_at"),
        Index("ix_calls_assignee", "assignee_id"),
        Index("ix_calls_route_agency_status", "route_agency_id", "status"),
        Index("ix_calls_agency_status", "agency_id", "status"),  # the co-response queue (0006)
        Index("ix_calls_person_received", "person_id", "received_at"),  # repeat contacts (0007)
        Index("ix_calls_case_agency_received", "case_id", "agency_id", "received_at"),  # the case page (0012)
        # Reports over every agency (0012); on PostgreSQL the counted columns ride along (0014).
        Index("ix_calls_received", "received_at", postgresql_include=[
            "agency_id", "person_id", "co_response", "flagged_at", "first_contact_at"]),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    incident_number: Mapped[str] = mapped_column(String(INCIDENT_NUMBER_MAX), nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    address: Mapped[str] = mapped_column(String(ADDRESS_MAX), nullable=False)
    address_key: Mapped[str] = mapped_column(String(ADDRESS_KEY_MAX), nullable=False)
    # A place from the engagement registry (school, business), for context (migration 0011).
    place_id: Mapped[str | None] = mapped_column(ForeignKey("places.id"))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))

    call_type: Mapped[str] = mapped_column(String(30), nullable=False)
    caller_relation: Mapped[str] = mapped_column(String(30), nullable=False)
    # Null for calls recorded before it was asked, or posted by a CAD that doesn't say (0013).
    received_via: Mapped[str | None] = mapped_column(String(20))

    indicator_mental_health: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    indicator_suicidal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    indicator_substance_use: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    indicator_intoxication: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    indicator_developmental_disability: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    indicator_dementia: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    indicator_juvenile: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    caution_weapon: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    caution_violence: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    caution_hazards: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    caution_notes_enc: Mapped[bytes | None] = encrypted_column()
    caution_notes = EncryptedField("caution_notes")

    narrative_enc: Mapped[bytes | None] = encrypted_column()
    narrative = EncryptedField("narrative")

    co_response: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    urgency: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default=STATUS_FLAGGED, index=True)

    flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_scene_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Set by triage (triage/services.py). ``route`` is "department", "bhu" or
    # "outside"; ``route_agency_id`` is the agency that works the call (the town
    # itself, or the BHU), None when it went to an outside service.
    route: Mapped[str | None] = mapped_column(String(12))
    route_agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"))
    outside_service: Mapped[str | None] = mapped_column(String(20))
    acuity: Mapped[str | None] = mapped_column(String(16))
    # Claimed or assigned clinician (triage/claims.py is the only writer).
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    # Other names for the same columns, as the queue and cases code call them.
    routed_to = synonym("route")
    routed_agency_id = synonym("route_agency_id")

    # The person the call was about and the case it belongs to (cases/case_services.py
    # is the only writer; migration 0007).
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))

    source: Mapped[str] = mapped_column(String(8), nullable=False, default="form")
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    api_client_id: Mapped[str | None] = mapped_column(ForeignKey("api_clients.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # Bumped by every change, so CAD can poll for what moved since its last look.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined", foreign_keys=[agency_id])
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="select")

    @classmethod
    def scope_clause(cls, user):
        """Which calls ``user`` may list (``core.policy.visible`` applies it).

        A town's users see their town's calls; the BHU's users also see every
        call routed to the BHU from any partner town."""
        if user.agency.is_bhu:
            return or_(cls.agency_id == user.agency_id, cls.route_agency_id == user.agency_id)
        return cls.agency_id == user.agency_id

    @property
    def indicators(self) -> list[str]:
        """The indicator codes set on this call, in the order the form lists them."""
        return [code for code in INDICATORS if getattr(self, indicator_column(code))]

    @property
    def cautions(self) -> list[str]:
        return [code for code in CAUTIONS if getattr(self, caution_column(code))]

    @property
    def has_cautions(self) -> bool:
        return bool(self.cautions) or self.caution_notes_enc is not None

    def __repr__(self) -> str:  # ids only: safe for logs
        return f"<Call {self.id}>"
