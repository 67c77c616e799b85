"""Consents to disclose: recording them, reading them, revoking them, their
expiry event, and what happens to pending referrals that relied on a consent
once it no longer covers them (they are held)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from clinician_app.agencies.models import Agency
from clinician_app.core import audit, policy
from clinician_app.core.errors import Conflict, NotFound, ValidationError
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.people.models import Person

from . import codes, policies
from .models import EXPIRY_EVENT_MAX, NAME_MAX, PURPOSE_MAX, Consent, Referral, ServiceEntry
from .validation import agency_today

CONSENT_FUTURE_DAYS = 366  # a consent dated further ahead is a typing mistake


@dataclass
class NewConsent:
    recipient_kind: str = ""
    recipient_agency_id: str | None = None
    recipient_service_id: str | None = None
    recipient_class: str | None = None
    categories: list[str] = field(default_factory=list)
    purpose: str = ""
    expires_on: date | None = None
    expiry_event: str = ""
    signed_on: date | None = None
    signed_method: str = ""
    signed_by: str = "person"
    representative_name: str = ""
    witness_name: str = ""


def person_for_consents(actor, person_id: str, *, permission: Permission = Permission.PERSONS_READ,
                        view: str = "consents") -> Person:
    """A person of the actor's agency: consents are recorded where the record is."""
    from clinician_app.people.services import get_person

    return get_person(actor, person_id, view=view, permission=permission)


def create_consent(actor, person_id: str, data: NewConsent) -> Consent:
    policy.require(actor, Permission.PERSONS_WRITE)
    person = person_for_consents(actor, person_id, permission=Permission.PERSONS_WRITE, view="consent_new")
    today = agency_today(person.agency_id)
    errors: dict[str, list[str]] = {}
    recipient = {"recipient_agency_id": None, "recipient_service_id": None, "recipient_class": None}
    if data.recipient_kind == codes.RECIPIENT_AGENCY:
        agency = db.session.get(Agency, data.recipient_agency_id or "")
        if agency is None or agency.id == person.agency_id:
            errors["recipient_agency_id"] = ["Choose the partner agency the information goes to."]
        else:
            recipient["recipient_agency_id"] = agency.id
    elif data.recipient_kind == codes.RECIPIENT_SERVICE:
        service = db.session.get(ServiceEntry, data.recipient_service_id or "")
        if service is None or not service.active:
            errors["recipient_service_id"] = ["Choose the service the information goes to."]
        else:
            recipient["recipient_service_id"] = service.id
    elif data.recipient_kind == codes.RECIPIENT_CLASS:
        if data.recipient_class not in codes.RECIPIENT_CLASSES:
            errors["recipient_class"] = ["Choose the class of recipients."]
        else:
            recipient["recipient_class"] = data.recipient_class
    else:
        errors["recipient_kind"] = ["Say to whom the information may be disclosed."]
    categories = codes.join_codes(data.categories, codes.CATEGORIES)
    if not categories or len(codes.split_codes(categories)) != len(set(data.categories or [])):
        errors["categories"] = ["Choose what information may be disclosed."]
    purpose = clean_text(data.purpose, PURPOSE_MAX, "purpose", errors,
                         required="State the purpose of the disclosure (for example: to arrange treatment).")
    event = clean_text(data.expiry_event, EXPIRY_EVENT_MAX, "expiry_event", errors)
    if data.expires_on is None and not event and "expiry_event" not in errors:
        errors["expires_on"] = ["Give the date the consent expires, or the event that ends it."]
    if data.signed_on is None:
        errors["signed_on"] = ["Enter the date the consent was signed or given."]
    elif data.signed_on > today + timedelta(days=CONSENT_FUTURE_DAYS):
        errors["signed_on"] = ["That date is more than a year ahead: check it."]
    if data.expires_on is not None and data.signed_on is not None and data.expires_on < data.signed_on:
        errors["expires_on"] = ["The expiry date can't be before the date it was signed."]
    if data.signed_method not in codes.SIGNED_METHODS:
        errors["signed_method"] = ["Choose how the consent was given."]
    if data.signed_by not in codes.SIGNERS:
        errors["signed_by"] = ["Choose who gave the consent."]
    representative = clean_text(
        data.representative_name, NAME_MAX, "representative_name", errors, multiline=False,
        required="Name the representative who signed." if data.signed_by == "representative" else None)
    witness = clean_text(
        data.witness_name, NAME_MAX, "witness_name", errors, multiline=False,
        required="Name the witness to verbal consent." if data.signed_method == "verbal_witnessed" else None)
    if errors:
        raise ValidationError("The consent was not recorded.", fields=errors)
    consent = Consent(agency_id=person.agency_id, person_id=person.id, recipient_kind=data.recipient_kind,
                      categories=categories, expires_on=data.expires_on, signed_on=data.signed_on,
                      signed_method=data.signed_method, signed_by=data.signed_by, recorded_by_id=actor.id,
                      **recipient)
    consent.purpose = purpose
    consent.expiry_event = event or None
    consent.representative_name = representative or None
    consent.witness_name = witness or None
    db.session.add(consent)
    db.session.flush()
    audit.record("consent.create", actor=actor, record_type="consent", record_id=consent.id,
                 details={"person_id": person.id, "recipient_kind": consent.recipient_kind,
                          "categories": consent.category_codes, "signed_method": consent.signed_method})
    return consent


def consent_in_scope(actor, consent_id: str) -> Consent:
    """A consent of the actor's agency (no audited read); anyone else's is a plain 404."""
    consent = db.session.get(Consent, consent_id) if consent_id else None
    if consent is None or consent.agency_id != actor.agency_id:
        raise NotFound("That record was not found.")
    return consent


def read_consent(actor, consent_id: str, *, view: str = "consent") -> tuple[Consent, Person]:
    """The consent and its person: an audited read."""
    policy.require(actor, Permission.PERSONS_READ)
    consent = consent_in_scope(actor, consent_id)
    person = person_for_consents(actor, consent.person_id, view=view)
    audit.record_at_commit("consent.read", actor=actor, record_type="consent", record_id=consent.id,
                 details={"person_id": person.id, "view": view})
    return consent, person


def consents_for_person(actor, person: Person) -> list[Consent]:
    policy.require(actor, Permission.PERSONS_READ)
    if person.agency_id != actor.agency_id:
        raise NotFound("That record was not found.")
    return list(db.session.execute(select(Consent).where(Consent.person_id == person.id)
                                   .order_by(Consent.signed_on.desc(), Consent.created_at.desc())).scalars())


def consent_state(consent: Consent, today: date | None = None) -> str:
    """A short label: in effect, not yet in effect, expired, revoked."""
    today = today or agency_today(consent.agency_id)
    if consent.revoked_on is not None:
        return "Revoked"
    if consent.signed_on > today:
        return "Not yet in effect"
    if policies.consent_in_effect_problem(consent, today):
        return "Expired"
    return "In effect"


def consent_copy(consent: Consent, person: Person) -> dict:
    """What the recipient is given with a disclosure: the consent's elements as they
    were when it was relied on."""
    return {
        "consent_id": consent.id,
        "person": person.full_name,
        "discloser": consent.agency.name,
        "recipient": consent.recipient_label,
        "information": [codes.CATEGORIES[c] for c in consent.category_codes if c in codes.CATEGORIES],
        "purpose": consent.purpose,
        "expires": (f"{consent.expires_on:%Y-%m-%d}" if consent.expires_on else "")
                   + (" or " if consent.expires_on and consent.expiry_event_enc else "")
                   + (f"when: {consent.expiry_event}" if consent.expiry_event_enc else ""),
        "signed_on": f"{consent.signed_on:%Y-%m-%d}",
        "signed_how": codes.SIGNED_METHODS.get(consent.signed_method, consent.signed_method),
        "signed_by": codes.SIGNERS.get(consent.signed_by, consent.signed_by)
                     + (f" ({consent.representative_name})" if consent.representative_name_enc else ""),
        "witness": consent.witness_name or "",
        "revocation": "The person may revoke this consent at any time, except where action has already been "
                      "taken in reliance on it.",
    }


# --- revocation, the expiry event and held referrals ---------------------------------------

def _hold(actor, referral: Referral, consent: Consent, reason: str, *, agency_id: str | None = None) -> None:
    referral.status, referral.held_at, referral.hold_reason = codes.HELD, utcnow(), reason
    db.session.flush()
    audit.record("referral.hold", actor=actor, agency_id=agency_id, record_type="referral", record_id=referral.id,
                 details={"consent_id": consent.id, "hold_reason": reason})


def _hold_referrals_of(actor, consent: Consent, reason: str) -> list[Referral]:
    pending = list(db.session.execute(select(Referral).where(
        Referral.consent_id == consent.id, Referral.status == codes.PENDING)).scalars())
    for referral in pending:
        _hold(actor, referral, consent, reason, agency_id=referral.from_agency_id)
    return pending


def hold_lapsed(actor, referrals) -> None:
    """Pending referrals whose consent has lapsed since they were sent are held now."""
    for referral in referrals:
        if referral.status != codes.PENDING or referral.consent_id is None:
            continue
        consent = db.session.get(Consent, referral.consent_id)
        reason = policies.hold_reason_for(consent, agency_today(consent.agency_id))
        if reason:
            _hold(actor, referral, consent, reason)


def revoke_consent(actor, consent_id: str, revoked_on: date | None, revoked_by: str) -> tuple[Consent, list[Referral]]:
    """Record a revocation: nothing more is shared under the consent from now, and
    pending referrals that rely on it are held at once."""
    policy.require(actor, Permission.PERSONS_WRITE)
    consent = consent_in_scope(actor, consent_id)
    if consent.revoked_on is not None:
        raise Conflict(f"This consent was already revoked on {consent.revoked_on:%Y-%m-%d}.")
    errors: dict[str, list[str]] = {}
    today = agency_today(consent.agency_id)
    if revoked_on is None:
        errors["revoked_on"] = ["Enter the date the consent was revoked."]
    elif revoked_on > today:
        errors["revoked_on"] = ["A revocation can't be dated in the future: record it when it is made."]
    if revoked_by not in codes.REVOKERS:
        errors["revoked_by"] = ["Choose who revoked the consent."]
    if errors:
        raise ValidationError("The revocation was not recorded.", fields=errors)
    consent.revoked_on, consent.revoked_by = revoked_on, revoked_by
    consent.revocation_recorded_by_id, consent.revocation_recorded_at = actor.id, utcnow()
    db.session.flush()
    audit.record("consent.revoke", actor=actor, record_type="consent", record_id=consent.id,
                 details={"person_id": consent.person_id, "revoked_by": revoked_by})
    return consent, _hold_referrals_of(actor, consent, codes.HOLD_REVOKED)


def record_expiry_event(actor, consent_id: str, happened_on: date | None) -> tuple[Consent, list[Referral]]:
    """The event the consent named as its end has happened."""
    policy.require(actor, Permission.PERSONS_WRITE)
    consent = consent_in_scope(actor, consent_id)
    if not consent.expiry_event_enc:
        raise ValidationError("This consent ends on a date, not an event.")
    if consent.expiry_event_on is not None:
        raise Conflict("The expiry event is already recorded.")
    if happened_on is None or happened_on > agency_today(consent.agency_id):
        raise ValidationError("Enter the date the event happened (today or earlier).",
                              fields={"happened_on": ["Enter the date the event happened (today or earlier)."]})
    consent.expiry_event_on = happened_on
    db.session.flush()
    audit.record("consent.expiry_event", actor=actor, record_type="consent", record_id=consent.id,
                 details={"person_id": consent.person_id})
    return consent, _hold_referrals_of(actor, consent, codes.HOLD_EXPIRED)
