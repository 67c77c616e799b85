"""Engagement pages through the test client: who may record what, lists and
filters, CSV downloads, bad input kept as typed, the place page and the call
page's "engagement here" panel (and what they never show)."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clinician_app.calls.models import Call
from clinician_app.core.timeutil import utcnow
from clinician_app.engagement.models import (
    AwarenessPost,
    CommunityVisit,
    EngagementEvent,
    RegionalPartnership,
    YouthProgram,
    YouthSession,
)
from clinician_app.extensions import db
from tests.calls.factories import make_call

from .factories import make_event, make_partnership, make_place, make_program, make_visit

NARRATIVE = "Counsellor reports the student Zebediah Orrington-Pike said he wants to die."


def _local(days: int = 0, fmt: str = "%Y-%m-%d", **delta) -> str:
    return (utcnow().astimezone(ZoneInfo("America/New_York")) + timedelta(days=days, **delta)).strftime(fmt)


def _place_of(call) -> str | None:
    return db.session.execute(select(Call.place_id).where(Call.id == call.id)).scalar_one()


def _post(client, csrf, url, data):
    token = csrf(client.get(url))
    return client.post(url, data={"csrf_token": token, **data})


@pytest.fixture()
def town(agencies, make_user):
    a = agencies["A"]
    return {"staff": make_user(a, "engagement"), "officer": make_user(a, "officer"),
            "clinician": make_user(a, "clinician"), "supervisor": make_user(a, "supervisor"),
            "dispatcher": make_user(a, "dispatcher"), "auditor": make_user(a, "auditor"),
            "school": make_place(a.id, name="Chelmsford High School", address="200 Richardson Road")}


# --- recording through the forms ---------------------------------------------------------

def test_an_officer_records_a_visit_from_the_form(client, login_as, csrf, town):
    login_as(town["officer"])
    form = client.get("/engagement/visits/new")
    assert form.status_code == 200 and "Record a community visit" in form.get_data(as_text=True)
    response = _post(client, csrf, "/engagement/visits/new", {
        "place_id": town["school"].id, "started_at": _local(fmt="%Y-%m-%dT%H:%M", hours=-1),
        "duration_minutes": "20", "officer_ids": [town["officer"].id], "purpose": "Walk-through at dismissal",
        "notes": "Spoke with the crossing guard."})
    assert response.status_code == 303
    visit = db.session.execute(select(CommunityVisit)).scalar_one()
    assert visit.place_id == town["school"].id and visit.officers == [town["officer"]]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Spoke with the crossing guard." in page and "Chelmsford High School" in page
    listing = client.get("/engagement/visits").get_data(as_text=True)
    assert "Walk-through at dismissal" in listing


def test_engagement_staff_record_every_kind_from_the_forms(client, login_as, csrf, agencies, town):
    login_as(town["staff"])
    school, officer = town["school"], town["officer"]
    assert _post(client, csrf, "/engagement/places/new", {
        "name": "Little Sprouts Daycare", "kind": "daycare", "address": "12 Summer St"}).status_code == 303
    assert _post(client, csrf, "/engagement/visits/new", {
        "address": "5 Oak Street", "kind": "neighbourhood", "started_at": _local(fmt="%Y-%m-%dT%H:%M", hours=-2),
        "duration_minutes": "15", "officer_ids": [town["staff"].id], "purpose": "Block watch meeting"}
    ).status_code == 303
    assert _post(client, csrf, "/engagement/events/new", {
        "kind": "seminar", "title": "Scam awareness", "topic": "Phone scams", "held_on": _local(),
        "place_id": school.id, "partners": "Town of Chelmsford", "attendance": "35", "officer_ids": [officer.id],
        "materials": "Handouts"}).status_code == 303
    assert _post(client, csrf, "/engagement/partnerships/new", {
        "kind": "solving_crimes", "title": "Catalytic converter thefts", "partner_agency_ids": [agencies["B"].id],
        "started_on": _local(-30), "description": "Shared suspect vehicle descriptions."}).status_code == 303
    assert _post(client, csrf, "/engagement/posts/new", {
        "platform": "facebook", "posted_on": _local(), "topic": "prevention", "title": "Lock your car",
        "url": "https://www.facebook.com/ChelmsfordPolice/posts/1", "reach": "2300"}).status_code == 303
    created = _post(client, csrf, "/engagement/youth/new", {"program": "academy", "title": "Summer Academy"})
    assert created.status_code == 303
    program = db.session.execute(select(YouthProgram)).scalar_one()
    token = csrf(client.get(f"/engagement/youth/{program.id}"))
    assert client.post(f"/engagement/youth/{program.id}/sessions", data={
        "csrf_token": token, "held_on": _local(), "activity": "Day 1: patrol", "place_id": school.id,
        "officer_ids": [officer.id], "participants_8_10": "3", "participants_11_13": "8",
        "participants_14_17": "2"}).status_code == 303
    assert db.session.execute(select(YouthSession)).scalar_one().participants == 13
    for url, text in (("/engagement/events", "Scam awareness"), ("/engagement/partnerships", "Catalytic converter"),
                      ("/engagement/posts", "Lock your car"), ("/engagement/youth", "Day 1: patrol"),
                      ("/engagement/places", "Little Sprouts Daycare"), ("/engagement/visits", "5 Oak Street")):
        assert text in client.get(url).get_data(as_text=True), url
    overview = client.get("/engagement/").get_data(as_text=True)
    assert re.search(r"data-figure=\"Events and seminars\"><a [^>]*>1</a>", overview)
    assert re.search(r"data-figure=\"Attendance at events\"><a [^>]*>35</a>", overview)


@pytest.mark.parametrize("role", ["dispatcher", "clinician", "auditor"])
def test_dispatchers_clinicians_and_auditors_can_t_write(client, login_as, csrf, town, role):
    login_as(town[role])
    token = csrf(client.get("/auth/account"))
    program = make_program(town["staff"])
    for url in ("/engagement/visits/new", "/engagement/events/new", "/engagement/partnerships/new",
                "/engagement/posts/new", "/engagement/youth/new", "/engagement/places/new",
                f"/engagement/places/{town['school'].id}/edit", f"/engagement/youth/{program.id}/sessions"):
        assert client.post(url, data={"csrf_token": token, "title": "x"}).status_code == 403, url
    assert db.session.execute(select(CommunityVisit)).first() is None


def test_officers_record_visits_only(client, login_as, town):
    login_as(town["officer"])
    assert client.get("/engagement/visits/new").status_code == 200
    for url in ("/engagement/events/new", "/engagement/partnerships/new", "/engagement/posts/new",
                "/engagement/youth/new", "/engagement/places/new"):
        assert client.get(url).status_code == 403, url
    page = client.get("/engagement/visits").get_data(as_text=True)
    assert "Record a visit" in page
    assert "Record an event" not in client.get("/engagement/events").get_data(as_text=True)


# --- bad input -------------------------------------------------------------------------------

def test_a_negative_duration_is_refused_and_what_was_typed_kept(client, login_as, csrf, town):
    login_as(town["officer"])
    response = _post(client, csrf, "/engagement/visits/new", {
        "place_id": town["school"].id, "started_at": _local(fmt="%Y-%m-%dT%H:%M", hours=-1),
        "duration_minutes": "-15", "officer_ids": [town["officer"].id], "purpose": "Lunch-time walk-through",
        "notes": "Typed on a phone"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The duration can&#39;t be negative" in page
    assert 'value="-15"' in page and 'value="Lunch-time walk-through"' in page and "Typed on a phone" in page
    assert re.search(rf'<option selected value="{town["school"].id}"|value="{town["school"].id}" selected', page)
    assert db.session.execute(select(CommunityVisit)).first() is None


def test_attendance_below_zero_is_refused_and_what_was_typed_kept(client, login_as, csrf, town):
    login_as(town["staff"])
    response = _post(client, csrf, "/engagement/events/new", {
        "kind": "event", "title": "Coffee with a cop", "topic": "Meet your officers", "held_on": _local(),
        "attendance": "-4"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "The attendance can&#39;t be below zero." in page
    assert 'value="-4"' in page and 'value="Coffee with a cop"' in page
    assert db.session.execute(select(EngagementEvent)).first() is None


def test_an_invalid_link_is_refused_and_what_was_typed_kept(client, login_as, csrf, town):
    login_as(town["staff"])
    response = _post(client, csrf, "/engagement/posts/new", {
        "platform": "facebook", "posted_on": _local(), "topic": "prevention", "title": "Lock your car",
        "url": "facebook dot com slash chelmsford", "reach": "12"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Enter a full web address starting with https://" in page
    assert 'value="facebook dot com slash chelmsford"' in page and 'value="12"' in page
    assert db.session.execute(select(AwarenessPost)).first() is None


def test_a_form_with_nothing_in_it_says_what_is_missing(client, login_as, csrf, town):
    login_as(town["staff"])
    response = _post(client, csrf, "/engagement/partnerships/new", {"started_on": "2026-02-31"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Enter a real date" in page
    response = _post(client, csrf, "/engagement/partnerships/new", {})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for words in ("Choose the kind of partnership.", "Give the partnership a title.", "Enter the start date"):
        assert words in page
    assert db.session.execute(select(RegionalPartnership)).first() is None


# --- lists, filters, CSV, scope ----------------------------------------------------------------

def test_lists_filter_and_download_csv(client, login_as, agencies, town, make_user):
    park = make_place(agencies["A"].id, name="Varney Playground", kind="park", address=None)
    make_visit(town["officer"], town["school"], purpose="School stop")
    make_visit(town["officer"], park, purpose="Park stop", days_ago=45)
    make_visit(make_user(agencies["B"], "officer"), make_place(agencies["B"].id), purpose="Other town's stop")
    login_as(town["clinician"])
    page = client.get("/engagement/visits").get_data(as_text=True)
    assert "School stop" in page and "Park stop" in page and "Other town" not in page
    assert "Record a visit" not in page
    filtered = client.get(f"/engagement/visits?kind=park&date_from={_local(-60)}").get_data(as_text=True)
    assert "Park stop" in filtered and "School stop" not in filtered
    bad = client.get("/engagement/visits?kind=spaceship&date_from=notadate")
    assert bad.status_code == 400 and "School stop" in bad.get_data(as_text=True)
    export = client.get(f"/engagement/visits.csv?place_id={town['school'].id}")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    body = export.get_data(as_text=True)
    assert "School stop" in body and "Park stop" not in body and "Other town" not in body
    for record in ("events", "partnerships", "posts", "youth"):
        assert client.get(f"/engagement/{record}.csv").status_code == 200


def test_another_agency_s_records_are_404_and_shared_partnerships_read_only(client, login_as, agencies, town,
                                                                            make_user):
    visit = make_visit(town["officer"], town["school"])
    program = make_program(town["staff"])
    partnership = make_partnership(town["staff"], [agencies["BHU"]], title="Crisis response with the BHU")
    outsider = make_user(agencies["B"], "engagement")
    login_as(outsider)
    for url in (f"/engagement/visits/{visit.id}", f"/engagement/places/{town['school'].id}",
                f"/engagement/youth/{program.id}", f"/engagement/places/{town['school'].id}/edit"):
        assert client.get(url).status_code == 404, url
    assert "Crisis response" not in client.get("/engagement/partnerships").get_data(as_text=True)
    bhu = make_user(agencies["BHU"], "supervisor")
    login_as(bhu)
    page = client.get("/engagement/partnerships").get_data(as_text=True)
    assert "Crisis response with the BHU" in page and "Shared by TOWNA Police Department" in page
    assert "Record a partnership" not in page
    assert partnership.agency_id == agencies["A"].id


# --- the place page and the call's panel ----------------------------------------------------------

@pytest.fixture()
def school_call(town):
    call = make_call(town["school"].agency_id, narrative=NARRATIVE, indicators=["suicidal", "juvenile"],
                     address="200 Richardson Rd")
    call.place_id = town["school"].id
    db.session.flush()
    return call


def test_the_place_page_shows_its_visits_events_and_calls(client, login_as, town, school_call):
    make_visit(town["officer"], town["school"], purpose="Dismissal walk-through")
    make_event(town["staff"], town["school"], title="Online safety night")
    unlinked = make_call(town["school"].agency_id, address="200 RICHARDSON ROAD", narrative=NARRATIVE)
    elsewhere = make_call(town["school"].agency_id, address="9 Elm Street")
    old = make_call(town["school"].agency_id, address="200 Richardson Road",
                    received_at=utcnow() - timedelta(days=400))
    url = f"/engagement/places/{town['school'].id}"
    for role in ("clinician", "supervisor", "officer"):
        login_as(town[role])
        page = client.get(url).get_data(as_text=True)
        assert "Dismissal walk-through" in page and "Online safety night" in page, role
        assert 'data-call-count="2"' in page, role
        assert school_call.incident_number in page and unlinked.incident_number in page, role
        assert elsewhere.incident_number not in page and old.incident_number not in page, role
        assert f'href="/calls/{school_call.id}"' in page, role
        # Never clinical fields here, whoever looks: the call's page decides what each role sees.
        assert "Orrington-Pike" not in page and "Suicidal" not in page, role
    login_as(town["staff"])
    page = client.get(url).get_data(as_text=True)
    assert "Dismissal walk-through" in page and "data-call-count" not in page
    assert school_call.incident_number not in page


def test_clinicians_see_the_engagement_at_a_call_s_place(client, login_as, town, school_call):
    make_visit(town["officer"], town["school"], purpose="Dismissal walk-through", notes="Secret visit note")
    make_visit(town["officer"], town["school"], purpose="Visit long ago", days_ago=400)
    make_event(town["staff"], town["school"], title="Online safety night")
    login_as(town["clinician"])
    page = client.get(f"/calls/{school_call.id}").get_data(as_text=True)
    panel = page[page.index('data-section="engagement"'):]
    assert "Engagement here" in page and "Chelmsford High School" in panel
    assert "Dismissal walk-through" in panel and "Online safety night" in panel
    assert "Visit long ago" not in panel and "Secret visit note" not in panel
    assert NARRATIVE in page  # the clinician's own clinical section, as before


def test_officers_and_dispatchers_see_the_panel_without_clinical_fields(client, login_as, town, school_call):
    make_visit(town["officer"], town["school"], purpose="Dismissal walk-through")
    login_as(town["officer"])
    page = client.get(f"/calls/{school_call.id}").get_data(as_text=True)
    assert "Dismissal walk-through" in page and "Orrington-Pike" not in page
    login_as(town["dispatcher"])
    page = client.get(f"/calls/{school_call.id}").get_data(as_text=True)
    assert "Chelmsford High School" in page and "Dismissal walk-through" not in page
    assert "Orrington-Pike" not in page


def test_the_bhu_sees_no_town_engagement_on_a_routed_call(client, login_as, csrf, agencies, town, school_call,
                                                          make_user):
    make_visit(town["officer"], town["school"], purpose="Dismissal walk-through")
    school_call.route = "bhu"
    school_call.route_agency_id = agencies["BHU"].id
    db.session.flush()
    login_as(make_user(agencies["BHU"], "bhu_clinician"))
    response = client.get(f"/calls/{school_call.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Dismissal walk-through" not in page
    assert f"/engagement/places/{town['school'].id}" not in page
    assert f"/engagement/calls/{school_call.id}/place" not in page
    token = csrf(client.get("/auth/account"))
    assert client.post(f"/engagement/calls/{school_call.id}/place",
                       data={"csrf_token": token, "place_id": ""}).status_code == 403
    assert _place_of(school_call) == town["school"].id


def test_a_call_at_a_place_s_address_is_suggested_and_can_be_linked(client, login_as, csrf, town):
    make_visit(town["officer"], town["school"], purpose="Dismissal walk-through")
    call = make_call(town["school"].agency_id, address="200 richardson rd.")
    login_as(town["dispatcher"])
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert f'data-suggested-place="{town["school"].id}"' in page and "Link the call to Chelmsford High School" in page
    token = csrf(client.get(f"/calls/{call.id}"))
    response = client.post(f"/engagement/calls/{call.id}/place", data={"csrf_token": token,
                                                                       "place_id": town["school"].id})
    assert response.status_code == 303
    assert _place_of(call) == town["school"].id
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert f'data-call-place="{town["school"].id}"' in page and "Dismissal walk-through" not in page
    response = client.post(f"/engagement/calls/{call.id}/place", data={"csrf_token": token, "place_id": "nope"})
    assert response.status_code == 303 and _place_of(call) == town["school"].id
    assert "Choose a place from the list." in client.get(f"/calls/{call.id}").get_data(as_text=True)
    response = client.post(f"/engagement/calls/{call.id}/place", data={"csrf_token": token, "place_id": ""})
    assert response.status_code == 303 and _place_of(call) is None


def test_another_agency_s_place_can_t_be_linked(client, login_as, csrf, agencies, town):
    call = make_call(agencies["A"].id)
    foreign = make_place(agencies["B"].id)
    login_as(town["officer"])
    token = csrf(client.get(f"/calls/{call.id}"))
    client.post(f"/engagement/calls/{call.id}/place", data={"csrf_token": token, "place_id": foreign.id})
    assert _place_of(call) is None
