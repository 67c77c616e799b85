"""The consent matrix (SECURITY.md promise 3): a referral carrying substance-use
(Part 2) information goes only under a consent that is in effect, names the
recipient and covers substance use; every one that goes is a disclosure with the
42 CFR 2.32 notice and a copy of the consent attached, and every one refused
leaves nothing behind."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import ValidationError
from clinician_app.extensions import db
from clinician_app.referrals import codes, disclosures, services
from clinician_app.referrals.models import Disclosure, Referral
from tests.referrals.conftest import agency_referral, part2_note
from tests.referrals.factories import make_consent

TODAY = date.today()
NO_SUD = (codes.CATEGORY_IDENTITY, codes.CATEGORY_MENTAL_HEALTH, codes.CATEGORY_SAFETY)


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


CASES = {
    # name: (consent options, allowed?, message fragment when refused)
    "covering": ({}, True, None),
    "covering_by_class": ({"to_agency": None, "recipient_class": "partner_agencies"}, True, None),
    "expiring_today": ({"expires_on": TODAY}, True, None),
    "not_covering_substance_use": ({"categories": NO_SUD}, False, "does not cover substance-use"),
    "expired": ({"expires_on": TODAY - timedelta(days=1)}, False, "expired on"),
    "revoked": ({"revoked_on": TODAY - timedelta(days=1)}, False, "was revoked"),
    "future_dated": ({"signed_on": TODAY + timedelta(days=3)}, False, "not in effect yet"),
    "expiry_event_happened": ({"expires_on": None, "expiry_event": "Discharge from detox"}, True, None),
    "another_recipient": ({"to_agency": "B"}, False, "does not name this recipient"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_part2_referral_under_each_kind_of_consent(world, name):
    options, allowed, message = CASES[name]
    options = dict(options)
    target = options.pop("to_agency", "BHU")
    to_agency = world.agencies[target] if target else None
    consent = make_consent(world.person, world.clinician, to_agency=to_agency, **options)
    before = (_count(Referral), _count(Disclosure))
    if not allowed:
        with pytest.raises(ValidationError) as refused:
            agency_referral(world, consent)
        assert message in " ".join(refused.value.fields["consent_id"])
        assert (_count(Referral), _count(Disclosure)) == before
        return
    referral = agency_referral(world, consent)
    assert referral.includes_part2 and referral.status == codes.PENDING and referral.consent_id == consent.id
    disclosure = db.session.execute(select(Disclosure).where(Disclosure.referral_id == referral.id)).scalar_one()
    assert disclosure.notice_attached and disclosure.includes_part2
    assert disclosure.consent_id == consent.id and disclosure.basis == codes.BASIS_CONSENT
    assert disclosure.consent_copy["consent_id"] == consent.id
    assert disclosure.consent_copy["purpose"] == consent.purpose
    assert codes.CATEGORIES[codes.CATEGORY_SUBSTANCE_USE] in disclosure.consent_copy["information"]
    assert codes.CATEGORY_SUBSTANCE_USE in disclosure.category_codes
    actions = set(db.session.execute(select(AuditEvent.action).where(
        AuditEvent.record_id.in_([referral.id, disclosure.id]))).scalars())
    assert {"referral.send", "disclosure.record"} <= actions


def test_expiry_event_once_happened_stops_sharing(world):
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"], expires_on=None,
                           expiry_event="Discharge from detox")
    consent.expiry_event_on = TODAY
    with pytest.raises(ValidationError) as refused:
        agency_referral(world, consent)
    assert "expiry event happened" in refused.value.fields["consent_id"][0]


def test_a_case_with_part2_notes_makes_the_referral_part2_even_unticked(world):
    part2_note(world)
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"], categories=NO_SUD)
    with pytest.raises(ValidationError) as refused:
        agency_referral(world, consent, part2=False)
    assert "does not cover substance-use" in refused.value.fields["consent_id"][0]
    covering = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"])
    referral = agency_referral(world, covering, part2=False)
    assert referral.includes_part2


def test_without_part2_a_consent_still_must_cover_what_is_shared(world):
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"],
                           categories=(codes.CATEGORY_IDENTITY,))
    with pytest.raises(ValidationError) as refused:
        agency_referral(world, consent, part2=False)
    assert "does not cover: Mental health" in refused.value.fields["consent_id"][0]


def test_part2_refused_under_a_basis_that_is_not_consent_or_emergency(world):
    for basis in (codes.BASIS_TREATMENT, codes.BASIS_SERIOUS_THREAT):
        with pytest.raises(ValidationError) as refused:
            agency_referral(world, None, basis=basis)
        assert "only under a consent" in refused.value.fields["basis"][0]
    assert _count(Referral) == 0


def test_treatment_basis_without_part2_is_a_disclosure_without_the_notice(world):
    referral = agency_referral(world, None, part2=False, basis=codes.BASIS_TREATMENT)
    disclosure = disclosures.disclosure_for_referral(referral)
    assert disclosure.basis == codes.BASIS_TREATMENT and not disclosure.notice_attached
    assert disclosure.consent_copy_enc is None


def test_medical_emergency_carries_part2_and_needs_its_details(world):
    with pytest.raises(ValidationError) as refused:
        agency_referral(world, None, basis=codes.BASIS_EMERGENCY)
    assert set(refused.value.fields) == {"emergency_nature", "emergency_recipient"}
    referral = agency_referral(world, None, basis=codes.BASIS_EMERGENCY, emergency_nature="Overdose, unresponsive",
                               emergency_recipient="Dr. Rivera")
    disclosure = disclosures.disclosure_for_referral(referral)
    assert disclosure.notice_attached and disclosure.emergency_nature == "Overdose, unresponsive"
    assert disclosure.recipient_name == "Dr. Rivera"


def test_no_consent_or_basis_is_refused_with_a_clear_message(world):
    with pytest.raises(ValidationError) as refused:
        agency_referral(world, None, basis="")
    assert "Choose the consent" in refused.value.fields["basis"][0]
    with pytest.raises(ValidationError) as refused:
        agency_referral(world, None, basis="consent", consent_id=None)
    assert "Choose the person's consent" in refused.value.fields["consent_id"][0]


def test_another_persons_consent_is_not_accepted(world):
    from tests.people.factories import make_person

    other = make_consent(make_person(world.agencies["A"].id), world.clinician, to_agency=world.agencies["BHU"])
    with pytest.raises(ValidationError) as refused:
        agency_referral(world, other)
    assert "Choose the person's consent" in refused.value.fields["consent_id"][0]


def test_service_referral_sharing_part2_needs_a_consent_naming_the_service(world):
    from tests.referrals.factories import make_service

    detox = make_service("Detox", "detox")
    housing = make_service("Housing", "housing")
    by_class = make_consent(world.person, world.clinician, recipient_class="treating_providers")
    data = services.NewServiceReferral(service_id=housing.id, reason="Needs a bed", shares_information=True,
                                       categories=["identity", "substance_use"], basis="consent",
                                       consent_id=by_class.id)
    with pytest.raises(ValidationError) as refused:
        services.send_service_referral(world.clinician, world.case.id, data)
    assert "does not name this recipient" in refused.value.fields["consent_id"][0]
    data.service_id = detox.id
    referral = services.send_service_referral(world.clinician, world.case.id, data)
    disclosure = disclosures.disclosure_for_referral(referral)
    assert referral.includes_part2 and disclosure.notice_attached and disclosure.recipient_service_id == detox.id


def test_service_referral_without_sharing_is_not_a_disclosure(world):
    from tests.referrals.factories import make_service

    line = make_service("988", "crisis_line")
    referral = services.send_service_referral(world.clinician, world.case.id, services.NewServiceReferral(
        service_id=line.id, reason="Gave the number to call", shares_information=False))
    assert referral.status == codes.SENT and disclosures.disclosure_for_referral(referral) is None
    services.update_service_status(world.clinician, referral.id, codes.ATTENDED)
    assert referral.status == codes.ATTENDED
    with pytest.raises(ValidationError):
        services.update_service_status(world.clinician, referral.id, "lost")
