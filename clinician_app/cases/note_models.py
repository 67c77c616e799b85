"""Case notes.

Notes are append-only (SECURITY.md promise 19): nothing in the app updates or
deletes a row, and on PostgreSQL a trigger refuses it (migration 0008). A
correction is a new row whose ``addendum_to_id`` names the note it corrects.
The body is encrypted and bound to the row; listing notes touches only the
plain columns, so a list is not a read of any body.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import EncryptedField, UTCDateTime, encrypted_column, new_id
from clinician_app.extensions import db

NOTE_BODY_MAX = 10000

NOTE_KINDS = {
    "contact": "Contact",
    "collateral": "Collateral",
    "follow_up": "Follow-up",
    "consult": "Consult",
}
SENSITIVITY_NORMAL = "normal"
SENSITIVITY_PART2 = "part2"
SENSITIVITIES = {
    SENSITIVITY_NORMAL: "Normal",
    SENSITIVITY_PART2: "Substance use (42 CFR Part 2)",
}



class CaseNote(db.Model):
    __tablename__ = "case_notes"
    __table_args__ = (Index("ix_case_notes_case_created", "case_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False)
    # The case's agency, copied at writing: the Part 2 rule names the owning agency.
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    sensitivity: Mapped[str] = mapped_column(String(8), nullable=False, default=SENSITIVITY_NORMAL)
    addendum_to_id: Mapped[str | None] = mapped_column(ForeignKey("case_notes.id"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    body_enc: Mapped[bytes | None] = encrypted_column(nullable=False)
    body = EncryptedField("body")

    author = relationship("User", foreign_keys=[author_id], lazy="joined")

    @property
    def is_part2(self) -> bool:
        return self.sensitivity == SENSITIVITY_PART2

    @property
    def is_addendum(self) -> bool:
        return self.addendum_to_id is not None

    def __repr__(self) -> str:  # ids only: safe for logs
        return f"<CaseNote {self.id}>"
