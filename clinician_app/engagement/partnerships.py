"""Regional partnerships, led by one agency and seen, read-only, by the partner
agencies chosen on them."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from clinician_app.agencies.models import Agency
from clinician_app.core import audit, policy
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from . import checks, codes
from .models import DESCRIPTION_MAX, PARTNERS_MAX, TITLE_MAX, RegionalPartnership


@dataclass
class PartnershipData:
    kind: str = ""
    title: str = ""
    partner_agency_ids: list[str] = field(default_factory=list)
    other_partners: str = ""
    started_on: date | None = None
    ended_on: date | None = None
    description: str = ""
    outcomes: str = ""


def partner_agency_choices(actor) -> list[Agency]:
    return list(db.session.execute(select(Agency).where(Agency.id != actor.agency_id).order_by(Agency.name)).scalars())


def record_partnership(actor, data: PartnershipData) -> RegionalPartnership:
    """A partnership led by the actor's agency; the partner agencies chosen see it."""
    policy.require(actor, Permission.ENGAGEMENT_MANAGE)
    errors: dict = {}
    kind = checks.code(data.kind, codes.PARTNERSHIP_KINDS, "kind", errors, "Choose the kind of partnership.")
    title = checks.text(data.title, TITLE_MAX, "title", errors, required="Give the partnership a title.")
    eligible = {a.id: a for a in partner_agency_choices(actor)}
    ids = list(dict.fromkeys(data.partner_agency_ids or []))
    partners = [eligible[i] for i in ids if i in eligible]
    if len(partners) != len(ids):
        errors["partner_agency_ids"] = ["Choose partner agencies from the list."]
    other = checks.text(data.other_partners, PARTNERS_MAX, "other_partners", errors)
    if not partners and not other and "partner_agency_ids" not in errors and "other_partners" not in errors:
        errors["partner_agency_ids"] = ["Choose a partner agency, or name the partners below."]
    today = checks.agency_today(actor)
    started = checks.day(data.started_on, "started_on", errors, required="Enter the start date, like 2026-01-15.",
                       today=today)
    ended = None
    if data.ended_on is not None:
        ended = checks.day(data.ended_on, "ended_on", errors, required="Enter the end date.", today=today)
        if started and ended and ended < started and "ended_on" not in errors:
            errors["ended_on"] = ["The end date is before the start date."]
    description = checks.text(data.description, DESCRIPTION_MAX, "description", errors, multiline=True)
    outcomes = checks.text(data.outcomes, DESCRIPTION_MAX, "outcomes", errors, multiline=True)
    checks.raise_if(errors)
    partnership = RegionalPartnership(agency_id=actor.agency_id, kind=kind, title=title, other_partners=other,
                                      started_on=started, ended_on=ended, description=description,
                                      outcomes=outcomes, created_by_id=actor.id, created_at=utcnow())
    partnership.partner_agencies = partners
    db.session.add(partnership)
    db.session.flush()
    audit.record("engagement.partnership_record", actor=actor, record_type="engagement_partnership",
                 record_id=partnership.id, details={"kind": kind, "partner_agency_ids": [a.id for a in partners]})
    return partnership
