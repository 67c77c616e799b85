"""The co-response queue: which calls each role sees, in what order, with what
highlighted, how it refreshes, and that it costs the same number of queries for
3 rows as for 30."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from clinician_app.auth.models import UserSession
from clinician_app.calls.queue import load_queue
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.triage.claims import claim_call
from clinician_app.triage.services import TriageInput, record_triage
from tests.calls.factories import make_call


def triage(clinician, call, route="department"):
    record_triage(clinician, call.id, TriageInput(acuity="urgent", route=route, override_reason="Test routing."))
    db.session.flush()
    return call


def ids(queue):
    return [row.call.id for row in queue.rows]


@pytest.fixture()
def clinician_a(make_user, agencies):
    return make_user(agencies["A"], "clinician", display_name="Casey Clinician")


def test_order_is_urgency_then_longest_waiting(agencies, clinician_a):
    town = agencies["A"].id
    now = utcnow()
    follow_old = make_call(town, urgency="follow_up")
    same_new = make_call(town, urgency="same_day")
    now_new = make_call(town, urgency="now")
    same_old = make_call(town, urgency="same_day")
    now_old = make_call(town, urgency="now")
    for call, minutes in ((follow_old, 600), (same_new, 5), (now_new, 2), (same_old, 90), (now_old, 9)):
        call.flagged_at = now - timedelta(minutes=minutes)
    db.session.flush()

    queue = load_queue(clinician_a, now=now)
    assert ids(queue) == [now_old.id, now_new.id, same_old.id, same_new.id, follow_old.id]
    assert [row.minutes_waiting for row in queue.rows] == [9, 2, 90, 5, 600]


def test_only_open_co_response_calls_are_queued(agencies, clinician_a, make_user):
    town = agencies["A"].id
    flagged = make_call(town)
    not_flagged = make_call(town, co_response=False)
    closed = make_call(town)
    closed.status, closed.closed_at = "closed", utcnow()
    triaged = triage(clinician_a, make_call(town))
    claimed = triage(clinician_a, make_call(town))
    claim_call(clinician_a, claimed.id)
    on_scene = make_call(town)
    on_scene.status = "on_scene"
    db.session.flush()

    queued = set(ids(load_queue(clinician_a)))
    assert {flagged.id, triaged.id, claimed.id, on_scene.id} <= queued
    assert not_flagged.id not in queued and closed.id not in queued


def test_department_clinician_sees_own_agency_only(agencies, clinician_a, make_user):
    own = make_call(agencies["A"].id)
    other_town = make_call(agencies["B"].id)
    queue = ids(load_queue(clinician_a))
    assert own.id in queue and other_town.id not in queue
    supervisor_b = make_user(agencies["B"], "supervisor")
    assert ids(load_queue(supervisor_b)) == [other_town.id]


def test_bhu_clinician_sees_calls_routed_to_the_bhu_from_every_town(agencies, make_user):
    bhu_clinician = make_user(agencies["BHU"], "bhu_clinician")
    clinician_a = make_user(agencies["A"], "clinician")
    clinician_b = make_user(agencies["B"], "clinician")
    routed_a = triage(clinician_a, make_call(agencies["A"].id), route="bhu")
    routed_b = triage(clinician_b, make_call(agencies["B"].id), route="bhu")
    kept_by_a = triage(clinician_a, make_call(agencies["A"].id), route="department")
    untriaged_b = make_call(agencies["B"].id)

    seen = set(ids(load_queue(bhu_clinician)))
    assert seen == {routed_a.id, routed_b.id}
    assert kept_by_a.id not in seen and untriaged_b.id not in seen
    # The town still sees its own call after routing it to the BHU, but may not claim it.
    rows = {row.call.id: row for row in load_queue(clinician_a).rows}
    assert routed_a.id in rows and not rows[routed_a.id].may_claim
    assert rows[kept_by_a.id].may_claim
    assert {row.call.id: row.may_claim for row in load_queue(bhu_clinician).rows} == {routed_a.id: True, routed_b.id: True}


def test_roles_without_the_queue_are_refused(agencies, make_user, login_as, client):
    for role in ("dispatcher", "officer", "admin", "auditor"):
        login_as(make_user(agencies["A"], role))
        assert client.get("/calls/queue").status_code == 403
        assert client.get("/calls/queue/rows").status_code == 403


def test_calls_over_their_agencys_target_are_highlighted(agencies, clinician_a, login_as, client):
    town = agencies["A"]
    now = utcnow()
    late = make_call(town.id, urgency="now")
    fresh = make_call(town.id, urgency="now")
    same_day = make_call(town.id, urgency="same_day")
    late.flagged_at = now - timedelta(minutes=20)
    fresh.flagged_at = now - timedelta(minutes=3)
    same_day.flagged_at = now - timedelta(minutes=200)
    db.session.flush()

    rows = {row.call.id: row for row in load_queue(clinician_a, now=now).rows}
    assert rows[late.id].overdue and rows[late.id].target_minutes == 15
    assert not rows[fresh.id].overdue and not rows[same_day.id].overdue

    login_as(clinician_a)
    html = client.get("/calls/queue").get_data(as_text=True)
    late_row = re.search(rf'<tr data-call-id="{late.id}" class="([^"]*)"', html).group(1)
    fresh_row = re.search(rf'<tr data-call-id="{fresh.id}" class="([^"]*)"', html).group(1)
    assert "app-queue__row--overdue" in late_row and "app-queue__row--overdue" not in fresh_row
    assert "Over target (15 min)" in html and "1 over target" in html

    town.target_now_minutes = 30  # the agency's own target, as data
    db.session.flush()
    assert not {row.call.id: row for row in load_queue(clinician_a, now=now).rows}[late.id].overdue


def test_page_shows_holder_town_cautions_and_actions(agencies, clinician_a, login_as, client):
    town = agencies["A"]
    flagged = make_call(town.id, urgency="now", caution_weapon=True, indicators=["suicidal"])
    triaged = triage(clinician_a, make_call(town.id))
    held = triage(clinician_a, make_call(town.id))
    claim_call(clinician_a, held.id)
    db.session.commit()

    login_as(clinician_a)
    html = client.get("/calls/queue").get_data(as_text=True)

    def row(call):
        return re.search(rf'<tr data-call-id="{call.id}".*?</tr>', html, re.S).group(0)

    assert "Weapon" in row(flagged) and "Suicidal ideation or attempt" in row(flagged) and town.code in row(flagged)
    assert f'href="/triage/calls/{flagged.id}"' in row(flagged)
    assert "Unclaimed" in row(flagged) and ">Claim<" not in row(flagged)
    assert ">Claim<" in row(triaged) and f'action="/triage/calls/{triaged.id}/claim"' in row(triaged)
    assert "Held by Casey Clinician" in row(held) and ">Claim<" not in row(held)
    assert "Record encounter" in row(held)


def test_page_polls_its_rows_and_offers_a_refresh_link(agencies, clinician_a, login_as, client):
    call = make_call(agencies["A"].id)
    login_as(clinician_a)
    page = client.get("/calls/queue").get_data(as_text=True)
    assert 'hx-get="/calls/queue/rows"' in page and 'hx-trigger="every 15s"' in page and "hx-swap=" in page
    assert re.search(r'<a [^>]*href="/calls/queue"[^>]*>Refresh</a>', page)

    rows = client.get("/calls/queue/rows")
    body = rows.get_data(as_text=True)
    assert rows.status_code == 200 and "<html" not in body and f'data-call-id="{call.id}"' in body


def test_background_refresh_does_not_keep_the_session_alive(agencies, clinician_a, login_as, client):
    login_as(clinician_a)
    record = db.session.execute(select(UserSession).where(UserSession.user_id == clinician_a.id)).scalar_one()
    earlier = utcnow() - timedelta(minutes=10)
    record.last_seen_at = earlier
    db.session.commit()

    assert client.get("/calls/queue/rows", headers={"HX-Request": "true", "X-Background-Refresh": "1"}).status_code == 200
    db.session.refresh(record)
    assert abs((record.last_seen_at - earlier).total_seconds()) < 1

    assert client.get("/calls/queue").status_code == 200  # the user opening the page is activity
    db.session.refresh(record)
    assert record.last_seen_at > earlier + timedelta(minutes=9)


def _count_queries(app, client, url):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return statements


def _fill_queue(agencies, holders, total):
    town = agencies["A"].id
    for index in range(total):
        call = make_call(town, urgency=("now", "same_day", "follow_up")[index % 3], caution_hazards=index % 2 == 0)
        if index % 3:  # two in three are triaged and held, by several clinicians
            holder = holders[index % len(holders)]
            triage(holder, call)
            claim_call(holder, call.id)
    db.session.commit()


@pytest.mark.parametrize("url", ["/calls/queue", "/calls/queue/rows"])
def test_queue_costs_the_same_queries_for_3_rows_as_for_30(app, url, agencies, make_user, login_as, client):
    holders = [make_user(agencies["A"], "clinician") for _ in range(4)]
    viewer = holders[0]
    _fill_queue(agencies, holders, 3)
    login_as(viewer)
    client.get(url)  # warm: first-request work (template compilation) is not the queue's cost
    small = _count_queries(app, client, url)
    _fill_queue(agencies, holders, 27)
    large = _count_queries(app, client, url)
    assert len(load_queue(viewer).rows) == 30
    assert len(large) == len(small), "\n".join(large)
    queue_selects = [s for s in large if "FROM calls" in s]
    assert len(queue_selects) == 1


def test_queue_reads_no_encrypted_text(app, agencies, clinician_a, login_as, client):
    """The narrative is clinical and the caution notes may name people: the queue
    shows neither, so its SELECT fetches neither (only whether notes exist)."""
    call = make_call(agencies["A"].id)
    call.narrative, call.caution_notes = "Clinical narrative.", "Dog in the yard."
    db.session.commit()
    login_as(clinician_a)
    statements = _count_queries(app, client, "/calls/queue/rows")
    queue_select = next(s for s in statements if "FROM calls" in s)
    selected = queue_select.split("FROM calls")[0]
    assert "narrative_enc" not in queue_select
    assert "caution_notes_enc IS NOT NULL" in selected and "calls.caution_notes_enc," not in selected
    html = client.get("/calls/queue/rows").get_data(as_text=True)
    assert "Caution notes" in html and "Dog in the yard" not in html
