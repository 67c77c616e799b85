"""In-app notifications: a pointer to a record and what happened to it, never
its content (no PHI: the page renders a fixed sentence per kind)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import UTCDateTime, new_id
from clinician_app.extensions import db

KINDS = {
    "call_assigned": "A call was assigned to you.",
    "call_reassigned_away": "A call you held was reassigned to someone else.",
    "followups_due": "You have follow-ups due today or overdue.",
    "followup_assigned": "A follow-up was assigned to you.",
}


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    record_type: Mapped[str] = mapped_column(String(30), nullable=False)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def message(self) -> str:
        return KINDS.get(self.kind, "Something needs your attention.")

    def __repr__(self) -> str:
        return f"<Notification {self.id}>"
