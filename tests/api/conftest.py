"""CAD API fixtures: API clients with real tokens (created through the auth
service, stored as hashes) and a valid call body to post."""
from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from clinician_app.core.timeutil import utcnow
from tests.conftest import SENTINELS

# Clinical text posted in bodies: it must come back in no reply and reach no log.
NARRATIVE = "Caller reports her brother talked about ending his life tonight"
SENTINELS.add(NARRATIVE)


@pytest.fixture()
def make_token(app):
    """make_token(agency, scopes=("calls:create", "calls:read")) -> the token, shown once."""
    from clinician_app.auth.services import create_api_client

    def make(agency, scopes=("calls:create", "calls:read"), expires_in_days=30, name="CAD"):
        _client, token = create_api_client(None, name, list(scopes), expires_in_days, agency_id=agency.id)
        SENTINELS.add(token)
        return token

    return make


def bearer(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", **extra}


def call_body(**overrides) -> dict:
    """A complete, valid call as CAD posts it; override any field."""
    body = {
        "incident_number": f"24-{secrets.token_hex(4).upper()}",
        "received_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        "address": "12 Main Street, Chelmsford",
        "call_type": "suicidal_person",
        "caller_relation": "family",
        "indicators": ["mental_health", "suicidal"],
        "cautions": ["weapon"],
        "caution_notes": "Knife reported in kitchen",
        "narrative": NARRATIVE,
        "co_response": True,
        "urgency": "now",
    }
    body.update(overrides)
    return body


STATUS_KEYS = {"id", "incident_number", "status", "received_at", "flagged_at", "triaged_at", "assigned_at",
               "on_scene_at", "first_contact_at", "closed_at", "updated_at"}


def calls_with_incident(agency_id: str, incident_number: str) -> list:
    from sqlalchemy import select

    from clinician_app.calls.models import Call
    from clinician_app.extensions import db

    return list(db.session.execute(
        select(Call).where(Call.agency_id == agency_id, Call.incident_number == incident_number.upper())).scalars())
