"""Follow-up pages through the test client: My work puts overdue first and marks it;
supervisors see everyone's and reassign; forms keep what was typed on an error;
the calendar and the .ics feed show only one's own, without PHI."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db
from clinician_app.followups.models import Followup
from clinician_app.notifications.models import Notification
from clinician_app.people.models import Person
from tests.cases.note_factories import make_case
from tests.followups.factories import followup_for, make_followup


def _order(html: str) -> list[str]:
    return re.findall(r'data-followup="([0-9a-f-]{36})"', html)


def _local(value, user, fmt="%Y-%m-%dT%H:%M"):
    return to_local(value, user.agency.timezone).strftime(fmt)


def test_my_work_lists_overdue_first_then_today_then_upcoming(client, login_as, clinician, make_user, agencies):
    now = utcnow()
    upcoming = followup_for(clinician, due_at=now + timedelta(days=3))
    today = followup_for(clinician, due_at=now + timedelta(minutes=1))
    overdue_late = followup_for(clinician, due_at=now - timedelta(days=2))
    overdue = followup_for(clinician, due_at=now - timedelta(hours=1))
    done = followup_for(clinician, due_at=now - timedelta(hours=3))
    done.status = "done"
    someone_elses = followup_for(make_user(agencies["A"], "clinician"), due_at=now - timedelta(hours=5))
    login_as(clinician)
    response = client.get("/followups/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _order(html) == [overdue_late.id, overdue.id, today.id, upcoming.id]
    overdue_items = re.findall(r'data-followup="([0-9a-f-]{36})" data-overdue', html)
    assert overdue_items == [overdue_late.id, overdue.id]
    assert "(2 overdue)" in html and someone_elses.id not in html
    names = html.split('data-section="upcoming"')[0]
    person = db.session.get(Person, db.session.get(Followup, overdue.id).case.person_id)
    assert person.full_name in names  # clinicians work from names (an audited read)


def test_supervisors_see_every_clinicians_and_reassign(client, login_as, clinician, supervisor, make_user, agencies, csrf):
    colleague = make_user(agencies["A"], "clinician", display_name="Cole Colleague")
    mine = followup_for(clinician, due_at=utcnow() - timedelta(hours=1))
    theirs = followup_for(colleague, due_at=utcnow() + timedelta(days=1))
    login_as(supervisor)
    html = client.get("/followups/?who=all").get_data(as_text=True)
    assert _order(html) == [mine.id, theirs.id] and "Cole Colleague" in html
    page = client.get(f"/followups/{mine.id}/reassign")
    assert page.status_code == 200
    bad = client.post(f"/followups/{mine.id}/reassign", data={"csrf_token": csrf(page), "assignee_id": clinician.id})
    assert bad.status_code == 400 and "already holds this follow-up" in bad.get_data(as_text=True)
    done = client.post(f"/followups/{mine.id}/reassign", data={"csrf_token": csrf(page), "assignee_id": colleague.id})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(Followup, mine.id).assignee_id == colleague.id
    assert db.session.execute(select(Notification.kind).where(Notification.user_id == colleague.id)).scalars().all() \
        == ["followup_assigned"]

    login_as(clinician)
    assert client.get(f"/followups/{mine.id}/reassign").status_code == 403
    assert client.get("/followups/?who=all").get_data(as_text=True).count("data-followup=") == 0


def test_an_attempt_in_the_future_keeps_what_was_typed(client, login_as, clinician, csrf):
    followup = followup_for(clinician)
    login_as(clinician)
    page = client.get(f"/followups/{followup.id}")
    assert page.status_code == 200
    future = _local(utcnow() + timedelta(hours=2), clinician)
    response = client.post(f"/followups/{followup.id}/attempts", data={
        "csrf_token": csrf(page), "attempted_at": future, "method": "visit", "outcome": "left_message",
        "note": "Card left in the door."})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The attempt can&#39;t be in the future." in html
    assert f'value="{future}"' in html and "Card left in the door." in html
    assert re.search(r'id="method-1"[^>]*checked|checked[^>]*id="method-1"', html)  # "visit" is kept
    db.session.expire_all()
    assert db.session.get(Followup, followup.id).attempts == []


def test_two_attempts_then_a_close_without_and_with_a_reason(client, login_as, clinician, csrf):
    followup = followup_for(clinician, due_at=utcnow() + timedelta(hours=3))
    login_as(clinician)
    page = client.get(f"/followups/{followup.id}")
    for outcome in ("no_answer", "left_message"):
        response = client.post(f"/followups/{followup.id}/attempts", data={
            "csrf_token": csrf(page), "attempted_at": _local(utcnow(), clinician), "method": "phone",
            "outcome": outcome, "note": ""})
        assert response.status_code == 303
    close_page = client.get(f"/followups/{followup.id}/close")
    empty = client.post(f"/followups/{followup.id}/close", data={"csrf_token": csrf(close_page), "reason": "  "})
    assert empty.status_code == 400 and "Give the reason" in empty.get_data(as_text=True)
    closed = client.post(f"/followups/{followup.id}/close", data={
        "csrf_token": csrf(close_page), "reason": "Her case manager confirmed she is at the clinic today."})
    assert closed.status_code == 303
    db.session.expire_all()
    stored = db.session.get(Followup, followup.id)
    assert stored.status == "done" and stored.done_within_window is True and len(stored.attempts) == 2
    detail = client.get(f"/followups/{followup.id}").get_data(as_text=True)
    assert "within its window" in detail and "Record an attempt" not in detail


def test_a_due_time_before_the_crisis_keeps_the_form(client, login_as, clinician, csrf):
    case = make_case(clinician.agency_id, assignee=clinician)
    login_as(clinician)
    page = client.get(f"/followups/cases/{case.id}/new")
    assert page.status_code == 200
    early = _local(case.opened_at - timedelta(days=1), clinician)
    response = client.post(f"/followups/cases/{case.id}/new", data={
        "csrf_token": csrf(page), "window": "custom", "due_at": early, "assignee_id": clinician.id,
        "purpose": "Confirm the appointment"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The due time can&#39;t be before the crisis" in html
    assert f'value="{early}"' in html and 'value="Confirm the appointment"' in html
    ok = client.post(f"/followups/cases/{case.id}/new", data={
        "csrf_token": csrf(page), "window": "72h", "assignee_id": clinician.id, "purpose": "Confirm the appointment"})
    assert ok.status_code == 303
    case_page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-kind="followup"' in case_page and "Within 72 hours" in case_page


def test_the_ics_feed_is_rfc_5545_and_has_no_phi(client, login_as, clinician, make_user, agencies):
    long_purpose = "Check in " * 20
    mine = followup_for(clinician, purpose=long_purpose)
    second = followup_for(clinician, due_at=utcnow() + timedelta(days=2))
    other = followup_for(make_user(agencies["A"], "clinician"))
    login_as(clinician)
    response = client.get("/followups/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    raw = response.get_data()
    assert b"\r\n" in raw and raw.replace(b"\r\n", b"").count(b"\n") == 0  # CRLF only
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    text = raw.decode().replace("\r\n ", "")  # unfold
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert text.count("BEGIN:VEVENT") == 2
    for followup in (mine, second):
        assert f"UID:followup-{followup.id}@" in text
        assert f"DTSTART:{followup.due_at.strftime('%Y%m%dT%H%M%SZ')}" in text
        assert f"/followups/{followup.id}" in text
    assert other.id not in text
    assert re.findall(r"SUMMARY:([^\r]*)", text) == ["Follow-up", "Follow-up"]
    assert re.search(r"DTSTAMP:\d{8}T\d{6}Z", text)
    person = db.session.get(Person, mine.case.person_id)
    assert person.first_name not in text and person.last_name not in text and "Check in" not in text


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    from clinician_app.followups.ical import fold

    line = "DESCRIPTION:" + "é" * 100
    folded = fold(line).encode()
    assert all(len(part) <= 75 for part in folded.split(b"\r\n"))
    assert fold(line).replace("\r\n ", "") == line


def test_the_week_calendar_shows_ones_own(client, login_as, clinician, make_user, agencies):
    mine = followup_for(clinician, due_at=utcnow() + timedelta(minutes=30))
    other = followup_for(make_user(agencies["A"], "clinician"), due_at=utcnow() + timedelta(minutes=30))
    login_as(clinician)
    html = client.get("/followups/calendar").get_data(as_text=True)
    assert mine.id in html and other.id not in html
    assert html.count('class="app-week__day') == 7
    assert client.get("/followups/calendar?week=not-a-date").status_code == 200


def test_templates_page_adds_keeps_typed_values_and_turns_off(client, login_as, supervisor, csrf):
    login_as(supervisor)
    page = client.get("/followups/templates")
    assert page.status_code == 200
    bad = client.post("/followups/templates", data={
        "csrf_token": csrf(page), "action": "add", "name": "After suicidal ideation", "trigger_kind": "risk",
        "trigger_code": "high", "windows": "24h, soon", "purpose": "Safety check"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "isn&#39;t one" in html and 'value="24h, soon"' in html
    good = client.post("/followups/templates", data={
        "csrf_token": csrf(page), "action": "add", "name": "After suicidal ideation", "trigger_kind": "risk",
        "trigger_code": "high", "windows": "24h, 72h, 7d", "purpose": "Safety check"})
    assert good.status_code == 303
    listing = client.get("/followups/templates").get_data(as_text=True)
    template_id = re.search(r'data-template="([0-9a-f-]{36})"', listing).group(1)
    assert "24h, 72h, 7d" in listing
    off = client.post("/followups/templates", data={"csrf_token": csrf(page), "action": "deactivate",
                                                    "template_id": template_id})
    assert off.status_code == 303 and "Turn on" in client.get("/followups/templates").get_data(as_text=True)


def test_the_reminder_notification_opens_my_work(client, login_as, clinician, csrf):
    from clinician_app.notifications.services import notify

    followup = make_followup(make_case(clinician.agency_id, assignee=clinician), clinician)
    note = notify(clinician.id, "followups_due", "followup_reminder", followup.id)
    login_as(clinician)
    token = csrf(client.get("/notifications/"))
    response = client.post(f"/notifications/{note.id}/open", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith("/followups/")
