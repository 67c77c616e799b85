from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import UTCDateTime, new_id
from clinician_app.extensions import db

# Rows are written only with their reply ("done"); "in_flight" rows came from
# an earlier design that committed a claim first, and none is written now.
DONE = "done"


class IdempotencyRecord(db.Model):
    """One ``Idempotency-Key`` a CAD client sent, and the reply it got.

    Written in the transaction that creates the call (see ``api/idempotency.py``
    for how concurrent retries are kept apart). The stored reply holds no
    clinical content (CallStatus).
    """

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key", name="uq_api_idempotency_keys_client_id_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(255), nullable=False)
    request_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=DONE)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict | None] = mapped_column(JSON)
    call_id: Mapped[str | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
