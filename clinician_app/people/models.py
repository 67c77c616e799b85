"""Persons: identifying fields encrypted, report codes in clear, and an
exact-match blind index over name + date of birth (SECURITY.md promises 8, 10).

Blind index truncation (promise 10). CipherSweet's rule of thumb asks for L bits
with 2 <= R / 2**L <= sqrt(R), R the number of indexed rows: every index value
is shared by at least two rows (it does not single anyone out) yet a lookup has
at most sqrt(R) candidates to decrypt. For the region's planning size of
R ~ 100,000 persons that allows L from 9 to 15. We take L = 12, which keeps the
rule for every R from 8,192 (2 * 2**12) to 16.7 million (2**24): the lower end is
roughly what the partner towns accumulate in their first years, and the upper end
is far beyond any regional caseload. At R = 100,000 a lookup decrypts about
24 candidates (R / 4096), a fraction of a millisecond, and compares them exactly.
The alias index uses the same width: aliases are fewer than persons, so their
index is if anything less revealing.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.core.crypto import normalise_for_index
from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import (
    BlindIndexField,
    EncryptedField,
    UTCDateTime,
    blind_index_column,
    encrypted_column,
    new_id,
)
from clinician_app.extensions import db

from .codes import UNKNOWN

NAME_DOB_BITS = 12

# Field limits, shared by the form and the service (the service is the authority).
NAME_MAX = 80
ALIAS_MAX = 160
ALIASES_MAX = 20
PHONE_MAX = 40
ADDRESS_MAX = 300
NOTES_MAX = 2000
EARLIEST_BIRTH = date(1900, 1, 1)


def full_name_key(first: str | None, last: str | None) -> str:
    """The name as lookups compare it: case-folded, spaces collapsed, first then last.
    "Mary Ann" + "Smith" and "Mary" + "Ann Smith" are the same name here."""
    return normalise_for_index(f"{first or ''} {last or ''}")


def match_key(full_name: str | None, date_of_birth: date | None) -> str | None:
    """What the blind index hashes: the normalised full name and the ISO date of birth."""
    if not full_name or not full_name.strip() or date_of_birth is None:
        return None
    return f"{normalise_for_index(full_name)}|{date_of_birth.isoformat()}"


def _person_index_source(person: Person) -> str | None:
    return match_key(full_name_key(person.first_name, person.last_name), person.date_of_birth)


def _alias_index_source(alias: PersonAlias) -> str | None:
    person = alias.person
    return match_key(alias.name, person.date_of_birth if person is not None else None)


class Person(db.Model):
    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False, index=True)

    first_name_enc: Mapped[bytes | None] = encrypted_column()
    last_name_enc: Mapped[bytes | None] = encrypted_column()
    date_of_birth_enc: Mapped[bytes | None] = encrypted_column()
    phone_enc: Mapped[bytes | None] = encrypted_column()
    address_enc: Mapped[bytes | None] = encrypted_column()
    identifying_notes_enc: Mapped[bytes | None] = encrypted_column()
    name_dob_bidx: Mapped[str | None] = blind_index_column()

    # Codes that reports count; none of them identifies anyone.
    sex: Mapped[str] = mapped_column(String(40), nullable=False, default=UNKNOWN)
    race: Mapped[str] = mapped_column(String(40), nullable=False, default=UNKNOWN)
    ethnicity: Mapped[str] = mapped_column(String(40), nullable=False, default=UNKNOWN)
    veteran_status: Mapped[str] = mapped_column(String(40), nullable=False, default=UNKNOWN)
    housing_status: Mapped[str] = mapped_column(String(40), nullable=False, default=UNKNOWN)

    # A record merged into another stays (so the merge can be undone) but points on.
    merged_into_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), index=True)
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    first_name = EncryptedField("first_name")
    last_name = EncryptedField("last_name")
    _date_of_birth = EncryptedField("date_of_birth")  # ISO text; ``date_of_birth`` is the date
    phone = EncryptedField("phone")
    address = EncryptedField("address")
    identifying_notes = EncryptedField("identifying_notes")
    name_dob_index = BlindIndexField("name_dob_bidx", source=_person_index_source, bits=NAME_DOB_BITS)

    aliases: Mapped[list[PersonAlias]] = relationship(
        back_populates="person", cascade="all, delete-orphan", order_by="PersonAlias.created_at")

    @property
    def date_of_birth(self) -> date | None:
        text = self._date_of_birth
        return date.fromisoformat(text) if text else None

    @date_of_birth.setter
    def date_of_birth(self, value: date | None) -> None:
        self._date_of_birth = value.isoformat() if value is not None else None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    def __repr__(self) -> str:  # ids only: safe for logs and tracebacks
        return f"<Person {self.id}>"


class PersonAlias(db.Model):
    """Another name a person is known by, encrypted, with its own blind index
    (alias + the person's date of birth) so a lookup by that name finds them."""

    __tablename__ = "person_aliases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), nullable=False, index=True)
    name_enc: Mapped[bytes | None] = encrypted_column(nullable=False)
    alias_bidx: Mapped[str | None] = blind_index_column()
    # Set when a merge added this alias, so undoing the merge removes exactly these.
    added_by_merge_id: Mapped[str | None] = mapped_column(ForeignKey("person_merges.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    name = EncryptedField("name")
    alias_index = BlindIndexField("alias_bidx", source=_alias_index_source, bits=NAME_DOB_BITS)

    person: Mapped[Person] = relationship(back_populates="aliases")

    def __repr__(self) -> str:
        return f"<PersonAlias {self.id}>"


MERGE_REASONS = {
    "duplicate_entry": "Entered twice by mistake",
    "identity_confirmed": "Same person, confirmed by ID or records",
    "name_change": "Same person under a changed name",
    "date_of_birth_error": "Same person, date of birth mistyped on one record",
    "other": "Other (explained in the note)",
}


class PersonMerge(db.Model):
    """One merge of a duplicate record into a survivor, and what it changed.

    ``summary`` holds ids and field names only (what moved, which empty fields
    were filled, which aliases were added), never values: auditors read it. The
    free-text note is encrypted. Undoing the merge replays the summary backwards.
    """

    __tablename__ = "person_merges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False, index=True)
    survivor_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    merged_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(40), nullable=False)
    note_enc: Mapped[bytes | None] = encrypted_column()
    summary: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    merged_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    undone_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    note = EncryptedField("note")

    survivor: Mapped[Person] = relationship(foreign_keys=[survivor_id])
    merged: Mapped[Person] = relationship(foreign_keys=[merged_id])

    @property
    def reason_label(self) -> str:
        return MERGE_REASONS.get(self.reason, self.reason)

    def __repr__(self) -> str:
        return f"<PersonMerge {self.id}>"
