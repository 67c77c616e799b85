"""Disclosure records: the accounting entry every sharing writes (with the
consent copy the recipient is given), and disclosures made without consent in a
medical emergency (42 CFR 2.51)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from clinician_app.cases.models import Case
from clinician_app.core import audit
from clinician_app.core.errors import ValidationError
from clinician_app.core.text import clean_text
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db
from clinician_app.people.models import Person

from . import codes
from .consents import consent_copy
from .models import AFFILIATION_MAX, DESCRIPTION_MAX, EMERGENCY_NATURE_MAX, NAME_MAX, Consent, Disclosure, Referral
from .sharing import add_part2, case_for_referral

FUTURE_TOLERANCE = timedelta(minutes=5)


def record_disclosure(actor, *, person: Person, case: Case | None, basis: str, categories: list[str],
                      part2: bool, recipient_kind: str, recipient_name: str | None, affiliation: str | None,
                      address: str | None, description: str, purpose: str, disclosed_at: datetime,
                      consent: Consent | None = None, referral: Referral | None = None,
                      recipient_agency_id: str | None = None, recipient_service_id: str | None = None,
                      emergency_nature: str | None = None) -> Disclosure:
    disclosure = Disclosure(agency_id=person.agency_id, person_id=person.id, case_id=case.id if case else None,
                            referral_id=referral.id if referral else None, consent_id=consent.id if consent else None,
                            basis=basis, disclosed_at=disclosed_at, disclosed_by_id=actor.id,
                            recipient_kind=recipient_kind, recipient_agency_id=recipient_agency_id,
                            recipient_service_id=recipient_service_id,
                            categories=codes.join_codes(categories, codes.CATEGORIES), includes_part2=part2,
                            notice_attached=part2, created_at=utcnow())
    disclosure.recipient_name = recipient_name or None
    disclosure.recipient_affiliation = affiliation or None
    disclosure.recipient_address = address or None
    disclosure.description = description
    disclosure.purpose = purpose
    disclosure.emergency_nature = emergency_nature or None
    if consent is not None:
        disclosure.consent_copy = consent_copy(consent, person)
    db.session.add(disclosure)
    db.session.flush()
    audit.record("disclosure.record", actor=actor, record_type="disclosure", record_id=disclosure.id,
                 details={"person_id": person.id, "basis": basis, "categories": disclosure.category_codes,
                          "part2": part2, "notice_attached": disclosure.notice_attached,
                          "consent_id": disclosure.consent_id, "referral_id": disclosure.referral_id,
                          "recipient_kind": recipient_kind, "recipient_agency_id": recipient_agency_id,
                          "recipient_service_id": recipient_service_id})
    return disclosure


def disclosure_for_referral(referral: Referral) -> Disclosure | None:
    return db.session.execute(select(Disclosure).where(Disclosure.referral_id == referral.id)
                              .order_by(Disclosure.disclosed_at.desc())).scalars().first()


# --- medical emergency disclosures (42 CFR 2.51) ---------------------------------------------

@dataclass
class NewEmergencyDisclosure:
    recipient_name: str = ""
    recipient_affiliation: str = ""
    disclosed_at: datetime | None = None  # timezone-aware
    emergency_nature: str = ""
    categories: list[str] = field(default_factory=list)
    description: str = ""


def record_emergency_disclosure(actor, case_id: str, data: NewEmergencyDisclosure) -> Disclosure:
    """A disclosure made without consent to medical personnel in a bona fide medical
    emergency: who received it and their affiliation, who disclosed, when, and the
    nature of the emergency (42 CFR 2.51(c))."""
    case = case_for_referral(actor, case_id)
    person = db.session.get(Person, case.person_id)
    errors: dict[str, list[str]] = {}
    name = clean_text(data.recipient_name, NAME_MAX, "recipient_name", errors, multiline=False,
                      required="Name the medical personnel who received the information.")
    affiliation = clean_text(
        data.recipient_affiliation, AFFILIATION_MAX, "recipient_affiliation", errors, multiline=False,
        required="Give their affiliation (for example: Lowell General Hospital emergency department).")
    nature = clean_text(data.emergency_nature, EMERGENCY_NATURE_MAX, "emergency_nature", errors,
                        required="Describe the nature of the medical emergency.")
    description = clean_text(data.description, DESCRIPTION_MAX, "description", errors,
                             required="Say briefly what was disclosed.")
    categories = codes.split_codes(codes.join_codes(data.categories, codes.CATEGORIES))
    if not categories:
        errors["categories"] = ["Choose what kinds of information were disclosed."]
    if data.disclosed_at is None:
        errors["disclosed_at"] = ["Enter when the information was disclosed."]
    elif as_utc(data.disclosed_at) > utcnow() + FUTURE_TOLERANCE:
        errors["disclosed_at"] = ["The disclosure can't be in the future."]
    if errors:
        raise ValidationError("The emergency disclosure was not recorded.", fields=errors)
    part2 = add_part2(case, categories)
    return record_disclosure(
        actor, person=person, case=case, basis=codes.BASIS_EMERGENCY, categories=categories, part2=part2,
        recipient_kind="emergency", recipient_name=name, affiliation=affiliation, address=None,
        description=description, purpose="To meet a bona fide medical emergency (42 CFR 2.51)",
        disclosed_at=as_utc(data.disclosed_at), emergency_nature=nature)
