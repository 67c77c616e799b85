"""Call factories: calls created through the real service, so they are stored
exactly as the form and the API store them (encrypted fields included)."""
from __future__ import annotations

import secrets
from datetime import timedelta

from clinician_app.calls.services import NewCall, create_call
from clinician_app.core.timeutil import utcnow


def new_call(**overrides) -> NewCall:
    """A complete, valid call; override any field."""
    values = {
        "incident_number": f"T-{secrets.token_hex(4).upper()}",
        "received_at": utcnow() - timedelta(minutes=10),
        "address": "12 Main Street",
        "call_type": "well_being_check",
        "caller_relation": "family",
        "indicators": ["mental_health"],
        "co_response": True,
        "urgency": "same_day",
    }
    values.update(overrides)
    return NewCall(**values)


def cad_client(agency_id: str):
    """A CAD API client of the agency: an actor that is not a signed-in user."""
    from clinician_app.auth.services import create_api_client

    client, _token = create_api_client(None, "CAD test", ["calls:create", "calls:read"], 30, agency_id=agency_id)
    return client


def make_call(agency_id: str, actor=None, **overrides):
    """A call in the agency, created by ``actor`` or else by a fresh CAD client."""
    return create_call(actor or cad_client(agency_id), new_call(**overrides))
