"""The referrals domain's part of the person page (people/links.py): the
person's consents (moved to the survivor when records are merged) and their
disclosures (which follow merged records, see accounting.merged_ids)."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from clinician_app.core import policy
from clinician_app.core.policy import Permission
from clinician_app.extensions import db
from clinician_app.people import links

from . import codes
from .accounting import merged_ids
from .consents import consent_state, consents_for_person
from .models import Consent, Disclosure
from .validation import agency_today


def _consents(actor, person):
    if not policy.has_permission(actor, Permission.PERSONS_READ) or person.agency_id != actor.agency_id:
        return []
    today = agency_today(person.agency_id)
    return [links.LinkedItem(label=f"Consent to disclose to {c.recipient_label}",
                             url=url_for("referrals.consent", consent_id=c.id), when=c.created_at,
                             status=consent_state(c, today))
            for c in consents_for_person(actor, person)]


def _disclosures(actor, person):
    if not policy.has_permission(actor, Permission.DISCLOSURES_READ) or person.agency_id != actor.agency_id:
        return []
    rows = db.session.execute(select(Disclosure.disclosed_at, Disclosure.basis).where(
        Disclosure.person_id.in_(merged_ids(person)), Disclosure.agency_id == actor.agency_id)
        .order_by(Disclosure.disclosed_at.desc())).all()
    url = url_for("referrals.accounting", person_id=person.id)
    return [links.LinkedItem(label="Disclosure (see the accounting of disclosures)", url=url, when=at,
                             status=codes.BASES.get(basis, basis)) for at, basis in rows]


def _relink_consents(from_id: str, to_id: str, only_ids: list[str] | None) -> list[str]:
    stmt = select(Consent).where(Consent.person_id == from_id)
    if only_ids is not None:
        stmt = stmt.where(Consent.id.in_(only_ids))
    moved = list(db.session.execute(stmt).scalars())
    for consent in moved:
        consent.person_id = to_id
    db.session.flush()
    return [c.id for c in moved]


links.register(links.LinkedKind("consents", "Consents", "No consent to disclose is recorded for this person.",
                                _consents, _relink_consents))
links.register(links.LinkedKind("disclosures", "Disclosures", "No disclosure of this person's information is recorded.",
                                _disclosures))
