"""Who may do what to one follow-up (no Flask imports).

Anyone who works follow-ups in the owning agency may record an attempt (a
colleague covering the phone); closing or cancelling is the assignee's call, or
a supervisor's of the owning agency; reassigning is a supervisor's only.
"""
from __future__ import annotations

from clinician_app.core.policy import Permission


def _holds(user, permission) -> bool:
    return permission in getattr(user, "permissions", ())


def in_scope(user, followup) -> bool:
    return user.agency_id == followup.agency_id or user.id == followup.assignee_id


def may_record_attempt(user, followup) -> bool:
    return _holds(user, Permission.FOLLOWUPS_WORK) and in_scope(user, followup)


def may_close(user, followup) -> bool:
    if not _holds(user, Permission.FOLLOWUPS_WORK):
        return False
    if user.id == followup.assignee_id:
        return True
    return _holds(user, Permission.FOLLOWUPS_MANAGE) and user.agency_id == followup.agency_id


def may_reassign(user, followup) -> bool:
    return _holds(user, Permission.FOLLOWUPS_MANAGE) and user.agency_id == followup.agency_id
