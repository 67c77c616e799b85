"""What the referral services check typed values against besides text (which
goes through ``core.text.clean_text``): ``agency_today`` (dates are checked
against the agency's own calendar day, not the server's)."""
from __future__ import annotations

from datetime import date

from clinician_app.agencies.models import Agency
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db


def agency_today(agency_id: str) -> date:
    return to_local(utcnow(), db.session.get(Agency, agency_id).timezone).date()
