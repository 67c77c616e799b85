"""Follow-up tasks on a case, their contact attempts, the agency's templates that
schedule them, and the log that keeps the daily reminder to one per person per day.

Purposes typed by hand, closing reasons and attempt notes may name people, so
they are encrypted; a template's purpose is an agency setting, not PHI.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.core.types import EncryptedField, UTCDateTime, encrypted_column, new_id
from clinician_app.extensions import db

from .codes import STATUS_OPEN

PURPOSE_MAX = 300
REASON_MAX = 500
ATTEMPT_NOTE_MAX = 500
TEMPLATE_NAME_MAX = 120
TEMPLATE_WINDOWS_MAX = 60


class FollowupTemplate(db.Model):
    """"After a call like this, follow up at these windows": applied when an
    encounter is recorded whose disposition (or the call's triage risk) matches."""

    __tablename__ = "followup_templates"
    __table_args__ = (Index("ix_followup_templates_agency_active", "agency_id", "active"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(TEMPLATE_NAME_MAX), nullable=False)
    trigger_kind: Mapped[str] = mapped_column(String(12), nullable=False)
    trigger_code: Mapped[str] = mapped_column(String(40), nullable=False)
    windows: Mapped[str] = mapped_column(String(TEMPLATE_WINDOWS_MAX), nullable=False)  # "24h,72h,7d"
    purpose: Mapped[str] = mapped_column(String(PURPOSE_MAX), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    @property
    def window_codes(self) -> list[str]:
        return [w for w in self.windows.split(",") if w]

    def __repr__(self) -> str:
        return f"<FollowupTemplate {self.id}>"


class Followup(db.Model):
    __tablename__ = "followups"
    __table_args__ = (
        Index("ix_followups_assignee_status_due", "assignee_id", "status", "due_at"),
        Index("ix_followups_agency_status_due", "agency_id", "status", "due_at"),
        Index("ix_followups_case_due", "case_id", "due_at"),  # the case page's timeline (0012)
        # Reports over every agency (0012); on PostgreSQL the counted columns ride along (0014).
        Index("ix_followups_due", "due_at", postgresql_include=["status", "done_within_window"]),
        # One follow-up per window per encounter: recording twice can't double them.
        UniqueConstraint("encounter_id", "window", name="uq_followups_encounter_window"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), nullable=False)
    encounter_id: Mapped[str | None] = mapped_column(ForeignKey("encounters.id"))
    template_id: Mapped[str | None] = mapped_column(ForeignKey("followup_templates.id"))
    assignee_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    window: Mapped[str] = mapped_column(String(12), nullable=False)
    anchor_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)  # the crisis
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    purpose_enc: Mapped[bytes | None] = encrypted_column()
    purpose = EncryptedField("purpose")
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=STATUS_OPEN)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(12))  # "attempt" or "closed"
    # Kept for reports: was it done by its due time (inclusive)? None until done.
    done_within_window: Mapped[bool | None] = mapped_column(Boolean)
    close_reason_enc: Mapped[bytes | None] = encrypted_column()
    close_reason = EncryptedField("close_reason")
    closed_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    case = relationship("Case", foreign_keys=[case_id], lazy="select")
    attempts: Mapped[list[FollowupAttempt]] = relationship(
        back_populates="followup", lazy="select", order_by="FollowupAttempt.attempted_at")

    @classmethod
    def scope_clause(cls, user):
        """The agency's follow-ups, and any assigned to the user (like cases)."""
        return or_(cls.agency_id == user.agency_id, cls.assignee_id == user.id)

    @property
    def is_open(self) -> bool:
        return self.status == STATUS_OPEN

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and as_utc(self.due_at) < now

    def __repr__(self) -> str:
        return f"<Followup {self.id}>"


class FollowupAttempt(db.Model):
    __tablename__ = "followup_attempts"
    __table_args__ = (Index("ix_followup_attempts_followup_at", "followup_id", "attempted_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    followup_id: Mapped[str] = mapped_column(ForeignKey("followups.id"), nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    method: Mapped[str] = mapped_column(String(12), nullable=False)
    outcome: Mapped[str] = mapped_column(String(20), nullable=False)
    note_enc: Mapped[bytes | None] = encrypted_column()
    note = EncryptedField("note")
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    followup: Mapped[Followup] = relationship(back_populates="attempts")
    created_by = relationship("User", foreign_keys=[created_by_id], lazy="joined")

    @property
    def has_note(self) -> bool:
        return self.note_enc is not None


class ReminderLog(db.Model):
    """One daily reminder per person per local day: the unique row is written in
    the reminder's transaction, so a second run (or a concurrent one) sends nothing."""

    __tablename__ = "reminder_logs"
    __table_args__ = (UniqueConstraint("user_id", "local_date", name="uq_reminder_logs_user_date"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    local_date: Mapped[date] = mapped_column(Date, nullable=False)
    due_today: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    overdue: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    emailed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
