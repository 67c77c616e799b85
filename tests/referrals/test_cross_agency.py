"""Across agencies only the summary travels: the receiver sees it and nothing else of
the sender's record (no notes, narratives or screen answers, no phone number),
before and after accepting; a third town sees nothing. Accepting opens a linked
case in the receiving agency; declining returns the referral with the reason;
both are audited. A lapsed consent holds a pending referral."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from clinician_app.cases.models import Case
from clinician_app.core.audit import AuditEvent
from clinician_app.extensions import db
from clinician_app.people.models import Person
from clinician_app.referrals import codes, consents, reading, services
from clinician_app.referrals.models import Referral
from tests.people.factories import make_person
from tests.referrals.conftest import agency_referral, part2_note
from tests.referrals.factories import make_consent


def _send(world, **kwargs):
    part2_note(world)
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"])
    referral = agency_referral(world, consent, **kwargs)
    db.session.commit()
    return referral, consent


def _page(client, url) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def _actions(record_id) -> list[str]:
    return list(db.session.execute(select(AuditEvent.action).where(AuditEvent.record_id == record_id)
                                   .order_by(AuditEvent.seq)).scalars())


def test_receiver_sees_the_summary_and_nothing_else_before_and_after_accepting(world, client, login_as, csrf):
    referral, _consent = _send(world)
    summary_bits = [referral.reason, referral.summary_text, referral.caution_notes, referral.person_first_name]
    hidden = [*world.secrets, "978-555-0199"]
    login_as(world.bhu_liaison)
    status, html = _page(client, "/referrals/inbox")
    assert status == 200 and referral.person_first_name in html
    status, html = _page(client, f"/referrals/{referral.id}")
    assert status == 200
    assert all(bit in html for bit in summary_bits)
    assert codes.part2_notice() in html and "Copy of the consent relied on" in html
    assert not [s for s in hidden if s in html]
    # The sender's case and person stay the sender's.
    assert client.get(f"/cases/{world.case.id}").status_code == 403  # liaisons have no case pages at all
    login_as(world.bhu_clinician)
    assert client.get(f"/cases/{world.case.id}").status_code == 404
    assert client.get(f"/people/{world.person.id}").status_code == 404
    assert client.get(f"/cases/{world.case.id}/notes").status_code == 404

    login_as(world.bhu_liaison)
    token = csrf(client.get(f"/referrals/{referral.id}"))
    response = client.post(f"/referrals/{referral.id}/accept", data={"csrf_token": token, "assignee_id": ""})
    assert response.status_code == 303
    db.session.expire_all()
    received = db.session.get(Referral, referral.id)
    assert received.status == codes.ACCEPTED and received.received_case_id
    case = db.session.get(Case, received.received_case_id)
    assert case.agency_id == world.agencies["BHU"].id and case.person_id != world.person.id

    login_as(world.bhu_clinician)
    for url in (f"/referrals/{referral.id}", f"/cases/{case.id}", f"/people/{case.person_id}"):
        status, html = _page(client, url)
        assert status == 200, url
        assert not [s for s in hidden if s in html], url
    status, html = _page(client, f"/referrals/{referral.id}")
    assert referral.reason in html  # the clinicians now working the case read what it was opened from
    assert client.get(f"/cases/{world.case.id}").status_code == 404


def test_a_third_town_sees_nothing(world, client, login_as, make_user):
    referral, _ = _send(world)
    for user in (world.b_liaison, make_user(world.agencies["B"], "supervisor"), make_user(world.agencies["B"], "clinician")):
        login_as(user)
        assert client.get(f"/referrals/{referral.id}").status_code == 404
        html = client.get("/referrals/inbox").get_data(as_text=True) if user is not world.b_liaison else \
            _page(client, "/referrals/inbox")[1]
        assert referral.person_first_name not in html
        assert referral.person_first_name not in client.get("/referrals/outbox").get_data(as_text=True)


def test_accept_opens_a_linked_case_from_the_summary_and_is_audited(world):
    referral, _ = _send(world)
    case = services.accept_referral(world.bhu_liaison, referral.id, world.bhu_clinician.id)
    person = db.session.get(Person, case.person_id)
    assert person.agency_id == world.agencies["BHU"].id
    assert (person.first_name, person.last_name, person.date_of_birth) == (
        world.person.first_name, world.person.last_name, world.person.date_of_birth)
    assert person.phone is None  # nothing beyond the summary crossed
    assert case.assignee_id == world.bhu_clinician.id and referral.received_case_id == case.id
    assert "referral.accept" in _actions(referral.id) and "case.open" in _actions(case.id)
    # The sender sees the outcome in the outbox.
    assert reading.outbox(world.clinician)[0].status == codes.ACCEPTED


def test_accept_joins_the_open_case_of_a_person_the_receiver_already_knows(world):
    referral, _ = _send(world)
    known = make_person(world.agencies["BHU"].id, world.person.first_name, world.person.last_name,
                        world.person.date_of_birth)
    existing = Case(agency_id=world.agencies["BHU"].id, person_id=known.id, status="open")
    db.session.add(existing)
    db.session.flush()
    case = services.accept_referral(world.bhu_supervisor, referral.id)
    assert case.id == existing.id and referral.received_case_id == existing.id


def test_decline_returns_it_with_the_reason_and_accepting_afterwards_is_refused(world, client, login_as, csrf):
    referral, _ = _send(world)
    login_as(world.bhu_liaison)
    token = csrf(client.get(f"/referrals/{referral.id}"))
    response = client.post(f"/referrals/{referral.id}/decline", data={"csrf_token": token, "reason": "  "})
    assert response.status_code == 400 and "Give the reason" in response.get_data(as_text=True)
    response = client.post(f"/referrals/{referral.id}/decline",
                           data={"csrf_token": token, "reason": "No BHU capacity in Westford this week."})
    assert response.status_code == 303
    assert "referral.decline" in _actions(referral.id)

    response = client.post(f"/referrals/{referral.id}/accept", data={"csrf_token": token})
    assert response.status_code == 409
    assert "already declined" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == codes.DECLINED

    login_as(world.clinician)
    status, html = _page(client, f"/referrals/{referral.id}")
    assert status == 200 and "No BHU capacity in Westford this week." in html
    assert 'data-status="declined"' in client.get("/referrals/outbox").get_data(as_text=True)


def test_only_the_receiving_agency_decides(world, make_user):
    import pytest

    from clinician_app.core.errors import NotFound, PermissionDenied

    referral, _ = _send(world)
    sender_liaison = make_user(world.agencies["A"], "liaison")
    with pytest.raises(PermissionDenied):
        services.accept_referral(sender_liaison, referral.id)
    with pytest.raises(NotFound):
        services.decline_referral(world.b_liaison, referral.id, "Not ours")


def test_revoking_the_consent_holds_the_pending_referral_at_once(world, client, login_as, csrf):
    referral, consent = _send(world)
    consents.revoke_consent(world.clinician, consent.id, date.today(), "person")
    db.session.commit()
    assert referral.status == codes.HELD and referral.hold_reason == codes.HOLD_REVOKED
    login_as(world.bhu_liaison)
    status, html = _page(client, f"/referrals/{referral.id}")
    assert status == 200 and "was revoked" in html
    assert referral.reason not in html and referral.summary_text not in html
    token = csrf(client.get("/auth/account"))
    response = client.post(f"/referrals/{referral.id}/accept", data={"csrf_token": token})
    assert response.status_code in (400, 409) and "was revoked" in response.get_data(as_text=True)
    login_as(world.clinician)
    assert "consent no longer in effect" in client.get("/referrals/outbox").get_data(as_text=True)


def test_a_consent_that_expires_after_sending_holds_the_referral_when_next_read(world):
    referral, consent = _send(world)
    consent.expires_on = date.today() - timedelta(days=1)
    db.session.flush()
    reading.inbox(world.bhu_liaison)
    assert referral.status == codes.HELD and referral.hold_reason == codes.HOLD_EXPIRED
    assert "referral.hold" in _actions(referral.id)
