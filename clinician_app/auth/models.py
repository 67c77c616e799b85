from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinician_app.agencies.models import Agency
from clinician_app.core.policy import ROLE_LABELS, Permission, Role, permissions_for
from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import EncryptedField, UTCDateTime, encrypted_column, new_id
from clinician_app.extensions import db


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False, index=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # The TOTP secret is encrypted with the field key ring, bound to this row.
    totp_secret_enc: Mapped[bytes | None] = encrypted_column()
    totp_secret = EncryptedField("totp_secret")
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    agency: Mapped[Agency] = relationship(lazy="joined")
    role_rows: Mapped[list["UserRole"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="UserRole.role"
    )

    # Flask-Login protocol
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def get_id(self) -> str:
        return self.id

    @property
    def roles(self) -> list[str]:
        return [row.role for row in self.role_rows]

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS[Role(r)] for r in self.roles]

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.roles)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def mfa_enrolled(self) -> bool:
        return self.totp_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)


class RecoveryCode(db.Model):
    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(db.Model):
    """A server-side sign-in: the cookie carries only a random token whose hash is here."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(40))
    remote_addr: Mapped[str | None] = mapped_column(String(64))


class SignInFailure(db.Model):
    """Failed sign-ins, kept per normalised username whether or not it exists,
    so a lockout looks the same for real and unknown accounts."""

    __tablename__ = "sign_in_failures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username_key: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(12), nullable=False, default="password")


API_SCOPES = {
    "calls:create": "Post calls from CAD",
    "calls:read": "Read call status and step times",
}


class ApiClient(db.Model):
    """A CAD system's credential: stored as a SHA-256 hash of a high-entropy token."""

    __tablename__ = "api_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), nullable=False, index=True)
    token_prefix: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    scopes: Mapped[str] = mapped_column(String(200), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship(lazy="joined")

    @property
    def scope_list(self) -> list[str]:
        return [s for s in self.scopes.split() if s]

    def is_usable(self, now: datetime) -> bool:
        from clinician_app.core.timeutil import as_utc

        return self.revoked_at is None and (self.expires_at is None or as_utc(self.expires_at) > now)
