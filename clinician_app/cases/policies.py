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
