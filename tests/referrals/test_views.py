"""The referral pages through the test client: bad input gives clear messages and
keeps what was typed (never a 500, nothing lost), the consent form and its
printable version, the directory, the case page's section, and the notice text."""
from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinician_app.extensions import db
from clinician_app.referrals import codes
from clinician_app.referrals.models import Consent, Disclosure, Referral, ServiceEntry
from tests.referrals.factories import make_consent, make_service

DESIGN_NOTICE = Path("/work/shared/design/PART2-NOTICE.txt")


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_the_shipped_notice_is_the_design_text():
    shipped = codes.notice_file_text()
    if DESIGN_NOTICE.exists():
        assert shipped == DESIGN_NOTICE.read_text(encoding="utf-8")
    assert codes.part2_notice().startswith("This record which has been disclosed to you is protected by Federal")
    assert codes.part2_notice().endswith("(see 42 CFR 2.31).")
    assert codes.part2_notice() in shipped


def test_referral_without_consent_or_basis_keeps_what_was_typed(world, client, login_as, csrf):
    login_as(world.clinician)
    page = client.get(f"/referrals/cases/{world.case.id}/agency")
    assert page.status_code == 200
    assert world.person.first_name in page.get_data(as_text=True)
    response = client.post(f"/referrals/cases/{world.case.id}/agency", data={
        "csrf_token": csrf(page), "to_agency_id": world.agencies["BHU"].id, "reason": "Needs the BHU's support tonight",
        "risk_level": "high", "requested_action": "assess", "summary_text": "Prefers phone calls after 6pm"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose the consent this relies on, or the legal basis" in html
    assert "Needs the BHU&#39;s support tonight" in html and "Prefers phone calls after 6pm" in html
    assert _count(Referral) == 0 and _count(Disclosure) == 0


def test_referral_form_sends_under_a_consent(world, client, login_as, csrf):
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"])
    db.session.commit()
    login_as(world.clinician)
    page = client.get(f"/referrals/cases/{world.case.id}/agency")
    assert consent.id in page.get_data(as_text=True)
    response = client.post(f"/referrals/cases/{world.case.id}/agency", data={
        "csrf_token": csrf(page), "to_agency_id": world.agencies["BHU"].id, "reason": "Needs follow-up",
        "risk_level": "moderate", "requested_action": "take_over", "cautions": ["weapon"], "includes_part2": "y",
        "basis": "consent", "consent_id": consent.id})
    assert response.status_code == 303
    referral = db.session.execute(select(Referral)).scalar_one()
    assert response.headers["Location"].endswith(f"/referrals/{referral.id}")
    detail = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert codes.part2_notice() in detail and "Awaiting a decision" in detail
    case_page = client.get(f"/cases/{world.case.id}").get_data(as_text=True)
    assert 'data-section="referrals"' in case_page and f'data-referral="{referral.id}"' in case_page


def test_service_referral_form_and_status(world, client, login_as, csrf):
    service = make_service("Mill City Recovery Coaches", "recovery_coach")
    db.session.commit()
    login_as(world.clinician)
    page = client.get(f"/referrals/cases/{world.case.id}/service")
    assert "Mill City Recovery Coaches" in page.get_data(as_text=True)
    token = csrf(page)
    refused = client.post(f"/referrals/cases/{world.case.id}/service", data={
        "csrf_token": token, "service_id": service.id, "reason": "Peer support", "shares_information": "y",
        "categories": ["identity"]})
    assert refused.status_code == 400 and "Choose the consent" in refused.get_data(as_text=True)
    sent = client.post(f"/referrals/cases/{world.case.id}/service", data={
        "csrf_token": token, "service_id": service.id, "reason": "Peer support"})
    assert sent.status_code == 303
    referral = db.session.execute(select(Referral)).scalar_one()
    moved = client.post(f"/referrals/{referral.id}/status", data={"csrf_token": token, "status": "scheduled"})
    assert moved.status_code == 303
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "scheduled"


def test_consent_without_expiry_or_purpose_is_refused_clearly(world, client, login_as, csrf):
    login_as(world.clinician)
    page = client.get(f"/referrals/people/{world.person.id}/consents/new")
    assert page.status_code == 200
    response = client.post(f"/referrals/people/{world.person.id}/consents/new", data={
        "csrf_token": csrf(page), "recipient_kind": "agency", "recipient_agency_id": world.agencies["BHU"].id,
        "categories": ["identity", "substance_use"], "purpose": "", "signed_on": date.today().isoformat(),
        "signed_method": "verbal_witnessed", "signed_by": "person", "expiry_event": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "State the purpose" in html
    assert _count(Consent) == 0
    response = client.post(f"/referrals/people/{world.person.id}/consents/new", data={
        "csrf_token": csrf(page), "recipient_kind": "agency", "recipient_agency_id": world.agencies["BHU"].id,
        "categories": ["identity", "substance_use"], "purpose": "Arrange treatment", "signed_on": date.today().isoformat(),
        "signed_method": "verbal_witnessed", "signed_by": "person"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Give the date the consent expires, or the event that ends it." in html
    assert "Name the witness to verbal consent." in html
    assert 'value="Arrange treatment"' in html
    assert _count(Consent) == 0
    response = client.post(f"/referrals/people/{world.person.id}/consents/new", data={
        "csrf_token": csrf(page), "recipient_kind": "agency", "recipient_agency_id": world.agencies["BHU"].id,
        "categories": ["identity", "substance_use"], "purpose": "Arrange treatment", "signed_on": date.today().isoformat(),
        "signed_method": "verbal_witnessed", "witness_name": "Pat Witness", "signed_by": "person",
        "expires_on": (date.today() + timedelta(days=90)).isoformat()})
    assert response.status_code == 303
    consent = db.session.execute(select(Consent)).scalar_one()
    assert consent.covers_substance_use and consent.witness_name == "Pat Witness"


def test_consent_page_printable_form_and_revocation(world, client, login_as, csrf):
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"], purpose="Arrange detox")
    db.session.commit()
    login_as(world.clinician)
    page = client.get(f"/referrals/consents/{consent.id}").get_data(as_text=True)
    assert "In effect" in page and "Arrange detox" in page
    printable = client.get(f"/referrals/consents/{consent.id}/print").get_data(as_text=True)
    for element in ("Person whose information is disclosed", "Who may disclose it", "To whom", "What information",
                    "Purpose", "This consent expires", "Revocation", "Signed", world.person.first_name,
                    world.agencies["BHU"].name, "Arrange detox", codes.part2_notice()):
        assert element in printable, element
    blank = client.get("/referrals/consents/blank-form")
    assert blank.status_code == 200 and "Signature of the person" in blank.get_data(as_text=True)
    revoke = client.get(f"/referrals/consents/{consent.id}/revoke")
    future = client.post(f"/referrals/consents/{consent.id}/revoke", data={
        "csrf_token": csrf(revoke), "revoked_on": (date.today() + timedelta(days=2)).isoformat(), "revoked_by": "person"})
    assert future.status_code == 400 and "can&#39;t be dated in the future" in future.get_data(as_text=True)
    done = client.post(f"/referrals/consents/{consent.id}/revoke", data={
        "csrf_token": csrf(revoke), "revoked_on": date.today().isoformat(), "revoked_by": "person"})
    assert done.status_code == 303
    assert "Revoked" in client.get(f"/referrals/consents/{consent.id}").get_data(as_text=True)
    again = client.post(f"/referrals/consents/{consent.id}/revoke", data={
        "csrf_token": csrf(revoke), "revoked_on": date.today().isoformat(), "revoked_by": "person"})
    assert again.status_code == 400 and "already revoked" in again.get_data(as_text=True)
    person_page = client.get(f"/people/{world.person.id}").get_data(as_text=True)
    assert f"/referrals/consents/{consent.id}" in person_page


def test_emergency_disclosure_form(world, client, login_as, csrf):
    login_as(world.clinician)
    page = client.get(f"/referrals/cases/{world.case.id}/emergency")
    missing = client.post(f"/referrals/cases/{world.case.id}/emergency", data={
        "csrf_token": csrf(page), "recipient_name": "Dr. Osei", "disclosed_at": "2020-13-45T99:00"})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 400 and "Give their affiliation" in html and "Enter a date and time" in html
    assert 'value="Dr. Osei"' in html
    assert _count(Disclosure) == 0
    done = client.post(f"/referrals/cases/{world.case.id}/emergency", data={
        "csrf_token": csrf(page), "recipient_name": "Dr. Osei", "recipient_affiliation": "Lowell General ED",
        "disclosed_at": "2024-01-05T10:30", "emergency_nature": "Overdose", "categories": ["identity"],
        "description": "Medications list"})
    assert done.status_code == 303
    disclosure = db.session.execute(select(Disclosure)).scalar_one()
    assert disclosure.basis == codes.BASIS_EMERGENCY and disclosure.disclosed_by_id == world.clinician.id
    assert disclosure.disclosed_at.hour == 15  # 10:30 in New York is 15:30 UTC


def test_directory_search_and_upkeep(world, client, login_as, make_user, csrf):
    make_service("Greater Lowell Community Behavioral Health Center", "cbhc", all_towns=False,
                 towns=[world.agencies["A"]])
    make_service("988 Suicide & Crisis Lifeline", "crisis_line")
    db.session.commit()
    login_as(world.bhu_liaison)
    html = client.get("/referrals/services?q=lowell").get_data(as_text=True)
    assert "Greater Lowell" in html and "988 Suicide" not in html
    html = client.get(f"/referrals/services?town={world.agencies['B'].id}").get_data(as_text=True)
    assert "988 Suicide" in html and "Greater Lowell" not in html
    html = client.get("/referrals/services?kind=crisis_line").get_data(as_text=True)
    assert "988 Suicide" in html and "Add a service" not in html
    assert client.get("/referrals/services/new").status_code == 403

    login_as(make_user(world.agencies["A"], "supervisor"))
    page = client.get("/referrals/services/new")
    bad = client.post("/referrals/services/new", data={"csrf_token": csrf(page), "name": "Elder line", "kind": "elder",
                                                       "website": "javascript:alert(1)"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "starting with https://" in html and "Choose the towns it serves" in html
    good = client.post("/referrals/services/new", data={
        "csrf_token": csrf(page), "name": "Elder line", "kind": "elder", "phone": "978-555-0177",
        "town_ids": [world.agencies["A"].id], "active": "y"})
    assert good.status_code == 303
    service = db.session.execute(select(ServiceEntry).where(ServiceEntry.name == "Elder line")).scalar_one()
    assert [t.id for t in service.towns] == [world.agencies["A"].id]
    edit = client.get(f"/referrals/services/{service.id}/edit")
    assert edit.status_code == 200 and "978-555-0177" in edit.get_data(as_text=True)


def test_liaison_sees_inbox_and_outbox_but_no_case_or_person_pages(world, client, login_as, make_user):
    liaison = make_user(world.agencies["A"], "liaison")
    login_as(liaison)
    assert client.get("/referrals/outbox").status_code == 200
    assert client.get("/referrals/inbox").status_code == 200
    for url in (f"/cases/{world.case.id}", f"/people/{world.person.id}", f"/referrals/cases/{world.case.id}/agency",
                f"/referrals/people/{world.person.id}/consents", f"/cases/{world.case.id}/notes"):
        assert client.get(url).status_code == 403, url


@pytest.mark.parametrize("table", ["service_directory", "service_towns", "consents", "referrals", "disclosures"])
def test_model_and_migration_agree(app, table):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)

    mine = [d for d in diff if table in re.split(r"\W+", repr(d))]
    assert mine == []


def test_home_panels_link_the_liaison_and_the_auditor_to_their_referral_pages(world, client, login_as, make_user):
    from tests.referrals.conftest import agency_referral

    agency_referral(world, None, part2=False, basis="treatment")
    db.session.commit()
    login_as(world.bhu_liaison)
    html = client.get("/").get_data(as_text=True)
    assert "Referrals awaiting your decision" in html and "/referrals/inbox" in html
    assert world.person.first_name not in html  # counts only
    login_as(make_user(world.agencies["A"], "auditor"))
    assert "/referrals/accounting" in client.get("/").get_data(as_text=True)
