"""The signed-in user's notifications: a list, opening one (marks it read and
follows its link), and marking all read."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from clinician_app.core.policy import Permission, requires
from clinician_app.extensions import db

from . import services

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

RECORD_LINKS = {"call": ("calls.detail", "call_id"), "followup": ("followups.detail", "followup_id"),
                "followup_reminder": ("followups.my_work", None)}


@bp.get("/")
@requires(Permission.SIGNED_IN)
def index():
    return render_template("notifications/index.html", notes=services.list_notifications(current_user))


@bp.post("/<notification_id>/open")
@requires(Permission.SIGNED_IN)
def open_one(notification_id):
    note = services.open_notification(current_user, notification_id)
    db.session.commit()
    endpoint, arg = RECORD_LINKS.get(note.record_type, (None, None))
    if endpoint is None:
        return redirect(url_for("notifications.index"), 303)
    if arg is None:  # a link to a list, not to one record
        return redirect(url_for(endpoint), 303)
    return redirect(url_for(endpoint, **{arg: note.record_id}), 303)


@bp.post("/read")
@requires(Permission.SIGNED_IN)
def read_all():
    services.mark_all_read(current_user)
    db.session.commit()
    return redirect(url_for("notifications.index"), 303)
