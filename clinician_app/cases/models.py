"""Encounters (what happened when a clinician met or phoned the person), their
dispositions, the charges considered, and supervisors' closures of calls.

Dispositions are rows, not an enum: the state's list changes, and an admin adds
or retires entries without a release. The diversion fields follow what a
Massachusetts jail-diversion program reports (point of intervention, custody
diverted, emergency department visit prevented, charges considered).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.core.types import EncryptedField, UTCDateTime, encrypted_column, new_id
from clinician_app.extensions import db

from .codes import CASE_OPEN, PLAN_PENDING

DISPOSITION_CODE_MAX = 40
DISPOSITION_LABEL_MAX = 120
CHARGE_MAX = 120
NOTE_MAX = 2000
CLOSE_REASON_MAX = 500


class Disposition(db.Model):
    __tablename__ = "dispositions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(DISPOSITION_CODE_MAX), nullable=False, unique=True)
    label: Mapped[str] = mapped_column(String(DISPOSITION_LABEL_MAX), nullable=False)
    # Reports count these as a diversion (from arrest or from the emergency department).
    counts_as_diversion: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Retired entries stay, because recorded encounters point at them; forms stop offering them.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def __repr__(self) -> str:
        return f"<Disposition {self.code}>"


class Encounter(db.Model):
    __tablename__ = "encounters"
    __table_args__ = (
        Index("ix_encounters_call_started", "call_id", "started_at"),
        # Reports over every agency (0012); on PostgreSQL the counted columns ride along (0014).
        Index("ix_encounters_started", "started_at", postgresql_include=[
            "call_id", "kind", "disposition_id", "custody_diverted", "jail_diversion_option", "ed_visit_prevented"]),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), nullable=False)
    # The agency whose clinician recorded it (the town, or the BHU for routed calls).
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    disposition_id: Mapped[str] = mapped_column(ForeignKey("dispositions.id"), nullable=False)
    point_of_intervention: Mapped[str] = mapped_column(String(20), nullable=False)
    # Yes / no / not known (None): a program reports "unknown" rather than guessing.
    custody_diverted: Mapped[bool | None] = mapped_column(Boolean)
    jail_diversion_option: Mapped[bool | None] = mapped_column(Boolean)
    ed_visit_prevented: Mapped[bool | None] = mapped_column(Boolean)
    note_enc: Mapped[bytes | None] = encrypted_column()
    note = EncryptedField("note")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    disposition: Mapped[Disposition] = relationship(lazy="joined")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="joined")
    charges: Mapped[list[EncounterCharge]] = relationship(
        back_populates="encounter", lazy="selectin", order_by="EncounterCharge.position",
        cascade="all, delete-orphan")

    @property
    def minutes(self) -> int:
        return int((as_utc(self.ended_at) - as_utc(self.started_at)).total_seconds() // 60)

    @property
    def has_note(self) -> bool:
        return self.note_enc is not None

    def __repr__(self) -> str:
        return f"<Encounter {self.id}>"


class EncounterCharge(db.Model):
    """A charge the officers considered, and whether it was diverted."""

    __tablename__ = "encounter_charges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    encounter_id: Mapped[str] = mapped_column(ForeignKey("encounters.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    charge: Mapped[str] = mapped_column(String(CHARGE_MAX), nullable=False)
    diverted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)

    encounter: Mapped[Encounter] = relationship(back_populates="charges")


class CallClosure(db.Model):
    """A call a supervisor closed without an encounter, and why (the reason may name
    people, so it is encrypted)."""

    __tablename__ = "call_closures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), nullable=False, index=True)
    closed_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    reason_enc: Mapped[bytes | None] = encrypted_column()
    reason = EncryptedField("reason")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    closed_by = relationship("User", foreign_keys=[closed_by_id], lazy="joined")


class Case(db.Model):
    """An episode of care: one person, one agency, an assigned clinician, open
    until closed with an outcome. A person may have several over time; calls
    join a case through ``calls.case_id``."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_agency_status_opened", "agency_id", "status", "opened_at"),
        Index("ix_cases_assignee_status", "assignee_id", "status"),
        Index("ix_cases_person_status", "person_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), nullable=False)
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=CASE_OPEN)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(40))
    opened_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    closed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    person = relationship("Person", foreign_keys=[person_id], lazy="select")
    assignee = relationship("User", foreign_keys=[assignee_id], lazy="select")
    agency = relationship("Agency", foreign_keys=[agency_id], lazy="select")

    @classmethod
    def scope_clause(cls, user):
        """Which cases ``user`` may list: their agency's, and any assigned to them
        (a BHU clinician may hold a town's case). Matches policies.in_case_scope."""
        return or_(cls.agency_id == user.agency_id, cls.assignee_id == user.id)

    @property
    def is_open(self) -> bool:
        return self.status == CASE_OPEN

    def __repr__(self) -> str:  # ids only: safe for logs
        return f"<Case {self.id}>"


RESPONSE_FIELD_MAX = 500
RESPONSE_FIELDS = ("approach", "de_escalation", "contacts", "officer_safety")


class ResponsePlan(db.Model):
    """How responders should approach a repeat contact: four short, non-clinical
    fields, the only part of the clinical side that dispatchers and officers see,
    and only once a supervisor has approved it. Encrypted because "who to call"
    and safety notes may name people."""

    __tablename__ = "response_plans"
    __table_args__ = (
        Index("ix_response_plans_person_status", "person_id", "status"),
        Index("ix_response_plans_agency_status", "agency_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=PLAN_PENDING)
    approach_enc: Mapped[bytes | None] = encrypted_column()
    de_escalation_enc: Mapped[bytes | None] = encrypted_column()
    contacts_enc: Mapped[bytes | None] = encrypted_column()
    officer_safety_enc: Mapped[bytes | None] = encrypted_column()
    written_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    approach = EncryptedField("approach")
    de_escalation = EncryptedField("de_escalation")
    contacts = EncryptedField("contacts")
    officer_safety = EncryptedField("officer_safety")

    written_by = relationship("User", foreign_keys=[written_by_id], lazy="select")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="select")

    def __repr__(self) -> str:
        return f"<ResponsePlan {self.id}>"
