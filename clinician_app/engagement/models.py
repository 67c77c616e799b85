"""Community engagement records: the town's places, officers' community visits,
events and seminars, regional partnerships, awareness posts and youth programs.

Every record belongs to one agency and is seen only there, except a regional
partnership, which its partner agencies also see (read-only; ``scope_clause``).

What is encrypted, and why the rest is not:
* A visit's notes are typed on the spot during a shift and may name the people
  met (a principal, a shop owner, a neighbour who complained), so they are
  encrypted like any other free text that may name people.
* Titles, topics, purposes, partners, descriptions, outcomes and materials are
  program-level descriptions meant for the public or for partner agencies (an
  event's title, a post's topic); the forms ask for no names in them. They stay
  in clear so lists can be filtered and exported, and reports can read them.
* Youth programs hold no children's personal data at all: participants are
  counted by age band per session (``AGE_BANDS``), never listed; a test checks
  that no youth table has a column for a name, a date of birth or a contact.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, UniqueConstraint, exists, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import EncryptedField, UTCDateTime, encrypted_column, new_id
from clinician_app.extensions import db

from .codes import AGE_BANDS

# Field limits, shared by the forms and the services (the services are the authority).
NAME_MAX = 120
ADDRESS_MAX = 200
TITLE_MAX = 200
PURPOSE_MAX = 200
NOTES_MAX = 1000
PARTNERS_MAX = 300
MATERIALS_MAX = 500
DESCRIPTION_MAX = 2000
URL_MAX = 500
MAX_DURATION_MINUTES = 24 * 60
MAX_COUNT = 100_000


def _officer_table(name: str, record_column: str, record_table: str) -> Table:
    """Who took part: one row per record and officer (users of the record's agency)."""
    return Table(
        name, db.metadata,
        Column(record_column, ForeignKey(f"{record_table}.id", ondelete="CASCADE"), primary_key=True),
        Column("user_id", ForeignKey("users.id"), primary_key=True),
    )


visit_officers = _officer_table("eng_visit_officers", "visit_id", "eng_visits")
event_officers = _officer_table("eng_event_officers", "event_id", "eng_events")
youth_session_officers = _officer_table("eng_youth_session_officers", "session_id", "eng_youth_sessions")

# The other agencies in the system a partnership is with: they see it, read-only.
partnership_agencies = Table(
    "eng_partnership_agencies", db.metadata,
    Column("partnership_id", ForeignKey("eng_partnerships.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id"), primary_key=True),
)


class Place(db.Model):
    """A school, daycare, business, neighbourhood or park in the town, so visits,
    events and calls can refer to the same place. ``address_key`` is the call
    module's normalised address, so a call at the address is matched to it."""

    __tablename__ = "places"
    __table_args__ = (
        UniqueConstraint("agency_id", "name", name="uq_places_agency_name"),
        Index("ix_places_agency_address_key", "agency_id", "address_key"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    address: Mapped[str | None] = mapped_column(String(ADDRESS_MAX))
    address_key: Mapped[str | None] = mapped_column(String(ADDRESS_MAX))
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<Place {self.id}>"


class CommunityVisit(db.Model):
    """An officer's stop during a shift: at a place from the registry, or at a
    free address (then ``kind`` says what sort of place it was)."""

    __tablename__ = "eng_visits"
    __table_args__ = (
        Index("ix_eng_visits_agency_started", "agency_id", "started_at"),
        Index("ix_eng_visits_place_started", "place_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    place_id: Mapped[str | None] = mapped_column(ForeignKey("places.id"))
    address: Mapped[str | None] = mapped_column(String(ADDRESS_MAX))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # a PLACE_KINDS code
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    duration_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    purpose: Mapped[str] = mapped_column(String(PURPOSE_MAX), nullable=False)
    notes_enc: Mapped[bytes | None] = encrypted_column()
    notes = EncryptedField("notes")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    place: Mapped[Place | None] = relationship(lazy="joined")
    officers = relationship("User", secondary=visit_officers, lazy="selectin", order_by="User.display_name")

    @property
    def where(self) -> str:
        return self.place.name if self.place is not None else (self.address or "")

    @property
    def has_notes(self) -> bool:
        return self.notes_enc is not None

    def __repr__(self) -> str:
        return f"<CommunityVisit {self.id}>"


class EngagementEvent(db.Model):
    """A community engagement event or an informational seminar."""

    __tablename__ = "eng_events"
    __table_args__ = (
        Index("ix_eng_events_agency_held", "agency_id", "held_on"),
        Index("ix_eng_events_place_held", "place_id", "held_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    topic: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    place_id: Mapped[str | None] = mapped_column(ForeignKey("places.id"))
    partners: Mapped[str | None] = mapped_column(String(PARTNERS_MAX))
    attendance: Mapped[int | None] = mapped_column(Integer)
    materials: Mapped[str | None] = mapped_column(String(MATERIALS_MAX))
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    place: Mapped[Place | None] = relationship(lazy="joined")
    officers = relationship("User", secondary=event_officers, lazy="selectin", order_by="User.display_name")

    def __repr__(self) -> str:
        return f"<EngagementEvent {self.id}>"


class RegionalPartnership(db.Model):
    """Work with other agencies. ``partner_agencies`` are agencies in this system,
    who see the partnership read-only; ``other_partners`` names the rest."""

    __tablename__ = "eng_partnerships"
    __table_args__ = (Index("ix_eng_partnerships_agency_started", "agency_id", "started_on"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    other_partners: Mapped[str | None] = mapped_column(String(PARTNERS_MAX))
    started_on: Mapped[date] = mapped_column(Date, nullable=False)
    ended_on: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_MAX))
    outcomes: Mapped[str | None] = mapped_column(String(DESCRIPTION_MAX))
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    agency = relationship("Agency", foreign_keys=[agency_id], lazy="joined")
    partner_agencies = relationship("Agency", secondary=partnership_agencies, lazy="selectin", order_by="Agency.name")

    @classmethod
    def scope_clause(cls, user):
        """The agency's own partnerships, and those it is a partner agency in."""
        shared = exists(select(partnership_agencies.c.partnership_id).where(
            partnership_agencies.c.partnership_id == cls.id, partnership_agencies.c.agency_id == user.agency_id))
        return or_(cls.agency_id == user.agency_id, shared)

    def __repr__(self) -> str:
        return f"<RegionalPartnership {self.id}>"


class AwarenessPost(db.Model):
    """A social media or other public post on crime trends, prevention or safety."""

    __tablename__ = "eng_posts"
    __table_args__ = (Index("ix_eng_posts_agency_posted", "agency_id", "posted_on"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    platform: Mapped[str] = mapped_column(String(20), nullable=False)
    posted_on: Mapped[date] = mapped_column(Date, nullable=False)
    topic: Mapped[str] = mapped_column(String(20), nullable=False)  # a POST_TOPICS code
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    url: Mapped[str | None] = mapped_column(String(URL_MAX))
    reach: Mapped[int | None] = mapped_column(Integer)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<AwarenessPost {self.id}>"


class YouthProgram(db.Model):
    """A Police Athletic League activity or a summer Youth Police Academy."""

    __tablename__ = "eng_youth_programs"
    __table_args__ = (Index("ix_eng_youth_programs_agency", "agency_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    program: Mapped[str] = mapped_column(String(20), nullable=False)  # a YOUTH_PROGRAMS code
    title: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_MAX))
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    sessions: Mapped[list[YouthSession]] = relationship(
        back_populates="program_record", lazy="select", order_by="YouthSession.held_on")

    def __repr__(self) -> str:
        return f"<YouthProgram {self.id}>"


class YouthSession(db.Model):
    """One session of a youth program: when, where, which officers, and how many
    took part in each age band. No child is named or otherwise recorded."""

    __tablename__ = "eng_youth_sessions"
    __table_args__ = (
        Index("ix_eng_youth_sessions_agency_held", "agency_id", "held_on"),
        Index("ix_eng_youth_sessions_program_held", "program_id", "held_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # The program's agency, kept here too so lists and reports filter sessions directly.
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    program_id: Mapped[str] = mapped_column(ForeignKey("eng_youth_programs.id"), nullable=False)
    held_on: Mapped[date] = mapped_column(Date, nullable=False)
    activity: Mapped[str] = mapped_column(String(TITLE_MAX), nullable=False)
    place_id: Mapped[str | None] = mapped_column(ForeignKey("places.id"))
    participants_8_10: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    participants_11_13: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    participants_14_17: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    program_record: Mapped[YouthProgram] = relationship(back_populates="sessions", lazy="joined")
    place: Mapped[Place | None] = relationship(lazy="joined")
    officers = relationship("User", secondary=youth_session_officers, lazy="selectin", order_by="User.display_name")

    @property
    def counts(self) -> dict[str, int]:
        return {band: getattr(self, f"participants_{band}") for band in AGE_BANDS}

    @property
    def participants(self) -> int:
        return sum(self.counts.values())

    def __repr__(self) -> str:
        return f"<YouthSession {self.id}>"
