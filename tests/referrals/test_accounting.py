"""The accounting of disclosures (45 CFR 164.528, 42 CFR 2.25; SECURITY.md promise 15):
for a person it lists exactly the disclosures made of their information, the CSV
export matches it row for row, the auditor and the person's clinicians produce
it, and disclosures can't be changed afterwards."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from clinician_app.core.audit import AuditEvent
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.referrals import accounting, codes, disclosures, services
from clinician_app.referrals.models import Disclosure
from tests.cases.note_factories import make_case
from tests.referrals.conftest import agency_referral
from tests.referrals.factories import make_consent, make_service


def _disclose_three(world):
    """Three disclosures of the world's person and one of someone else."""
    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"],
                           purpose="=HYPERLINK(\"http://x\")")  # typed by a user: guarded in the export
    first = agency_referral(world, consent)
    detox = make_service("Chelmsford Street Detox", "detox")
    second = services.send_service_referral(world.clinician, world.case.id, services.NewServiceReferral(
        service_id=detox.id, reason="Asks for detox", shares_information=True, categories=["identity"],
        basis="treatment"))
    third = disclosures.record_emergency_disclosure(world.clinician, world.case.id, disclosures.NewEmergencyDisclosure(
        recipient_name="Dr. Amara Osei", recipient_affiliation="Lowell General Hospital ED",
        disclosed_at=utcnow() - timedelta(hours=1), emergency_nature="Unresponsive after an overdose",
        categories=["identity", "substance_use"], description="Substances used and naloxone given"))
    other_case = make_case(world.agencies["A"].id, assignee=world.clinician)
    services.send_service_referral(world.clinician, other_case.id, services.NewServiceReferral(
        service_id=detox.id, reason="Someone else", shares_information=True, categories=["identity"],
        basis="treatment"))
    db.session.commit()
    return [disclosures.disclosure_for_referral(first).id, disclosures.disclosure_for_referral(second).id, third.id]


def test_lists_exactly_the_persons_disclosures_and_the_export_matches(world, client, login_as, make_user):
    ids = _disclose_three(world)
    auditor = make_user(world.agencies["A"], "auditor")
    login_as(auditor)
    page = client.get(f"/referrals/people/{world.person.id}/disclosures")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    shown = set(__import__("re").findall(r'data-disclosure="([0-9a-f-]{36})"', html))
    assert shown == set(ids)
    assert "Dr. Amara Osei" in html and "Lowell General Hospital ED" in html and "Unresponsive after an overdose" in html
    assert "Chelmsford Street Detox" in html and "Part 2 notice attached" in html
    assert not [s for s in world.secrets if s in html]  # the auditor sees no clinical content

    export = client.get(f"/referrals/people/{world.person.id}/disclosures.csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [r["disclosure_id"] for r in rows] == [r for r in __import__("re").findall(
        r'data-disclosure="([0-9a-f-]{36})"', html)]
    by_id = {r["disclosure_id"]: r for r in rows}
    assert by_id[ids[0]]["purpose"].startswith("'=")  # formula guard
    assert by_id[ids[0]]["part2_notice_attached"] == "yes" and by_id[ids[0]]["consent_id"]
    assert by_id[ids[2]]["recipient"] == "Dr. Amara Osei"
    assert by_id[ids[2]]["emergency_nature"] == "Unresponsive after an overdose"
    assert by_id[ids[1]]["basis"] == codes.BASES["treatment"]
    actions = set(db.session.execute(select(AuditEvent.action).where(AuditEvent.record_id == world.person.id)).scalars())
    assert {"disclosure.accounting", "disclosure.accounting_export"} <= actions

    printable = client.get(f"/referrals/people/{world.person.id}/disclosures/print").get_data(as_text=True)
    assert set(__import__("re").findall(r'data-disclosure="([0-9a-f-]{36})"', printable)) == set(ids)


def test_the_persons_clinicians_see_it_another_agency_does_not(world, client, login_as, make_user):
    _disclose_three(world)
    login_as(make_user(world.agencies["A"], "clinician"))
    assert client.get(f"/referrals/people/{world.person.id}/disclosures").status_code == 200
    for role in ("auditor", "clinician", "supervisor"):
        login_as(make_user(world.agencies["BHU"], role))
        assert client.get(f"/referrals/people/{world.person.id}/disclosures").status_code == 404
        assert client.get(f"/referrals/people/{world.person.id}/disclosures.csv").status_code == 404
    for role in ("officer", "dispatcher", "liaison", "admin", "engagement"):
        login_as(make_user(world.agencies["A"], role))
        assert client.get(f"/referrals/people/{world.person.id}/disclosures").status_code == 403


def test_the_auditor_finds_the_person_by_exact_name_and_birth_date(world, client, login_as, make_user, csrf):
    _disclose_three(world)
    login_as(make_user(world.agencies["A"], "auditor"))
    token = csrf(client.get("/referrals/accounting"))
    found = client.post("/referrals/accounting", data={
        "csrf_token": token, "first_name": world.person.first_name.upper(), "last_name": world.person.last_name,
        "date_of_birth": world.person.date_of_birth.isoformat()})
    assert found.status_code == 200
    assert f"/referrals/people/{world.person.id}/disclosures" in found.get_data(as_text=True)
    missing = client.post("/referrals/accounting", data={"csrf_token": token, "first_name": "", "last_name": "X",
                                                          "date_of_birth": "not a date"})
    assert missing.status_code == 400 and "Enter the first name" in missing.get_data(as_text=True)
    # The auditor console links to it.
    assert 'data-accounting-link' in client.get("/audit/").get_data(as_text=True)


def test_a_disclosure_and_its_sharing_commit_or_fail_together(world, monkeypatch):
    """A failed audit write undoes the referral and its disclosure (promise 13)."""
    from clinician_app.core import audit
    from clinician_app.referrals.models import Referral

    consent = make_consent(world.person, world.clinician, to_agency=world.agencies["BHU"])
    db.session.commit()
    real = audit.record

    def failing(action, **kwargs):
        if action == "disclosure.record":
            raise RuntimeError("audit store down")
        return real(action, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        agency_referral(world, consent)
    db.session.rollback()
    assert db.session.execute(select(Referral)).first() is None
    assert db.session.execute(select(Disclosure)).first() is None


def test_accounting_goes_back_six_years_and_no_further(world):
    ids = _disclose_three(world)
    old = Disclosure(agency_id=world.person.agency_id, person_id=world.person.id, basis="treatment",
                     disclosed_at=utcnow() - timedelta(days=365 * 5), disclosed_by_id=world.clinician.id,
                     recipient_kind="agency", categories="identity")
    older = Disclosure(agency_id=world.person.agency_id, person_id=world.person.id, basis="treatment",
                       disclosed_at=utcnow() - timedelta(days=365 * 7), disclosed_by_id=world.clinician.id,
                       recipient_kind="agency", categories="identity")
    db.session.add_all([old, older])
    db.session.flush()
    listed = {r.disclosure_id for r in accounting.accounting(world.clinician, world.person)}
    assert listed == {*ids, old.id}


@pytest.mark.postgres_only
def test_disclosures_are_append_only_on_postgresql(world):
    ids = _disclose_three(world)
    for statement in ("UPDATE disclosures SET basis = 'consent' WHERE id = :id",
                      "DELETE FROM disclosures WHERE id = :id"):
        with pytest.raises(Exception, match="append-only"):  # noqa: B017
            with db.session.begin_nested():
                db.session.execute(text(statement), {"id": ids[1]})


@pytest.mark.postgres_only
def test_key_rotation_still_reencrypts_disclosures_on_postgresql(app, world, tmp_path):
    """The append-only trigger lets through rotation's UPDATE (only the encrypted
    columns, each under a new key) and nothing else."""
    from clinician_app.core.keyfile import current_keys, load_keys, write_material

    ids = _disclose_three(world)
    original = app.extensions["clinician_keys"]
    path = tmp_path / "keys.json"
    write_material(path, original.to_material())
    app.extensions["clinician_keys"] = load_keys(str(path))
    try:
        old = current_keys().ring.active_key_id
        result = app.test_cli_runner().invoke(args=["keys", "rotate", "--grace", "0"])
        assert result.exit_code == 0, result.output
        assert current_keys().ring.active_key_id != old
        db.session.expire_all()
        for disclosure in db.session.execute(select(Disclosure).where(Disclosure.id.in_(ids))).scalars():
            assert disclosure.description and disclosure.purpose
        emergency = db.session.get(Disclosure, ids[2])
        assert emergency.recipient_name == "Dr. Amara Osei"
    finally:
        app.extensions["clinician_keys"] = original
