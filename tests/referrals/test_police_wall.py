"""The hard wall between Part 2 records and the police side (42 CFR 2.12): officers
and dispatchers hold none of the referral, consent or disclosure permissions, get
403 on every referral page, and the call pages and the CAD API they read never
carry a referral's summary, its consent or the Part 2 notice."""
from __future__ import annotations

import pytest

from clinician_app.auth.services import create_api_client
from clinician_app.calls.models import Call
from clinician_app.core.policy import Permission, Role, permissions_for
from clinician_app.extensions import db
from clinician_app.referrals import codes
from tests.referrals.conftest import agency_referral, part2_note
from tests.referrals.factories import make_consent

POLICE = ("officer", "dispatcher")
REFERRAL_PERMISSIONS = {Permission.REFERRALS_SEND, Permission.REFERRALS_RECEIVE, Permission.DISCLOSURES_READ,
                        Permission.PERSONS_READ, Permission.PERSONS_WRITE, Permission.CASES_READ}


@pytest.mark.parametrize("role", POLICE)
def test_police_roles_hold_no_referral_consent_or_disclosure_permission(role):
    assert not permissions_for([Role(role)]) & REFERRAL_PERMISSIONS


@pytest.mark.parametrize("role", POLICE)
def test_police_roles_get_403_on_every_referral_page(app, world, client, login_as, make_user, csrf, role):
    part2_note(world)
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"])
    referral = agency_referral(world, consent)
    db.session.commit()
    login_as(make_user(world.agencies["A"], role))
    token = csrf(client.get("/auth/account"))
    values = {"referral_id": referral.id, "case_id": world.case.id, "person_id": world.person.id,
              "consent_id": consent.id, "service_id": referral.id}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("referrals.") or rule.endpoint == "referrals.directory":
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", values[name])
        if "GET" in rule.methods:
            assert client.get(url).status_code == 403, url
        if "POST" in rule.methods:
            assert client.post(url, data={"csrf_token": token}).status_code == 403, url
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("role", POLICE)
def test_call_pages_for_police_never_carry_referral_or_part2_data(world, client, login_as, make_user, role):
    part2_note(world)
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"])
    referral = agency_referral(world, consent)
    db.session.commit()
    call_ids = [c.id for c in Call.query.filter_by(case_id=world.case.id)]
    assert call_ids
    forbidden = [referral.reason, referral.summary_text, referral.caution_notes, consent.purpose,
                 codes.part2_notice(), "42 CFR", "Part 2", referral.id, consent.id, "/referrals/consents",
                 "/disclosures"]
    login_as(make_user(world.agencies["A"], role))
    for url in ["/calls/", *(f"/calls/{cid}" for cid in call_ids)]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert [f for f in forbidden if f in html] == [], url


def test_the_cad_api_never_carries_referral_data(world, client):
    part2_note(world)
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"])
    referral = agency_referral(world, consent)
    _api, token = create_api_client(None, "CAD", ["calls:read"], 30, agency_id=world.agencies["A"].id)
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [client.get("/api/v1/calls", headers=headers).get_data(as_text=True)]
    for call in Call.query.filter_by(case_id=world.case.id):
        bodies.append(client.get(f"/api/v1/calls/{call.id}", headers=headers).get_data(as_text=True))
    for body in bodies:
        for text in (referral.reason, referral.summary_text, consent.purpose, "referral", "part2", "consent"):
            assert text not in body
