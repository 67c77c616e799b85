"""The service directory, consents, referrals and the disclosures they make.

What may name a person is encrypted: the summary a referral carries (the name
and date of birth copied from the sender's record, the reason, caution notes,
the short free text), a consent's purpose, expiry event and the names of its
signer's representative and witness, a decline's reason, and a disclosure's
recipient, description and purpose. The directory is public information and
stays in clear, so it can be searched.

Disclosures are append-only (like the audit trail): nothing in the app changes
or removes one, and on PostgreSQL a trigger refuses it (migration 0010).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, String, Table, and_, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import EncryptedField, UTCDateTime, encrypted_column, new_id
from clinician_app.extensions import db

from . import codes

SERVICE_NAME_MAX = 160
SERVICE_DESCRIPTION_MAX = 500
SERVICE_PHONE_MAX = 40
SERVICE_ADDRESS_MAX = 300
SERVICE_WEBSITE_MAX = 200
SERVICE_HOURS_MAX = 200
PURPOSE_MAX = 300
EXPIRY_EVENT_MAX = 300
NAME_MAX = 160
REASON_MAX = 500
CAUTION_NOTES_MAX = 500
SUMMARY_MAX = 1000
DECLINE_REASON_MAX = 500
EMERGENCY_NATURE_MAX = 500
DESCRIPTION_MAX = 500
AFFILIATION_MAX = 200
CODES_MAX = 200

service_towns = Table(
    "service_towns",
    db.metadata,
    Column("service_id", ForeignKey("service_directory.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
)


class ServiceEntry(db.Model):
    """A service people are referred to: regional, kept by supervisors and admins."""

    __tablename__ = "service_directory"
    __table_args__ = (Index("ix_service_directory_active_name", "active", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(SERVICE_NAME_MAX), nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    description: Mapped[str] = mapped_column(String(SERVICE_DESCRIPTION_MAX), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(SERVICE_PHONE_MAX), nullable=False, default="")
    address: Mapped[str] = mapped_column(String(SERVICE_ADDRESS_MAX), nullable=False, default="")
    website: Mapped[str] = mapped_column(String(SERVICE_WEBSITE_MAX), nullable=False, default="")
    hours: Mapped[str] = mapped_column(String(SERVICE_HOURS_MAX), nullable=False, default="")
    serves_all_towns: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    towns = relationship("Agency", secondary=service_towns, lazy="selectin", order_by="Agency.name")

    @property
    def kind_label(self) -> str:
        return codes.SERVICE_KINDS.get(self.kind, self.kind)

    def serves(self, agency_id: str) -> bool:
        return self.serves_all_towns or any(t.id == agency_id for t in self.towns)

    def __repr__(self) -> str:
        return f"<ServiceEntry {self.id}>"


class Consent(db.Model):
    """A person's consent to disclose, with the elements 42 CFR 2.31 requires."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_person_signed", "person_id", "signed_on"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Who discloses: the agency that holds the person's record.
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), nullable=False)
    recipient_kind: Mapped[str] = mapped_column(String(12), nullable=False)
    recipient_agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"))
    recipient_service_id: Mapped[str | None] = mapped_column(ForeignKey("service_directory.id"))
    recipient_class: Mapped[str | None] = mapped_column(String(40))
    categories: Mapped[str] = mapped_column(String(CODES_MAX), nullable=False)
    purpose_enc: Mapped[bytes | None] = encrypted_column()
    purpose = EncryptedField("purpose")
    expires_on: Mapped[date | None] = mapped_column(Date)
    expiry_event_enc: Mapped[bytes | None] = encrypted_column()
    expiry_event = EncryptedField("expiry_event")
    expiry_event_on: Mapped[date | None] = mapped_column(Date)  # the day the event happened
    signed_on: Mapped[date] = mapped_column(Date, nullable=False)
    signed_method: Mapped[str] = mapped_column(String(20), nullable=False)
    signed_by: Mapped[str] = mapped_column(String(20), nullable=False, default="person")
    representative_name_enc: Mapped[bytes | None] = encrypted_column()
    representative_name = EncryptedField("representative_name")
    witness_name_enc: Mapped[bytes | None] = encrypted_column()
    witness_name = EncryptedField("witness_name")
    revoked_on: Mapped[date | None] = mapped_column(Date)
    revoked_by: Mapped[str | None] = mapped_column(String(20))
    revocation_recorded_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    revocation_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    recipient_agency = relationship("Agency", foreign_keys=[recipient_agency_id], lazy="joined")
    recipient_service = relationship(ServiceEntry, foreign_keys=[recipient_service_id], lazy="joined")
    agency = relationship("Agency", foreign_keys=[agency_id], lazy="joined")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id], lazy="joined")

    @property
    def category_codes(self) -> list[str]:
        return codes.split_codes(self.categories)

    @property
    def covers_substance_use(self) -> bool:
        return codes.CATEGORY_SUBSTANCE_USE in self.category_codes

    @property
    def recipient_label(self) -> str:
        if self.recipient_kind == codes.RECIPIENT_AGENCY and self.recipient_agency is not None:
            return self.recipient_agency.name
        if self.recipient_kind == codes.RECIPIENT_SERVICE and self.recipient_service is not None:
            return self.recipient_service.name
        return codes.RECIPIENT_CLASSES.get(self.recipient_class or "", self.recipient_class or "")

    def __repr__(self) -> str:
        return f"<Consent {self.id}>"


class Referral(db.Model):
    """A referral from a case: to a service (status tracked by the sender), or to
    another agency (a transfer the receiver accepts or declines). Only the summary
    columns cross agencies; the sender's case and person stay the sender's."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_from_status_sent", "from_agency_id", "status", "sent_at"),
        Index("ix_referrals_to_status_sent", "to_agency_id", "status", "sent_at"),
        Index("ix_referrals_case", "case_id"),
        # A case's referrals are those it sent or received (case_id OR received_case_id) (0012).
        Index("ix_referrals_received_case", "received_case_id"),
        Index("ix_referrals_consent_status", "consent_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    from_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), nullable=False)
    to_agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"))
    service_id: Mapped[str | None] = mapped_column(ForeignKey("service_directory.id"))
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    shares_information: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    includes_part2: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    categories: Mapped[str] = mapped_column(String(CODES_MAX), nullable=False, default="")
    basis: Mapped[str | None] = mapped_column(String(24))
    consent_id: Mapped[str | None] = mapped_column(ForeignKey("consents.id"))
    # The minimum-necessary summary.
    person_first_name_enc: Mapped[bytes | None] = encrypted_column()
    person_first_name = EncryptedField("person_first_name")
    person_last_name_enc: Mapped[bytes | None] = encrypted_column()
    person_last_name = EncryptedField("person_last_name")
    person_date_of_birth_enc: Mapped[bytes | None] = encrypted_column()
    person_date_of_birth = EncryptedField("person_date_of_birth")  # ISO text
    reason_enc: Mapped[bytes | None] = encrypted_column()
    reason = EncryptedField("reason")
    risk_level: Mapped[str | None] = mapped_column(String(12))
    cautions: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    caution_notes_enc: Mapped[bytes | None] = encrypted_column()
    caution_notes = EncryptedField("caution_notes")
    requested_action: Mapped[str | None] = mapped_column(String(20))
    summary_text_enc: Mapped[bytes | None] = encrypted_column()
    summary_text = EncryptedField("summary_text")
    emergency_nature_enc: Mapped[bytes | None] = encrypted_column()
    emergency_nature = EncryptedField("emergency_nature")
    emergency_recipient_enc: Mapped[bytes | None] = encrypted_column()
    emergency_recipient = EncryptedField("emergency_recipient")
    sent_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # The receiver's decision (agency referrals).
    decided_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason_enc: Mapped[bytes | None] = encrypted_column()
    decline_reason = EncryptedField("decline_reason")
    received_case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_reason: Mapped[str | None] = mapped_column(String(24))
    # The sender's tracking (service referrals).
    status_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_updated_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))

    from_agency = relationship("Agency", foreign_keys=[from_agency_id], lazy="joined")
    to_agency = relationship("Agency", foreign_keys=[to_agency_id], lazy="joined")
    service = relationship(ServiceEntry, foreign_keys=[service_id], lazy="joined")
    sent_by = relationship("User", foreign_keys=[sent_by_id], lazy="joined")
    decided_by = relationship("User", foreign_keys=[decided_by_id], lazy="select")
    consent = relationship(Consent, foreign_keys=[consent_id], lazy="select")

    @classmethod
    def scope_clause(cls, user):
        """The sending agency's referrals, and agency referrals sent to the user's agency."""
        return or_(cls.from_agency_id == user.agency_id,
                   and_(cls.kind == codes.KIND_AGENCY, cls.to_agency_id == user.agency_id))

    @property
    def is_agency(self) -> bool:
        return self.kind == codes.KIND_AGENCY

    @property
    def status_label(self) -> str:
        return codes.status_label(self.kind, self.status)

    @property
    def recipient_label(self) -> str:
        if self.is_agency:
            return self.to_agency.name if self.to_agency is not None else ""
        return self.service.name if self.service is not None else ""

    @property
    def caution_codes(self) -> list[str]:
        return codes.split_codes(self.cautions)

    @property
    def category_codes(self) -> list[str]:
        return codes.split_codes(self.categories)

    @property
    def person_name(self) -> str:
        return " ".join(p for p in (self.person_first_name, self.person_last_name) if p)

    def __repr__(self) -> str:
        return f"<Referral {self.id}>"


class Disclosure(db.Model):
    """One disclosure of a person's information, for the accounting of disclosures
    (45 CFR 164.528, 42 CFR 2.25): written in the transaction that shares."""

    __tablename__ = "disclosures"
    __table_args__ = (
        Index("ix_disclosures_person_at", "person_id", "disclosed_at"),
        Index("ix_disclosures_agency_at", "agency_id", "disclosed_at"),
        Index("ix_disclosures_referral", "referral_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), nullable=False)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"))
    referral_id: Mapped[str | None] = mapped_column(ForeignKey("referrals.id"))
    consent_id: Mapped[str | None] = mapped_column(ForeignKey("consents.id"))
    basis: Mapped[str] = mapped_column(String(24), nullable=False)
    disclosed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    disclosed_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    recipient_kind: Mapped[str] = mapped_column(String(12), nullable=False)
    recipient_agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"))
    recipient_service_id: Mapped[str | None] = mapped_column(ForeignKey("service_directory.id"))
    # As they were when disclosed: the directory may change later.
    recipient_name_enc: Mapped[bytes | None] = encrypted_column()
    recipient_name = EncryptedField("recipient_name")
    recipient_affiliation_enc: Mapped[bytes | None] = encrypted_column()
    recipient_affiliation = EncryptedField("recipient_affiliation")
    recipient_address_enc: Mapped[bytes | None] = encrypted_column()
    recipient_address = EncryptedField("recipient_address")
    categories: Mapped[str] = mapped_column(String(CODES_MAX), nullable=False)
    includes_part2: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    description_enc: Mapped[bytes | None] = encrypted_column()
    description = EncryptedField("description")
    purpose_enc: Mapped[bytes | None] = encrypted_column()
    purpose = EncryptedField("purpose")
    emergency_nature_enc: Mapped[bytes | None] = encrypted_column()
    emergency_nature = EncryptedField("emergency_nature")
    notice_attached: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    consent_copy_enc: Mapped[bytes | None] = encrypted_column()
    consent_copy = EncryptedField("consent_copy", kind="json")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    disclosed_by = relationship("User", foreign_keys=[disclosed_by_id], lazy="joined")

    @property
    def category_codes(self) -> list[str]:
        return codes.split_codes(self.categories)

    @property
    def basis_label(self) -> str:
        return codes.BASES.get(self.basis, self.basis)

    def __repr__(self) -> str:
        return f"<Disclosure {self.id}>"
