"""Who may triage, claim and assign which call (no Flask imports).

A town's clinicians and supervisors work their own town's calls; the BHU's
work the calls routed to the BHU from any partner town. Which calls a user may
see at all is ``Call.scope_clause`` (calls/models.py), which agrees with this.
"""
from __future__ import annotations


def may_triage(user, call) -> bool:
    if user.agency.is_bhu:
        return call.route_agency_id == user.agency_id
    return call.agency_id == user.agency_id


def may_claim(user, call) -> bool:
    """Only the agency the call was routed to works it."""
    return call.route_agency_id is not None and call.route_agency_id == user.agency_id


def may_assign(user, call) -> bool:
    """A supervisor assigns within the agency the call was routed to."""
    return call.route_agency_id is not None and call.route_agency_id == user.agency_id
