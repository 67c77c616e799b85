"""Break-the-glass grants: time-limited access to one record outside the user's
scope, with the reason given, kept for the owning agency's supervisors to review."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.core.types import EncryptedField, UTCDateTime, encrypted_column, new_id
from clinician_app.extensions import db

REASON_TEXT_MAX = 1000
REVIEW_COMMENT_MAX = 1000
BREAK_GLASS_REASONS = {
    "imminent_risk": "Imminent risk to the person",
    "risk_to_others": "Risk to others or to responders",
    "crisis_continuity": "Continuity of care during a crisis",
    "other_emergency": "Other emergency",
}
REVIEW_OUTCOMES = {"appropriate": "Appropriate", "inappropriate": "Inappropriate"}


class BreakGlassGrant(db.Model):
    """Time-limited access to one record outside the user's scope, with the
    reason given, until a supervisor of the owning agency reviews it."""

    __tablename__ = "break_glass_grants"
    __table_args__ = (
        Index("ix_break_glass_user_expires", "user_id", "expires_at"),
        Index("ix_break_glass_agency_reviewed", "agency_id", "reviewed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)  # the record's owner
    reason_code: Mapped[str] = mapped_column(String(24), nullable=False)
    reason_text_enc: Mapped[bytes | None] = encrypted_column()
    reason_text = EncryptedField("reason_text")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    reviewed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_outcome: Mapped[str | None] = mapped_column(String(16))
    review_comment_enc: Mapped[bytes | None] = encrypted_column()
    review_comment = EncryptedField("review_comment")

    user = relationship("User", foreign_keys=[user_id], lazy="joined")
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id], lazy="select")

    def active_at(self, now: datetime) -> bool:
        return as_utc(self.expires_at) > now

    def __repr__(self) -> str:
        return f"<BreakGlassGrant {self.id}>"
