"""Triage records, routing rules and the history of who held a call."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import EncryptedField, UTCDateTime, encrypted_column, new_id
from clinician_app.extensions import db

OVERRIDE_REASON_MAX = 500
OBSERVATIONS_MAX = 4000
RULE_DESCRIPTION_MAX = 300
ASSIGN_REASON_MAX = 500


class Triage(db.Model):
    """One clinician's triage of a call. A call may be triaged again before it
    is claimed; each triage is kept, the newest is current.

    The screen's answers and the observations are clinical: encrypted, and read
    only through ``triage.services.read_triage``, which audits the read."""

    __tablename__ = "triages"
    __table_args__ = (
        Index("ix_triages_call_created", "call_id", "created_at"),
        Index("ix_triages_created", "created_at"),  # reports over every agency (0012)
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), nullable=False)
    answers_enc: Mapped[bytes | None] = encrypted_column()
    answers = EncryptedField("answers", kind="json")
    observations_enc: Mapped[bytes | None] = encrypted_column()
    observations = EncryptedField("observations")
    screen_risk: Mapped[str] = mapped_column(String(12), nullable=False)
    risk_level: Mapped[str] = mapped_column(String(12), nullable=False)
    acuity: Mapped[str] = mapped_column(String(16), nullable=False)
    route: Mapped[str] = mapped_column(String(12), nullable=False)
    outside_service: Mapped[str | None] = mapped_column(String(20))
    # What the rules suggested when the triage was saved, and why; kept so an
    # override can be reported against it.
    suggested_route: Mapped[str] = mapped_column(String(12), nullable=False)
    suggested_outside_service: Mapped[str | None] = mapped_column(String(20))
    suggestion_reason: Mapped[str] = mapped_column(String(300), nullable=False)
    rule_id: Mapped[str | None] = mapped_column(String(36))  # no FK: a rule may be deleted later
    override_reason: Mapped[str | None] = mapped_column(String(OVERRIDE_REASON_MAX))
    created_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    created_by = relationship("User", lazy="joined")

    @property
    def overridden(self) -> bool:
        return (self.route, self.outside_service) != (self.suggested_route, self.suggested_outside_service)

    def __repr__(self) -> str:
        return f"<Triage {self.id}>"


class RoutingRule(db.Model):
    """A rule for routing one town's calls: when the acuity is one of
    ``acuities`` (empty: any) and the department clinician's duty matches
    ``on_duty`` ("yes", "no", "any"), suggest ``route``. Lowest priority
    number first; the first match wins."""

    __tablename__ = "routing_rules"
    __table_args__ = (UniqueConstraint("agency_id", "priority", name="uq_routing_rules_agency_priority"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False)
    acuities: Mapped[str] = mapped_column(String(80), nullable=False, default="")  # comma-separated codes
    on_duty: Mapped[str] = mapped_column(String(4), nullable=False, default="any")
    route: Mapped[str] = mapped_column(String(12), nullable=False)
    outside_service: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(RULE_DESCRIPTION_MAX), nullable=False, default="")
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def acuity_list(self) -> list[str]:
        return [a for a in self.acuities.split(",") if a]

    def matches(self, acuity: str | None, on_duty: bool) -> bool:
        if self.acuity_list and acuity not in self.acuity_list:
            return False
        if self.on_duty == "yes" and not on_duty:
            return False
        if self.on_duty == "no" and on_duty:
            return False
        return True

    def __repr__(self) -> str:
        return f"<RoutingRule {self.id}>"


class CallAssignment(db.Model):
    """Each time a call changed hands: a claim, an assignment or a reassignment."""

    __tablename__ = "call_assignments"
    __table_args__ = (Index("ix_call_assignments_call_created", "call_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id"), nullable=False)
    assignee_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    previous_assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    assigned_by_id: Mapped[str] = mapped_column(ForeignKey("users.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(ASSIGN_REASON_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    previous_assignee = relationship("User", foreign_keys=[previous_assignee_id], lazy="joined")
    assigned_by = relationship("User", foreign_keys=[assigned_by_id], lazy="joined")

    def __repr__(self) -> str:
        return f"<CallAssignment {self.id}>"
