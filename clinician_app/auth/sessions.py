"""Server-side sessions: revocable, with idle and absolute limits enforced here."""
import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db

from .models import User, UserSession

TOUCH_INTERVAL = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, remote_addr: str | None) -> str:
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_hash(token), user_id=user.id, remote_addr=remote_addr))
    db.session.flush()
    return token


def find_session_and_user(token: str | None) -> tuple[UserSession | None, User | None]:
    """The session and its user, with the user's agency and roles: one statement,
    as every signed-in request starts with it."""
    if not token:
        return None, None
    row = db.session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .options(joinedload(User.role_rows)).where(UserSession.token_hash == _hash(token))
    ).unique().one_or_none()
    return (row[0], row[1]) if row is not None else (None, None)


def check_session(record: UserSession | None, now=None) -> str | None:
    """Why this session may not be used, or None if it may."""
    if record is None:
        return "missing"
    if record.revoked_at is not None:
        return "revoked"
    now = now or utcnow()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    if now - as_utc(record.last_seen_at) > idle:
        return "idle"
    if now - as_utc(record.created_at) > absolute:
        return "expired"
    return None


def touch(record: UserSession, now=None) -> bool:
    """Record activity, at most once a minute so reads don't all become writes."""
    now = now or utcnow()
    if now - as_utc(record.last_seen_at) >= TOUCH_INTERVAL:
        record.last_seen_at = now
        return True
    return False


def revoke(record: UserSession, reason: str) -> None:
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        record.revoke_reason = reason


def revoke_all(user_id: str, reason: str) -> int:
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoke_reason=reason)
    )
    return result.rowcount or 0
