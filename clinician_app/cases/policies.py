"""Who may record what happened on which call (no Flask imports).

The agency a call was routed to works it; before routing, the call's own town
does. So a town clinician records encounters on their town's calls unless the
call went to the BHU, and the BHU's clinicians record them on calls routed to it.
"""
from __future__ import annotations


def working_agency_id(call) -> str:
    return call.route_agency_id or call.agency_id


def may_record_encounter(user, call) -> bool:
    return working_agency_id(call) == user.agency_id


def may_close(user, call) -> bool:
    """A supervisor of the call's town or of the agency working it."""
    return user.agency_id in {call.agency_id, call.route_agency_id}


# --- cases, case notes and break-the-glass ------------------------------------------------
# Who may read a note body (SECURITY.md promises 2-4):
#   normal note: note readers of the owning agency, the clinician assigned to the
#     case (a BHU clinician works a town's case), or anyone holding an active
#     break-the-glass grant for the case;
#   Part 2 (substance use) note: note readers of the owning agency and the
#     assigned clinician only. Break-the-glass does NOT open Part 2 bodies: Part 2
#     allows no emergency exception inside the app (a medical emergency disclosure
#     under 42 CFR 2.51 is made to medical personnel, recorded as a disclosure);
#     a grant holder sees that a restricted note exists, not its content.
# Admins, auditors, dispatchers, officers, liaisons and engagement staff lack the
# note permissions altogether (separation of duties).

from clinician_app.core.policy import Permission  # noqa: E402  (kept with the rules that use it)


def _holds(user, permission) -> bool:
    return permission in getattr(user, "permissions", ())


def in_case_scope(user, case) -> bool:
    """The owning agency's staff, and the clinician the case is assigned to."""
    return user.agency_id == case.agency_id or (case.assignee_id is not None and case.assignee_id == user.id)


def may_read_note(user, note, case, *, grant_active: bool = False) -> bool:
    if not _holds(user, Permission.CASE_NOTES_READ) or note.case_id != case.id:
        return False
    if in_case_scope(user, case):
        return True
    return grant_active and not note.is_part2


def may_write_note(user, case) -> bool:
    """Writing stays with those who work the case; a break-the-glass grant only reads."""
    return _holds(user, Permission.CASE_NOTES_WRITE) and in_case_scope(user, case)


def may_break_glass(user, case) -> bool:
    """Only for a record outside the user's scope: inside it there is no glass to break."""
    return _holds(user, Permission.BREAK_GLASS) and not in_case_scope(user, case)


def may_review_grant(user, grant) -> bool:
    """A supervisor of the owning agency, never for their own use of the glass."""
    return (_holds(user, Permission.BREAK_GLASS_REVIEW) and user.agency_id == grant.agency_id
            and user.id != grant.user_id)
