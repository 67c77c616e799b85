from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

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

    @property
    def is_bhu(self) -> bool:
        return self.kind == "bhu"

    def __repr__(self) -> str:  # ids and codes only: safe for logs
        return f"<Agency {self.code}>"
