"""Turns the session cookie into the signed-in user, checking the server-side record on every request."""
from flask import g, session

from clinician_app.extensions import db

from . import sessions


def load_user_from_session(_request):
    token = session.get("sid")
    if not token:
        return None
    record, user = sessions.find_session_and_user(token)
    problem = sessions.check_session(record)
    if problem is not None:
        user = None
    if user is not None and not user.is_active:
        problem = "disabled"
        user = None
    if problem is not None:
        if record is not None and problem in {"idle", "expired"}:
            sessions.revoke(record, problem)
            db.session.commit()
        session.clear()
        g.session_end_reason = problem
        return None
    # A page refreshing itself in the background (the co-response queue) is not
    # the user's activity: it must not hold an unattended session open.
    if not _request.headers.get("X-Background-Refresh") and sessions.touch(record):
        db.session.commit()
    g.user_session = record
    return user
