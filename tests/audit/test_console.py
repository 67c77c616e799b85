"""The auditor's console through the test client: agency scope, filters, paging,
CSV export, the verify button, and who may use it (only auditors; separation of
duties keeps administrators out)."""
import csv
import html
import io
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from clinician_app.core import audit
from clinician_app.core.audit import AuditEvent
from clinician_app.core.policy import Role
from clinician_app.extensions import db


@pytest.fixture()
def auditor(agencies, make_user):
    return make_user(agencies["A"], "auditor")


def _at(monkeypatch, when: datetime):
    """Record the next events as if written at ``when`` (UTC)."""
    monkeypatch.setattr(audit, "utcnow", lambda: when)


def _event(action, agency, *, actor=None, record_type="user", record_id=None, outcome="success", reason=None,
           details=None, actor_username=None):
    return audit.record(action, actor=actor, agency_id=agency.id, record_type=record_type,
                        record_id=record_id or str(uuid.uuid4()), outcome=outcome, reason=reason, details=details,
                        actor_username=actor_username)


def _page(client, **params):
    response = client.get("/audit/", query_string=params)
    return response, response.get_data(as_text=True)


def _seqs_shown(body):
    return [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', body)]


def _link(body, rel):
    match = re.search(rf'<a href="([^"]+)" class="[^"]*" rel="{rel}"', body)
    return html.unescape(match.group(1)) if match else None


def test_auditor_sees_own_agency_events_not_another_agencys(client, login_as, agencies, make_user, auditor):
    clinician_a = make_user(agencies["A"], "clinician")
    clinician_b = make_user(agencies["B"], "clinician")
    ours = _event("case.viewed", agencies["A"], actor=clinician_a, record_type="case", outcome="denied",
                  reason="outside assignment")
    theirs = _event("case.viewed", agencies["B"], actor=clinician_b, record_type="case")
    login_as(auditor)
    response, body = _page(client)
    assert response.status_code == 200
    assert ours.record_id in body and clinician_a.username in body
    assert theirs.record_id not in body and clinician_b.username not in body
    assert ours.seq in _seqs_shown(body) and theirs.seq not in _seqs_shown(body)
    row = body[body.index(f'<tr data-seq="{ours.seq}"'):]
    row = row[:row.index("</tr>")]
    assert "app-tag--warning" in row and ">denied<" in row and "outside assignment" in row
    assert "case.viewed" in row and "127.0.0.1" not in row  # recorded outside a request: no address
    # Nor can B's events be reached by naming them in a filter.
    _, body = _page(client, record_id=theirs.record_id)
    assert theirs.record_id not in _seqs_shown(body) and "No matching events" in body


def test_page_shows_newest_first_in_the_agency_time_zone_with_labelled_filters(client, login_as, agencies,
                                                                                monkeypatch, make_agency,
                                                                                make_user):
    pacific = make_agency("TOWNP", timezone="America/Los_Angeles")
    auditor = make_user(pacific, "auditor")
    _at(monkeypatch, datetime(2024, 7, 1, 3, 15, 7, tzinfo=UTC))
    older = _event("user.updated", pacific)
    _at(monkeypatch, datetime(2024, 7, 2, 3, 15, 7, tzinfo=UTC))
    newer = _event("user.updated", pacific)
    login_as(auditor)
    _, body = _page(client)
    assert _seqs_shown(body) == [newer.seq, older.seq]
    for day, clock in (("2024-06-30", "20:15:07 PDT"), ("2024-07-01", "20:15:07 PDT")):
        assert f'<span class="text-no-wrap">{day}</span> <span class="text-no-wrap">{clock}</span>' in body
    assert "<caption" in body
    for name in ("user", "action", "record_type", "record_id", "date_from", "date_to"):
        assert re.search(rf'<label class="usa-label[^"]*" for="{name}">', body), name
        assert f'id="{name}"' in body
    assert 'type="date"' in body


def test_filter_by_user(client, login_as, agencies, make_user, auditor):
    alice = make_user(agencies["A"], "clinician", username="alice.towna")
    bob = make_user(agencies["A"], "clinician", username="bob.towna")
    by_alice = _event("case.viewed", agencies["A"], actor=alice)
    by_bob = _event("case.viewed", agencies["A"], actor=bob)
    login_as(auditor)
    response, body = _page(client, user="  Alice.TownA ")
    assert response.status_code == 200
    assert by_alice.seq in _seqs_shown(body) and by_bob.seq not in _seqs_shown(body)
    assert all(s == by_alice.seq for s in _seqs_shown(body))


def test_filter_by_exact_action_and_by_family(client, login_as, agencies, auditor):
    signin = _event("auth.signin", agencies["A"])
    signout = _event("auth.signout", agencies["A"])
    created = _event("user.create", agencies["A"])
    login_as(auditor)
    _, body = _page(client, action="auth.signin")
    assert set(_seqs_shown(body)) == {signin.seq}
    _, body = _page(client, action="auth.*")
    shown = set(_seqs_shown(body))
    assert {signin.seq, signout.seq} <= shown and created.seq not in shown
    # The list offers the actions seen in the agency's trail and their families.
    assert '<option value="user.*">user: every action</option>' in body
    assert '<option value="user.create">user.create</option>' in body
    assert '<option selected value="auth.*">' in body
    # "_" is not a wildcard: a family is matched literally.
    _, body = _page(client, action="auth_*")
    assert _seqs_shown(body) == []


def test_filter_by_record_type_and_id(client, login_as, agencies, auditor):
    target = str(uuid.uuid4())
    on_user = _event("user.updated", agencies["A"], record_type="user", record_id=target)
    same_id_other_type = _event("case.viewed", agencies["A"], record_type="case", record_id=target)
    other = _event("user.updated", agencies["A"], record_type="user")
    login_as(auditor)
    _, body = _page(client, record_type="User", record_id=target)
    assert _seqs_shown(body) == [on_user.seq]
    _, body = _page(client, record_id=target)
    assert set(_seqs_shown(body)) == {on_user.seq, same_id_other_type.seq}
    _, body = _page(client, record_type="user")
    assert {on_user.seq, other.seq} <= set(_seqs_shown(body)) and same_id_other_type.seq not in _seqs_shown(body)


def test_date_range_is_read_in_the_agency_time_zone(client, login_as, agencies, auditor, monkeypatch):
    # 04:30 UTC on 10 March is 23:30 on 9 March in Massachusetts (EST, UTC-5).
    _at(monkeypatch, datetime(2024, 3, 10, 4, 30, tzinfo=UTC))
    late_on_the_9th = _event("case.viewed", agencies["A"])
    _at(monkeypatch, datetime(2024, 3, 10, 5, 30, tzinfo=UTC))
    early_on_the_10th = _event("case.viewed", agencies["A"])
    _at(monkeypatch, datetime(2024, 3, 12, 15, 0, tzinfo=UTC))
    on_the_12th = _event("case.viewed", agencies["A"])
    login_as(auditor)
    _, body = _page(client, date_from="2024-03-09", date_to="2024-03-09")
    assert _seqs_shown(body) == [late_on_the_9th.seq]
    _, body = _page(client, date_from="2024-03-10")
    assert set(_seqs_shown(body)) >= {early_on_the_10th.seq, on_the_12th.seq}
    assert late_on_the_9th.seq not in _seqs_shown(body)
    _, body = _page(client, date_to="2024-03-11")
    shown = _seqs_shown(body)
    assert late_on_the_9th.seq in shown and early_on_the_10th.seq in shown and on_the_12th.seq not in shown
    _, body = _page(client, date_from="2024-03-10", date_to="2024-03-12")
    assert _seqs_shown(body) == [on_the_12th.seq, early_on_the_10th.seq]


@pytest.mark.parametrize(("params", "field", "message"), [
    ({"date_from": "2024-02-30"}, "date_from", "Enter a real date"),
    ({"date_to": "yesterday"}, "date_to", "Enter a real date"),
    ({"date_from": "2024-03-12", "date_to": "2024-03-10"}, "date_to", "same as or after the start date"),
    ({"date_from": "0001-01-01"}, "date_from", "Enter a date between"),
    ({"date_to": "9999-12-31"}, "date_to", "Enter a date between"),
    ({"action": "auth.signin; drop"}, "action", "Choose an action"),
    ({"user": "x" * 81}, "user", "at most 80"),
    ({"record_id": "abc\x00def"}, "record_id", "control characters"),
])
def test_bad_filters_give_400_with_the_message_and_keep_the_values(client, login_as, agencies, auditor, params,
                                                                    field, message):
    event = _event("case.viewed", agencies["A"])
    login_as(auditor)
    response, body = _page(client, **params)
    assert response.status_code == 400
    assert message in body
    assert f'id="{field}-error"' in body and 'usa-alert--error' in body
    assert 'aria-invalid="true"' in body
    assert event.seq not in _seqs_shown(body)  # no unfiltered list under a broken filter
    for name, value in params.items():
        if "\x00" not in value:
            assert html.escape(value, quote=True) in body, name
    # The export refuses the same filter the same way.
    export = client.get("/audit/export.csv", query_string=params)
    assert export.status_code == 400 and message in export.get_data(as_text=True)


def test_paging_walks_every_event_once_newest_first(client, login_as, agencies, auditor):
    action = "paging.check"
    seqs = [_event(action, agencies["A"], record_id=f"rec-{i:03d}").seq for i in range(120)]
    _event("other.action", agencies["A"])
    login_as(auditor)
    response, body = _page(client, action=action)
    assert "120</strong> matching events" in body
    pages, older_links = [_seqs_shown(body)], []
    assert _link(body, "prev") is None
    while (older := _link(body, "next")) is not None:
        assert "action=paging.check" in older  # the filter follows the pager
        older_links.append(older)
        response = client.get(older)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        pages.append(_seqs_shown(body))
    assert [len(p) for p in pages] == [50, 50, 20]
    assert [s for p in pages for s in p] == sorted(seqs, reverse=True)
    # And back: the newer link from the last page gives the middle page again.
    newer = _link(body, "prev")
    assert newer is not None
    assert _seqs_shown(client.get(newer).get_data(as_text=True)) == pages[1]
    # Events written meanwhile do not shift a page already reached (an offset would).
    _event(action, agencies["A"], record_id="rec-new")
    assert _seqs_shown(client.get(older_links[0]).get_data(as_text=True)) == pages[1]
    # A nonsense cursor falls back to the newest page rather than failing.
    newest = _seqs_shown(_page(client, action=action)[1])
    for cursor in ("nonsense", str(10**30), "-5"):
        response, body = _page(client, action=action, older_than=cursor)
        assert response.status_code == 200 and _seqs_shown(body) == newest, cursor
    response, body = _page(client, action=action, newer_than=str(newest[0]))
    assert response.status_code == 200 and _seqs_shown(body) == newest  # nothing newer: back to the newest


def _export_rows(response):
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_matches_the_filtered_rows_and_is_audited(client, login_as, agencies, make_user, auditor,
                                                            monkeypatch):
    from clinician_app.audit_console import services

    monkeypatch.setattr(services, "EXPORT_BATCH", 7)  # so the export walks many batches
    action = "export.check"
    ours = [_event(action, agencies["A"], record_id=f"rec-{i:04d}", reason="=HYPERLINK(\"http://x\")" if i == 0 else None,
                   details={"i": i}).seq for i in range(60)]
    _event("other.action", agencies["A"])
    theirs = _event(action, agencies["B"])
    login_as(auditor)
    response = client.get("/audit/export.csv", query_string={"action": action})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="audit-towna-\d{4}-\d{2}-\d{2}\.csv"', disposition), disposition
    rows = _export_rows(response)
    assert list(rows[0]) == ["seq", "occurred_at_utc", "occurred_at_local", "actor_username", "actor_id", "action",
                             "outcome", "record_type", "record_id", "remote_addr", "reason", "details"]
    # Every page's worth (60 > 50), newest first, and nothing of another agency or action.
    assert [int(r["seq"]) for r in rows] == sorted(ours, reverse=True)
    assert theirs.seq not in {int(r["seq"]) for r in rows}
    first = next(r for r in rows if int(r["seq"]) == ours[0])
    assert first["reason"].startswith("'=HYPERLINK")  # never a live formula in a spreadsheet
    assert first["details"] == '{"i":0}' and first["record_id"] == "rec-0000"

    exports = db.session.execute(select(AuditEvent).where(AuditEvent.action == "audit.export",
                                                          AuditEvent.actor_id == auditor.id)).scalars().all()
    assert len(exports) == 1
    assert exports[0].agency_id == agencies["A"].id
    assert exports[0].details_dict == {"filters": {"action": action}, "rows": 60}
    assert exports[0].remote_addr == "127.0.0.1"

    # Unfiltered, an export lists the earlier export but stops short of its own event.
    everything = _export_rows(client.get("/audit/export.csv"))
    own = db.session.execute(select(func.max(AuditEvent.seq)).where(AuditEvent.action == "audit.export")).scalar_one()
    listed = {int(r["seq"]): r["action"] for r in everything}
    assert listed[exports[0].seq] == "audit.export" and own not in listed and own > exports[0].seq
    assert set(listed) >= set(ours) and theirs.seq not in listed

    # With a date filter and no match: just the header, and the export is still recorded.
    empty = client.get("/audit/export.csv", query_string={"action": action, "date_to": "2000-01-01"})
    assert empty.status_code == 200 and _export_rows(empty) == []
    assert empty.get_data(as_text=True).startswith("seq,occurred_at_utc")


def test_page_offers_the_export_with_the_same_filters(client, login_as, agencies, auditor):
    _event("export.link", agencies["A"])
    login_as(auditor)
    _, body = _page(client, action="export.link", record_type="user")
    assert 'href="/audit/export.csv?action=export.link&amp;record_type=user"' in body


def test_verify_button_reports_an_intact_chain_and_is_audited(client, login_as, agencies, auditor, csrf):
    _event("case.viewed", agencies["A"])
    login_as(auditor)
    page = client.get("/audit/")
    assert 'action="/audit/verify"' in page.get_data(as_text=True)
    response = client.post("/audit/verify", data={"csrf_token": csrf(page)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-verify="ok"' in body and "Audit chain intact" in body
    checked = int(re.search(r"All ([\d,]+) events verified", body).group(1).replace(",", ""))
    verify_event = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "audit.verify", AuditEvent.actor_id == auditor.id)).scalar_one()
    assert verify_event.outcome == "success"
    assert verify_event.details_dict["checked"] == checked
    assert verify_event.seq == checked + 1  # the check follows everything it checked


def test_verify_button_names_the_tampered_event(client, login_as, agencies, auditor, csrf):
    tampered = _event("case.viewed", agencies["A"])
    _event("case.viewed", agencies["A"])
    login_as(auditor)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text("UPDATE audit_events SET outcome = 'success', reason = 'edited' WHERE seq = :seq"),
                       {"seq": tampered.seq})
    db.session.commit()
    page = client.get("/audit/")
    response = client.post("/audit/verify", data={"csrf_token": csrf(page)})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-verify="tampered"' in body
    assert f"event {tampered.seq} was altered" in body
    assert f"the first at event {tampered.seq}" in body
    record = db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "audit.verify", AuditEvent.actor_id == auditor.id)).scalar_one()
    assert record.outcome == "failure" and record.details_dict["first_bad_seq"] == tampered.seq


def test_verify_without_csrf_token_is_refused(client, login_as, auditor):
    login_as(auditor)
    response = client.post("/audit/verify")
    assert response.status_code == 400
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "audit.verify",
                                                       AuditEvent.actor_id == auditor.id)).first() is None


NON_AUDITORS = [r.value for r in Role if r is not Role.AUDITOR]


@pytest.mark.parametrize("role", NON_AUDITORS)
def test_every_other_role_is_refused(client, login_as, agencies, make_user, csrf, role):
    """Admin included: whoever manages accounts must not also read the trail."""
    user = make_user(agencies["A"], role)
    _event("case.viewed", agencies["A"])
    login_as(user)
    home = client.get("/")
    assert "/audit/" not in home.get_data(as_text=True)  # not offered in the navigation either
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert client.post("/audit/verify", data={"csrf_token": csrf(home)}).status_code == 403
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.actor_id == user.id, AuditEvent.action.in_(["audit.export", "audit.verify"]))).first() is None


def test_auditor_finds_the_trail_in_the_navigation_and_anonymous_is_sent_to_sign_in(client, login_as, auditor):
    assert client.get("/audit/").status_code == 302
    assert "/auth/login" in client.get("/audit/export.csv").headers["Location"]
    login_as(auditor)
    assert 'href="/audit/"' in client.get("/").get_data(as_text=True)
