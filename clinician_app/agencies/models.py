from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import UTCDateTime, new_id
from clinician_app.extensions import db

AGENCY_KINDS = {"town": "Town police department", "bhu": "Regional Behavioral Health Unit"}


class Agency(db.Model):
    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)
    code: Mapped[str] = mapped_column(String(12), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False, default="town")
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="America/New_York")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    # How long a flagged call may wait in the co-response queue, per requested
    # urgency, before the queue highlights it (minutes; migration 0006).
    target_now_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=15)
    target_same_day_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=480)
    target_follow_up_minutes: Mapped[int] = mapped_column(Integer, nullable=False, default=4320)
    # A person with this many calls within this many days is a repeat contact,
    # flagged for proactive outreach (migration 0007).
    repeat_contact_calls: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    repeat_contact_days: Mapped[int] = mapped_column(Integer, nullable=False, default=90)

    def target_minutes(self, urgency: str | None) -> int | None:
        """The queue target for a call of this urgency, or None when it has none."""
        return {"now": self.target_now_minutes, "same_day": self.target_same_day_minutes,
                "follow_up": self.target_follow_up_minutes}.get(urgency or "")

    @property
    def is_bhu(self) -> bool:
        return self.kind == "bhu"

    def __repr__(self) -> str:  # ids and codes only: safe for logs
        return f"<Agency {self.code}>"


class Shift(db.Model):
    """One clinician on call for one agency from ``starts_at`` to ``ends_at`` (UTC).

    The roster decides routing ("is the department clinician on duty now?"),
    so agencies/roster.py is the only writer and checks overlap and length."""

    __tablename__ = "shifts"
    __table_args__ = (
        Index("ix_shifts_agency_starts", "agency_id", "starts_at"),
        Index("ix_shifts_user_starts", "user_id", "starts_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    user = relationship("User", foreign_keys=[user_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<Shift {self.id}>"
