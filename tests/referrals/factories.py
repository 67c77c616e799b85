"""Services, consents and referrals for the referral tests and the authorization
matrix, stored as the services store them (text encrypted). Free text is a
sentinel: the suite fails if one reaches a log."""
from __future__ import annotations

import secrets
from datetime import date, timedelta

from clinician_app.agencies.models import Agency
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.referrals import codes
from clinician_app.referrals.models import Consent, Referral, ServiceEntry
from tests.cases.note_factories import make_case, sentinel


def make_service(name: str | None = None, kind: str = "cmhc", *, all_towns: bool = True, towns=()) -> ServiceEntry:
    service = ServiceEntry(name=name or f"Service {secrets.token_hex(3)}", kind=kind, description="Walk-in support",
                           phone="978-555-0100", address="1 Main Street", serves_all_towns=all_towns)
    service.towns = list(towns)
    db.session.add(service)
    db.session.flush()
    return service


def make_consent(person, recorder, *, to_agency=None, service=None, recipient_class: str | None = None,
                 categories=(codes.CATEGORY_IDENTITY, codes.CATEGORY_MENTAL_HEALTH, codes.CATEGORY_SAFETY,
                             codes.CATEGORY_SUBSTANCE_USE),
                 signed_on: date | None = None, expires_on: date | None = None, revoked_on: date | None = None,
                 purpose: str | None = None, expiry_event: str | None = None) -> Consent:
    """A consent as create_consent stores it, without its checks (so a test can make
    an expired, revoked or future-dated one directly)."""
    today = date.today()
    kind = (codes.RECIPIENT_AGENCY if to_agency is not None else codes.RECIPIENT_SERVICE if service is not None
            else codes.RECIPIENT_CLASS)
    consent = Consent(agency_id=person.agency_id, person_id=person.id, recipient_kind=kind,
                      recipient_agency_id=to_agency.id if to_agency is not None else None,
                      recipient_service_id=service.id if service is not None else None,
                      recipient_class=recipient_class if kind == codes.RECIPIENT_CLASS else None,
                      categories=codes.join_codes(categories, codes.CATEGORIES),
                      signed_on=signed_on or today - timedelta(days=10),
                      expires_on=expires_on if expires_on is not None or expiry_event else today + timedelta(days=180),
                      signed_method="written", signed_by="person", revoked_on=revoked_on,
                      revoked_by="person" if revoked_on else None, recorded_by_id=recorder.id)
    consent.purpose = purpose or sentinel("purpose")
    if expiry_event:
        consent.expiry_event = expiry_event
    db.session.add(consent)
    db.session.flush()
    return consent


def third_agency() -> Agency:
    code = f"C{secrets.token_hex(3).upper()}"
    agency = Agency(name=f"{code} Police Department", code=code, kind="town")
    db.session.add(agency)
    db.session.flush()
    return agency


def make_referral(from_agency_id: str, to_agency_id: str, sender, *, status: str = codes.PENDING,
                  part2: bool = False, consent=None, case=None) -> Referral:
    """An agency referral as send_agency_referral stores it (without its disclosure)."""
    case = case or make_case(from_agency_id)
    referral = Referral(kind=codes.KIND_AGENCY, from_agency_id=from_agency_id, case_id=case.id,
                        person_id=case.person_id, to_agency_id=to_agency_id, status=status, shares_information=True,
                        includes_part2=part2, categories="identity,mental_health", basis="consent" if consent else "treatment",
                        consent_id=consent.id if consent else None, risk_level="moderate", cautions="",
                        requested_action="assess", sent_by_id=sender.id, sent_at=utcnow())
    referral.person_first_name = sentinel("first")
    referral.person_last_name = sentinel("last")
    referral.person_date_of_birth = "1980-05-17"
    referral.reason = sentinel("reason")
    referral.summary_text = sentinel("summary")
    db.session.add(referral)
    db.session.flush()
    return referral


def make_service_referral(from_agency_id: str, sender, service=None) -> Referral:
    case = make_case(from_agency_id)
    referral = Referral(kind=codes.KIND_SERVICE, from_agency_id=from_agency_id, case_id=case.id,
                        person_id=case.person_id, service_id=(service or make_service()).id, status=codes.SENT,
                        shares_information=False, includes_part2=False, categories="", cautions="",
                        sent_by_id=sender.id, sent_at=utcnow())
    referral.reason = sentinel("reason")
    db.session.add(referral)
    db.session.flush()
    return referral
