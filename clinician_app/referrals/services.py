"""Referrals: sending them to a partner agency or a directory service, tracking a
service referral, and the receiving agency's accept or decline.

    from clinician_app.referrals import consents, services
    consent = consents.create_consent(actor, person_id, consents.NewConsent(...))
    referral = services.send_agency_referral(actor, case_id, services.NewAgencyReferral(
        to_agency_id=bhu.id, reason="...", basis="consent", consent_id=consent.id, ...))
    services.accept_referral(liaison, referral.id)        # opens a case in the receiving agency

The rest of the domain: directory.py (the service directory), consents.py
(consents, revocation, held referrals), sharing.py (the checks every sharing
makes), disclosures.py (disclosure records, emergency disclosures), accounting.py
(the accounting of disclosures and its CSV), reading.py (one referral, the inbox
and outbox, a case's referrals), person_links.py (the person page's consents and
disclosures).

Every sharing writes its Disclosure row and its audit events in the caller's
transaction, so a referral is never sent without its accounting entry (and a
failed audit write undoes both). Consents are checked (policies.consent_problem)
before any sharing relies on them. Services flush, never commit; audit details
carry ids and codes, never names, reasons or summaries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from clinician_app.agencies.models import Agency
from clinician_app.cases.codes import CASE_OPEN
from clinician_app.cases.models import Case
from clinician_app.core import audit, policy
from clinician_app.core.errors import Conflict, PermissionDenied, ValidationError
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text
from clinician_app.core.timeutil import format_local, utcnow
from clinician_app.extensions import db
from clinician_app.people.models import Person

from . import codes, policies
from .consents import hold_lapsed
from .disclosures import record_disclosure
from .models import CAUTION_NOTES_MAX, DECLINE_REASON_MAX, REASON_MAX, SUMMARY_MAX, Referral, ServiceEntry
from .reading import get_referral
from .sharing import Sharing, add_part2, case_for_referral, check_sharing

# --- sending -------------------------------------------------------------------------------


@dataclass
class NewAgencyReferral(Sharing):
    to_agency_id: str = ""
    reason: str = ""
    risk_level: str = ""
    cautions: list[str] = field(default_factory=list)
    caution_notes: str = ""
    requested_action: str = ""
    summary_text: str = ""
    includes_part2: bool = False


@dataclass
class NewServiceReferral(Sharing):
    service_id: str = ""
    reason: str = ""
    shares_information: bool = False
    categories: list[str] = field(default_factory=list)
    includes_part2: bool = False


def _copy_identity(referral: Referral, person: Person) -> None:
    referral.person_first_name = person.first_name or ""
    referral.person_last_name = person.last_name or ""
    referral.person_date_of_birth = person.date_of_birth.isoformat() if person.date_of_birth else None


def _copy_emergency(referral: Referral, sharing: Sharing) -> None:
    """Under the emergency basis, the emergency and who receives the information."""
    if sharing.basis == codes.BASIS_EMERGENCY:
        referral.emergency_nature = sharing.emergency_nature.strip()
        referral.emergency_recipient = sharing.emergency_recipient.strip()


def _record_referral_disclosure(actor, referral: Referral, sharing: Sharing, *, recipient_name: str, **values) -> None:
    """The referral's disclosure record; under the emergency basis it names the
    medical personnel who received the information and the emergency."""
    emergency = sharing.basis == codes.BASIS_EMERGENCY
    record_disclosure(actor, basis=sharing.basis, part2=referral.includes_part2, referral=referral,
                      recipient_name=referral.emergency_recipient if emergency else recipient_name,
                      emergency_nature=referral.emergency_nature if emergency else None, **values)


def send_agency_referral(actor, case_id: str, data: NewAgencyReferral) -> Referral:
    """A transfer to the BHU or a partner town: the summary, the consent or basis it
    relies on, its disclosure and audit events, all in one transaction."""
    from clinician_app.triage.codes import RISK_LEVELS

    case = case_for_referral(actor, case_id)
    person = db.session.get(Person, case.person_id)
    errors: dict[str, list[str]] = {}
    to_agency = db.session.get(Agency, data.to_agency_id) if data.to_agency_id else None
    if to_agency is None or to_agency.id == actor.agency_id:
        errors["to_agency_id"] = ["Choose the agency that takes the referral."]
    reason = clean_text(data.reason, REASON_MAX, "reason", errors, required="Give the reason for the referral.")
    if data.risk_level not in RISK_LEVELS:
        errors["risk_level"] = ["Choose the current risk level."]
    cautions = codes.join_codes(data.cautions, codes.CAUTIONS)
    caution_notes = clean_text(data.caution_notes, CAUTION_NOTES_MAX, "caution_notes", errors)
    if data.requested_action not in codes.REQUESTED_ACTIONS:
        errors["requested_action"] = ["Choose what you ask the other agency to do."]
    summary = clean_text(data.summary_text, SUMMARY_MAX, "summary_text", errors)
    categories = [codes.CATEGORY_IDENTITY, codes.CATEGORY_MENTAL_HEALTH]
    if cautions or caution_notes:
        categories.append(codes.CATEGORY_SAFETY)
    part2 = add_part2(case, categories, flagged=bool(data.includes_part2))
    consent = None
    if not errors:
        consent = check_sharing(actor, person, data, errors, categories=categories, part2=part2,
                                agency_id=to_agency.id)
    if errors:
        raise ValidationError("The referral was not sent.", fields=errors)
    now = utcnow()
    referral = Referral(kind=codes.KIND_AGENCY, from_agency_id=actor.agency_id, case_id=case.id, person_id=person.id,
                        to_agency_id=to_agency.id, status=codes.PENDING, shares_information=True,
                        includes_part2=part2, categories=codes.join_codes(categories, codes.CATEGORIES),
                        basis=data.basis, consent_id=consent.id if consent else None, risk_level=data.risk_level,
                        cautions=cautions, requested_action=data.requested_action, sent_by_id=actor.id, sent_at=now)
    _copy_identity(referral, person)
    referral.reason = reason
    referral.caution_notes = caution_notes or None
    referral.summary_text = summary or None
    _copy_emergency(referral, data)
    db.session.add(referral)
    db.session.flush()
    audit.record("referral.send", actor=actor, record_type="referral", record_id=referral.id,
                 details={"kind": referral.kind, "case_id": case.id, "person_id": person.id,
                          "to_agency_id": to_agency.id, "basis": referral.basis, "consent_id": referral.consent_id,
                          "part2": part2})
    _record_referral_disclosure(
        actor, referral, data, person=person, case=case, categories=categories, consent=consent, disclosed_at=now,
        recipient_kind=codes.RECIPIENT_AGENCY, recipient_agency_id=to_agency.id, recipient_name=to_agency.name,
        affiliation=to_agency.name, address=None,
        description="Referral summary (transfer of responsibility): " + "; ".join(
            codes.CATEGORIES[c] for c in categories),
        purpose=(consent.purpose if consent else codes.REQUESTED_ACTIONS[data.requested_action]))
    return referral


def send_service_referral(actor, case_id: str, data: NewServiceReferral) -> Referral:
    """A referral to a directory service; when information is shared with the
    service, it is checked like any disclosure and recorded as one."""
    case = case_for_referral(actor, case_id)
    person = db.session.get(Person, case.person_id)
    errors: dict[str, list[str]] = {}
    service = db.session.get(ServiceEntry, data.service_id) if data.service_id else None
    if service is None or not service.active:
        errors["service_id"] = ["Choose a service from the directory."]
    reason = clean_text(data.reason, REASON_MAX, "reason", errors, required="Give the reason for the referral.")
    shares = bool(data.shares_information)
    categories: list[str] = []
    part2 = False
    consent = None
    if shares:
        categories = codes.split_codes(codes.join_codes(data.categories, codes.CATEGORIES))
        part2 = add_part2(case, categories, flagged=bool(data.includes_part2))
        if not categories:
            errors["categories"] = ["Choose what you share with the service."]
        if not errors:
            consent = check_sharing(actor, person, data, errors, categories=categories, part2=part2, service=service)
    if errors:
        raise ValidationError("The referral was not sent.", fields=errors)
    now = utcnow()
    referral = Referral(kind=codes.KIND_SERVICE, from_agency_id=actor.agency_id, case_id=case.id, person_id=person.id,
                        service_id=service.id, status=codes.SENT, shares_information=shares, includes_part2=part2,
                        categories=codes.join_codes(categories, codes.CATEGORIES), basis=data.basis if shares else None,
                        consent_id=consent.id if consent else None, sent_by_id=actor.id, sent_at=now)
    referral.reason = reason
    if shares:
        _copy_emergency(referral, data)
    db.session.add(referral)
    db.session.flush()
    audit.record("referral.send", actor=actor, record_type="referral", record_id=referral.id,
                 details={"kind": referral.kind, "case_id": case.id, "person_id": person.id, "service_id": service.id,
                          "shares_information": shares, "basis": referral.basis, "consent_id": referral.consent_id,
                          "part2": part2})
    if shares:
        _record_referral_disclosure(
            actor, referral, data, person=person, case=case, categories=categories, consent=consent,
            disclosed_at=now, recipient_kind=codes.RECIPIENT_SERVICE, recipient_service_id=service.id,
            recipient_name=service.name, affiliation=service.name,
            address=", ".join(p for p in (service.address, service.phone) if p),
            description="Referral to a service: " + "; ".join(codes.CATEGORIES[c] for c in categories),
            purpose=consent.purpose if consent else f"Referral to {service.kind_label.lower()}")
    return referral


def update_service_status(actor, referral_id: str, status: str) -> Referral:
    referral = get_referral(actor, referral_id)
    if not policies.may_update_service_status(actor, referral):
        raise PermissionDenied("Only the sending agency's clinicians track a service referral.")
    if status not in codes.SERVICE_STATUSES:
        raise ValidationError("Choose the referral's status.", fields={"status": ["Choose the referral's status."]})
    if status != referral.status:
        previous = referral.status
        referral.status, referral.status_updated_at, referral.status_updated_by_id = status, utcnow(), actor.id
        db.session.flush()
        audit.record("referral.status", actor=actor, record_type="referral", record_id=referral.id,
                      details={"status": status, "previous_status": previous})
    return referral


# --- deciding ------------------------------------------------------------------------------

def _decidable(actor, referral_id: str) -> Referral:
    policy.require(actor, Permission.REFERRALS_RECEIVE)
    referral = get_referral(actor, referral_id)
    if not policies.may_decide(actor, referral):
        raise PermissionDenied("Only the receiving agency's liaison or supervisor decides on a referral.")
    hold_lapsed(actor, [referral])
    when = format_local(referral.decided_at, actor.agency.timezone) if referral.decided_at else ""
    if referral.status == codes.DECLINED:
        raise Conflict(f"This referral was already declined ({when}); it can't be accepted or declined again. "
                       "The sending agency has the reason and can send a new one.")
    if referral.status == codes.ACCEPTED:
        raise Conflict(f"This referral was already accepted ({when}).")
    if referral.status == codes.HELD:
        raise Conflict(codes.HOLD_REASONS.get(referral.hold_reason, "This referral is on hold.")
                       + " It can't be accepted until the sending agency sends it again under a consent in effect.")
    return referral


def receiving_clinicians(actor):
    from clinician_app.cases.case_services import case_clinicians

    return case_clinicians(actor.agency_id)


def accept_referral(actor, referral_id: str, assignee_id: str | None = None) -> Case:
    """Take the referral: the person (found by exact name and date of birth among the
    receiving agency's records, or added from the summary) gets a case here, or the
    open case they already have, linked to the referral."""
    from clinician_app.people.services import PersonData, _agency_scope, _exact_matches, _insert_person

    referral = _decidable(actor, referral_id)
    assignee = None
    if assignee_id:
        eligible = {u.id: u for u in receiving_clinicians(actor)}
        assignee = eligible.get(assignee_id)
        if assignee is None:
            raise ValidationError("Choose a clinician of your agency, or leave it for a supervisor to assign.",
                                  fields={"assignee_id": ["Choose an active clinician of your agency."]})
    born = date.fromisoformat(referral.person_date_of_birth) if referral.person_date_of_birth else None
    first, last = referral.person_first_name or "", referral.person_last_name or ""
    matches = _exact_matches(_agency_scope(actor.agency_id), first, last, born)
    if matches:
        person, created = matches[0].person, False
    else:
        person = _insert_person(actor.agency_id, PersonData(first_name=first, last_name=last, date_of_birth=born),
                                created_by=actor)
        created = True
        audit.record("person.create", actor=actor, record_type="person", record_id=person.id,
                     details={"source": "referral", "referral_id": referral.id})
    case = db.session.execute(select(Case).where(Case.person_id == person.id, Case.agency_id == actor.agency_id,
                                                 Case.status == CASE_OPEN)).scalars().first()
    now = utcnow()
    if case is None:
        case = Case(agency_id=actor.agency_id, person_id=person.id, assignee_id=assignee.id if assignee else None,
                    status=CASE_OPEN, opened_at=now, opened_by_id=actor.id)
        db.session.add(case)
        db.session.flush()
        audit.record("case.open", actor=actor, record_type="case", record_id=case.id,
                     details={"person_id": person.id, "assignee_id": case.assignee_id, "referral_id": referral.id})
    elif assignee is not None and case.assignee_id is None:
        case.assignee_id = assignee.id
    referral.status, referral.decided_by_id, referral.decided_at = codes.ACCEPTED, actor.id, now
    referral.received_case_id = case.id
    db.session.flush()
    audit.record("referral.accept", actor=actor, record_type="referral", record_id=referral.id,
                 details={"case_id": case.id, "person_id": person.id, "person_created": created,
                          "from_agency_id": referral.from_agency_id})
    return case


def decline_referral(actor, referral_id: str, reason: str) -> Referral:
    referral = _decidable(actor, referral_id)
    errors: dict[str, list[str]] = {}
    text = clean_text(reason, DECLINE_REASON_MAX, "reason", errors,
                      required="Give the reason: the sending agency reads it to plan what to do next.")
    if errors:
        raise ValidationError("The referral was not declined.", fields=errors)
    referral.status, referral.decided_by_id, referral.decided_at = codes.DECLINED, actor.id, utcnow()
    referral.decline_reason = text
    db.session.flush()
    audit.record("referral.decline", actor=actor, record_type="referral", record_id=referral.id,
                 details={"from_agency_id": referral.from_agency_id})
    return referral
