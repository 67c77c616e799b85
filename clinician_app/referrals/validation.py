"""What the referral services check typed values against: ``clean_text`` for
free text, and ``agency_today`` (dates are checked against the agency's own
calendar day, not the server's)."""
from __future__ import annotations

from datetime import date

from clinician_app.agencies.models import Agency
from clinician_app.calls.services import has_control_characters
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db


def agency_today(agency_id: str) -> date:
    return to_local(utcnow(), db.session.get(Agency, agency_id).timezone).date()


def clean_text(value, limit: int, name: str, errors: dict, *, required: str | None = None,
               multiline: bool = True) -> str:
    """The stripped text; a problem goes into ``errors[name]``."""
    text = value.strip() if isinstance(value, str) else ""
    if not text and required:
        errors[name] = [required]
    elif len(text) > limit:
        errors[name] = [f"Use at most {limit} characters."]
    elif has_control_characters(text, multiline=multiline):
        errors[name] = ["Remove the control characters."]
    return text
