"""In-app notifications: written by other services in their transaction, read
by their recipient only."""
from __future__ import annotations

from sqlalchemy import func, select, update

from clinician_app.core import frame_figures
from clinician_app.core.errors import NotFound
from clinician_app.core.policy import Permission, require
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from .models import KINDS, Notification

LIST_LIMIT = 50


def notify(user_id: str, kind: str, record_type: str, record_id: str) -> Notification:
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    note = Notification(user_id=user_id, kind=kind, record_type=record_type, record_id=record_id,
                        created_at=utcnow())
    db.session.add(note)
    db.session.flush()
    return note


def _unread_count(user, _now):
    return (select(func.count()).select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None)).scalar_subquery())


frame_figures.register("unread_notifications", _unread_count, default=0)  # the bell


def list_notifications(actor) -> list[Notification]:
    """The actor's newest notifications, unread first."""
    require(actor, Permission.SIGNED_IN)
    return list(db.session.execute(
        select(Notification).where(Notification.user_id == actor.id)
        .order_by(Notification.read_at.is_not(None), Notification.created_at.desc()).limit(LIST_LIMIT)
    ).scalars())


def open_notification(actor, notification_id: str) -> Notification:
    """Mark one of the actor's notifications read and return it (to follow its link)."""
    require(actor, Permission.SIGNED_IN)
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != actor.id:
        raise NotFound("That notification was not found.")
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.flush()
    return note


def mark_all_read(actor) -> int:
    require(actor, Permission.SIGNED_IN)
    result = db.session.execute(
        update(Notification).where(Notification.user_id == actor.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False)
    )
    return result.rowcount
