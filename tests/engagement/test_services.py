"""Engagement services: recording each kind, filters, exports, agency scope and
sharing, bad input, and the figures reports read."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import NotFound, PermissionDenied, ValidationError
from clinician_app.core.timeutil import utcnow
from clinician_app.engagement import events, lists, partnerships, places, posts, stats, visits, youth
from clinician_app.extensions import db

from .factories import make_event, make_partnership, make_place, make_program, make_session, make_visit


def _today():
    from zoneinfo import ZoneInfo

    return utcnow().astimezone(ZoneInfo("America/New_York")).date()


@pytest.fixture()
def staff(agencies, make_user):
    return make_user(agencies["A"], "engagement")


@pytest.fixture()
def officer(agencies, make_user):
    return make_user(agencies["A"], "officer")


def _visit(officer, place=None, **overrides):
    values = {"place_id": place.id if place else None, "started_at": utcnow() - timedelta(hours=2),
              "duration_minutes": "25", "officer_ids": [officer.id], "purpose": "Walk-through at dismissal",
              "notes": "Met the principal, Ms. Quintanilla-Brewster."}
    values.update(overrides)
    return visits.VisitData(**values)


def _actions(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


# --- places -----------------------------------------------------------------------------

def test_places_are_the_agency_s_and_matched_by_normalised_address(agencies, staff, make_user):
    school = places.create_place(staff, places.PlaceData(name="Chelmsford High School", kind="school",
                                                         address="200 Richardson Rd."))
    assert school.address_key == "200 richardson road"
    assert places.place_for_address(agencies["A"].id, "200  RICHARDSON ROAD") == school
    assert places.place_for_address(agencies["B"].id, "200 Richardson Road") is None
    assert places.place_for_address(agencies["A"].id, " ,. ") is None
    with pytest.raises(ValidationError) as exc:
        places.create_place(staff, places.PlaceData(name="Chelmsford High School", kind="school"))
    assert "already has a place" in exc.value.fields["name"][0]
    other = make_user(agencies["B"], "engagement")
    assert places.list_places(other) == []
    with pytest.raises(NotFound):
        places.get_place(other, school.id)
    updated = places.update_place(staff, school.id, places.PlaceData(name="CHS", kind="school",
                                                                     address="201 Richardson Road"))
    assert updated.name == "CHS" and updated.address_key == "201 richardson road"


def test_only_engagement_staff_keep_the_places_list(agencies, officer, make_user):
    for user in (officer, make_user(agencies["A"], "clinician"), make_user(agencies["A"], "dispatcher")):
        with pytest.raises(PermissionDenied):
            places.create_place(user, places.PlaceData(name="X", kind="park"))


# --- visits -----------------------------------------------------------------------------

def test_an_officer_records_a_visit_with_encrypted_notes(agencies, officer):
    place = make_place(agencies["A"].id)
    visit = visits.record_visit(officer, _visit(officer, place))
    assert visit.kind == "school" and visit.duration_minutes == 25 and visit.officers == [officer]
    raw = db.session.execute(text("SELECT notes_enc FROM eng_visits WHERE id = :id"), {"id": visit.id}).scalar_one()
    assert b"Quintanilla" not in bytes(raw)
    _visit_read, notes = visits.read_visit(officer, visit.id)
    assert notes == "Met the principal, Ms. Quintanilla-Brewster."
    db.session.commit()  # audited reads are written as the transaction commits
    assert [e.record_id for e in _actions("engagement.visit_read")] == [visit.id]
    assert "Quintanilla" not in str(_actions("engagement.visit_record")[0].details)


def test_a_visit_at_a_free_address_needs_its_kind(officer):
    with pytest.raises(ValidationError) as exc:
        visits.record_visit(officer, _visit(officer, address="14 Elm Street"))
    assert "kind" in exc.value.fields
    visit = visits.record_visit(officer, _visit(officer, address="14 Elm Street", kind="business"))
    assert visit.place_id is None and visit.where == "14 Elm Street" and visit.kind == "business"


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"duration_minutes": "-15"}, "duration_minutes", "can't be negative"),
    ({"duration_minutes": "abc"}, "duration_minutes", "whole minutes"),
    ({"duration_minutes": "0"}, "duration_minutes", "from 1"),
    ({"duration_minutes": ""}, "duration_minutes", "how many minutes"),
    ({"started_at": utcnow() + timedelta(hours=3)}, "started_at", "future"),
    ({"officer_ids": []}, "officer_ids", "at least one officer"),
    ({"purpose": ""}, "purpose", "what the visit was for"),
    ({"place_id": None, "address": ""}, "address", "Choose a place"),
    ({"notes": "bell\x07"}, "notes", "control characters"),
    ({"purpose": "x" * 201}, "purpose", "at most 200"),
    ({"started_at": None}, "started_at", "when the visit started"),
    ({"started_at": utcnow().replace(year=1999)}, "started_at", "after the year 2000"),
])
def test_bad_visits_are_refused_with_a_clear_message(agencies, officer, overrides, field, words):
    place = make_place(agencies["A"].id)
    with pytest.raises(ValidationError) as exc:
        visits.record_visit(officer, _visit(officer, place, **overrides))
    assert words in " ".join(exc.value.fields[field])


def test_a_visit_can_t_name_another_agency_s_place_or_officer(agencies, officer, make_user):
    foreign_place = make_place(agencies["B"].id)
    foreign_officer = make_user(agencies["B"], "officer")
    with pytest.raises(ValidationError) as exc:
        visits.record_visit(officer, _visit(officer, foreign_place, officer_ids=[foreign_officer.id]))
    assert set(exc.value.fields) == {"place_id", "officer_ids"}


@pytest.mark.parametrize("role", ["dispatcher", "clinician", "bhu_clinician", "supervisor", "auditor", "admin",
                                  "liaison"])
def test_roles_other_than_officers_and_engagement_staff_record_no_visits(agencies, make_user, role):
    user = make_user(agencies["A"], role)
    with pytest.raises(PermissionDenied):
        visits.record_visit(user, _visit(user, address="1 Elm Street", kind="park"))


@pytest.mark.parametrize("role", ["officer", "dispatcher", "clinician", "supervisor", "auditor"])
def test_only_engagement_staff_record_events_partnerships_posts_and_youth_programs(agencies, make_user, role):
    user = make_user(agencies["A"], role)
    for call in (lambda: events.record_event(user, events.EventData()),
                 lambda: partnerships.record_partnership(user, partnerships.PartnershipData()),
                 lambda: posts.record_post(user, posts.PostData()),
                 lambda: youth.create_youth_program(user, youth.ProgramData())):
        with pytest.raises(PermissionDenied):
            call()


# --- the other kinds --------------------------------------------------------------------

def test_engagement_staff_record_an_event(agencies, staff, officer):
    place = make_place(agencies["A"].id)
    event = events.record_event(staff, events.EventData(
        kind="seminar", title="Scam awareness", topic="Phone scams", held_on=_today(), place_id=place.id,
        partners="Town of Chelmsford", attendance="35", officer_ids=[officer.id], materials="Handouts"))
    assert event.attendance == 35 and event.officers == [officer] and event.place == place


@pytest.mark.parametrize(("attendance", "words"), [("-1", "can't be below zero"), ("lots", "whole number"),
                                                    ("1000001", "at most")])
def test_an_event_with_bad_attendance_is_refused(staff, attendance, words):
    with pytest.raises(ValidationError) as exc:
        events.record_event(staff, events.EventData(kind="event", title="T", topic="T", held_on=_today(),
                                                    attendance=attendance))
    assert words in exc.value.fields["attendance"][0]


def test_an_event_without_a_count_is_kept_as_not_counted(staff):
    event = events.record_event(staff, events.EventData(kind="event", title="T", topic="T", held_on=_today()))
    assert event.attendance is None


def test_a_partnership_is_shared_read_only_with_its_partner_agencies(agencies, staff, make_user):
    partnership = partnerships.record_partnership(staff, partnerships.PartnershipData(
        kind="outreach", title="Joint outreach", partner_agency_ids=[agencies["BHU"].id],
        started_on=_today() - timedelta(days=10), description="Door-to-door outreach."))
    bhu_clinician = make_user(agencies["BHU"], "bhu_clinician")
    town_b = make_user(agencies["B"], "engagement")
    assert [p.id for p in lists.list_records(bhu_clinician, "partnerships").items] == [partnership.id]
    assert lists.list_records(town_b, "partnerships").items == []
    # Not the BHU's to add to: it has no write path for another agency's record.
    bhu_staff = make_user(agencies["BHU"], "engagement")
    own = make_partnership(bhu_staff, title="BHU's own")
    assert {p.id for p in lists.list_records(bhu_staff, "partnerships").items} == {partnership.id, own.id}
    assert lists.list_records(staff, "partnerships").items == [partnership]


def test_bad_partnerships_are_refused(agencies, staff):
    with pytest.raises(ValidationError) as exc:
        partnerships.record_partnership(staff, partnerships.PartnershipData(
            kind="nope", title="", partner_agency_ids=[agencies["A"].id, "x"], started_on=_today(),
            ended_on=_today() - timedelta(days=1)))
    assert set(exc.value.fields) == {"kind", "title", "partner_agency_ids", "ended_on"}


@pytest.mark.parametrize("url", ["https://[::1", "https://example.com/" + "a" * 500,
                                 "javascript:alert(1)", "www.facebook.com/page", "https://", "https://exa mple.com",
                                 "ftp://example.com/file", "https://user:pw@example.com/", "https://localhost/x"])
def test_a_post_with_an_invalid_link_is_refused(staff, url):
    with pytest.raises(ValidationError) as exc:
        posts.record_post(staff, posts.PostData(platform="facebook", posted_on=_today(), topic="prevention",
                                                title="Lock your car", url=url))
    assert "full web address" in exc.value.fields["url"][0] or "at most 500" in exc.value.fields["url"][0]


def test_a_post_is_recorded_with_link_and_reach(staff):
    post = posts.record_post(staff, posts.PostData(
        platform="nextdoor", posted_on=_today(), topic="crime_trend", title="Catalytic converter thefts",
        url="https://nextdoor.com/p/abc?x=1", reach="1200"))
    assert post.reach == 1200 and post.url == "https://nextdoor.com/p/abc?x=1"
    with pytest.raises(ValidationError) as exc:
        posts.record_post(staff, posts.PostData(platform="x", posted_on=_today() + timedelta(days=2),
                                                topic="prevention", title="T", reach="-3"))
    assert set(exc.value.fields) == {"posted_on", "reach"}


def test_youth_sessions_count_participants_by_age_band(agencies, staff, officer, make_user):
    program = youth.create_youth_program(staff, youth.ProgramData(program="pal", title="PAL basketball"))
    session = youth.record_youth_session(staff, program.id, youth.SessionData(
        held_on=_today(), activity="Clinic", officer_ids=[officer.id], counts={"8_10": "4", "11_13": "7", "14_17": ""}))
    assert session.counts == {"8_10": 4, "11_13": 7, "14_17": 0} and session.participants == 11
    with pytest.raises(ValidationError) as exc:
        youth.record_youth_session(staff, program.id, youth.SessionData(
            held_on=_today(), activity="Clinic", counts={"8_10": "-2"}))
    assert "below zero" in exc.value.fields["participants_8_10"][0]
    assert youth.list_youth_programs(staff) == [(program, 1, 11)]
    with pytest.raises(NotFound):
        youth.record_youth_session(make_user(agencies["B"], "engagement"), program.id, youth.SessionData())


# --- lists, filters, exports ------------------------------------------------------------

def test_visit_filters_by_date_kind_place_and_officer(agencies, officer, make_user):
    school, park = make_place(agencies["A"].id, kind="school"), make_place(agencies["A"].id, kind="park", address=None)
    partner = make_user(agencies["A"], "officer")
    recent = make_visit(officer, school, days_ago=1)
    old = make_visit(officer, park, days_ago=40)
    other = make_visit(partner, school, days_ago=2)
    make_visit(make_user(agencies["B"], "officer"), make_place(agencies["B"].id), days_ago=1)

    def ids(**kwargs):
        return {v.id for v in lists.list_records(officer, "visits", lists.EngagementFilter(**kwargs)).items}

    assert ids() == {recent.id, old.id, other.id}
    assert ids(kind="park") == {old.id}
    assert ids(place_id=school.id) == {recent.id, other.id}
    assert ids(officer_id=partner.id) == {other.id}
    assert ids(date_from=_today() - timedelta(days=10)) == {recent.id, other.id}
    assert ids(date_to=_today() - timedelta(days=30)) == {old.id}


def test_filters_for_events_posts_partnerships_and_youth(agencies, staff, officer):
    place = make_place(agencies["A"].id)
    seminar = make_event(staff, place, kind="seminar", held_on=_today() - timedelta(days=1))
    make_event(staff, None, kind="event", held_on=_today() - timedelta(days=60))
    assert [e.id for e in lists.list_records(staff, "events", lists.EngagementFilter(kind="seminar")).items] \
        == [seminar.id]
    assert [e.id for e in lists.list_records(staff, "events", lists.EngagementFilter(place_id=place.id)).items] \
        == [seminar.id]
    ended = make_partnership(staff, started_on=_today() - timedelta(days=100), ended_on=_today() - timedelta(days=50))
    running = make_partnership(staff, kind="outreach", started_on=_today() - timedelta(days=10))
    window = lists.EngagementFilter(date_from=_today() - timedelta(days=20))
    assert [p.id for p in lists.list_records(staff, "partnerships", window).items] == [running.id]
    assert [p.id for p in lists.list_records(staff, "partnerships",
                                             lists.EngagementFilter(date_to=_today() - timedelta(days=60))).items] \
        == [ended.id]
    pal = make_program(staff, program="pal")
    academy = make_program(staff)
    make_session(staff, pal)
    wanted = make_session(staff, academy, place=place)
    assert [s.id for s in lists.list_records(staff, "youth", lists.EngagementFilter(kind="academy")).items] \
        == [wanted.id]


def test_exports_are_csv_with_formulas_defused_and_no_notes(agencies, staff, officer):
    place = make_place(agencies["A"].id, name="=HYPERLINK(\"http://evil\")")
    make_visit(officer, place, purpose="+SUM(A1)", notes="Private note about Mr. Halvorsen")
    export = lists.export_records(officer, "visits", lists.EngagementFilter())
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][:3] == ["started_local", "place", "address"] and len(rows) == 2
    assert rows[1][1].startswith("'=") and rows[1][6] == "'+SUM(A1)"
    assert "Halvorsen" not in export.text
    assert export.filename.startswith("engagement-visits-towna-")
    assert _actions("engagement.export")[0].details_dict["rows"] == 1
    make_event(staff, place)
    make_partnership(staff, [agencies["B"]])
    posts.record_post(staff, posts.PostData(platform="facebook", posted_on=_today(), topic="prevention",
                                            title="-1 trick", reach=5))
    make_session(staff, make_program(staff))
    for record, header in (("events", "attendance"), ("partnerships", "partner_agencies"), ("posts", "reach"),
                           ("youth", "participants_8-10")):
        text_ = lists.export_records(staff, record, lists.EngagementFilter()).text
        assert header in text_.splitlines()[0] and len(text_.splitlines()) == 2, record
    assert "'-1 trick" in lists.export_records(staff, "posts", lists.EngagementFilter()).text


def test_nobody_lists_another_agency_s_records(agencies, staff, officer, make_user):
    make_visit(officer, make_place(agencies["A"].id))
    make_event(staff)
    make_session(staff, make_program(staff))
    make_partnership(staff)
    posts.record_post(staff, posts.PostData(platform="x", posted_on=_today(), topic="prevention", title="T"))
    outsider = make_user(agencies["B"], "engagement", "officer")
    for record in lists.KINDS:
        assert lists.list_records(outsider, record).total == 0, record
        assert lists.list_records(staff, record).total == 1, record


# --- the figures reports read -----------------------------------------------------------

def test_engagement_summary_and_monthly_figures(agencies, staff, officer, make_user):
    today = _today()
    first = today.replace(day=1)
    school = make_place(agencies["A"].id, kind="school")
    park = make_place(agencies["A"].id, kind="park", address=None)
    make_visit(officer, school, days_ago=0.1, duration=30)
    make_visit(officer, park, days_ago=0.1, duration=10)
    make_visit(officer, school, days_ago=400)  # outside every window asked
    make_event(staff, held_on=today, attendance=40)
    make_event(staff, held_on=today, attendance=None)
    posts.record_post(staff, posts.PostData(platform="x", posted_on=today, topic="prevention", title="T",
                                            reach="900"))
    make_session(staff, make_program(staff), held_on=today, counts=(1, 2, 3))
    make_partnership(staff, started_on=today - timedelta(days=400))
    make_partnership(staff, started_on=today - timedelta(days=400), ended_on=today - timedelta(days=200))
    other = make_user(agencies["B"], "officer")
    make_visit(other, make_place(agencies["B"].id), days_ago=0.1)

    ids = [agencies["A"].id, agencies["B"].id]
    end = today + timedelta(days=1)
    summary = stats.engagement_summary(ids, first, end)
    a = summary["agencies"][agencies["A"].id]
    assert a["visits"] == 2 and a["visit_minutes"] == 40
    assert a["visits_by_place_kind"]["school"] == 1 and a["visits_by_place_kind"]["park"] == 1
    assert a["events"] == 2 and a["event_attendance"] == 40
    assert a["posts"] == 1 and a["post_reach"] == 900
    assert a["youth_sessions"] == 1 and a["youth_participants"] == 6
    assert a["youth_participants_by_band"] == {"8_10": 1, "11_13": 2, "14_17": 3}
    assert a["partnerships_active"] == 1
    assert summary["total"]["visits"] == 3 and summary["agencies"][agencies["B"].id]["visits"] == 1

    monthly = stats.engagement_by_month([agencies["A"].id], first - timedelta(days=1), 2)
    last_month, this_month = monthly["months"]
    assert this_month == today.strftime("%Y-%m")
    assert monthly["agencies"][agencies["A"].id][this_month]["visits"] == 2
    assert monthly["total"][last_month]["visits"] == 0
    assert monthly["total"][last_month]["partnerships_active"] == 1
    assert stats.engagement_summary([], first, end)["total"] == stats.empty_figures()


def test_engagement_figures_take_a_constant_number_of_queries(app, agencies, staff, officer):
    from sqlalchemy import event

    statements = []

    def count(*_args):
        statements.append(1)

    for i in range(6):
        make_visit(officer, make_place(agencies["A"].id), days_ago=i * 20)
        make_session(staff, make_program(staff), held_on=_today() - timedelta(days=i * 20))
    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        stats.engagement_by_month([agencies["A"].id, agencies["B"].id], date(_today().year - 1, 1, 1), 24)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 5



def test_a_naive_start_time_is_a_programming_error(officer):
    with pytest.raises(ValueError, match="timezone-aware"):
        visits.record_visit(officer, _visit(officer, address="1 Elm", kind="park",
                                            started_at=utcnow().replace(tzinfo=None)))


@pytest.mark.parametrize(("held_on", "words"), [(date(1999, 5, 1), "after the year 2000"),
                                                (None, "Enter the date"), ("soon", "Enter the date")])
def test_event_dates_are_checked(staff, held_on, words):
    with pytest.raises(ValidationError) as exc:
        events.record_event(staff, events.EventData(kind="event", title="T", topic="T", held_on=held_on))
    assert words in exc.value.fields["held_on"][0]
    with pytest.raises(ValidationError) as exc:
        events.record_event(staff, events.EventData(kind="event", title="T", topic="T",
                                                    held_on=_today() + timedelta(days=4 * 365)))
    assert "next three years" in exc.value.fields["held_on"][0]


def test_places_filter_by_kind_and_a_place_without_address_matches_linked_calls_only(agencies, staff, officer):
    from tests.calls.factories import make_call

    park = make_place(agencies["A"].id, kind="park", address=None)
    school = make_place(agencies["A"].id, kind="school")
    assert places.list_places(staff, "park") == [park]
    assert set(places.list_places(staff)) == {park, school}
    linked = make_call(agencies["A"].id, address="Varney Playground")
    make_call(agencies["A"].id, address="Varney Playground")
    linked.place_id = park.id
    db.session.flush()
    calls = places.calls_at_place(officer, park)
    assert calls.total == 1 and calls.items == [linked] and calls.co_response == 1
    assert places.calls_at_place(staff, park) is None  # the engagement role reads no calls


def test_lists_page_and_filter_posts_by_date(staff):
    for days in range(3):
        posts.record_post(staff, posts.PostData(platform="x", posted_on=_today() - timedelta(days=days),
                                                topic="prevention", title=f"Post {days}"))
    first = lists.list_records(staff, "posts", per_page=2)
    assert first.total == 3 and first.pages == 2 and first.has_next and not first.has_prev
    second = lists.list_records(staff, "posts", page=9, per_page=2)
    assert second.page == 2 and second.has_prev and not second.has_next
    assert [p.title for p in second.items] == ["Post 2"]
    window = lists.EngagementFilter(date_from=_today() - timedelta(days=1), date_to=_today() - timedelta(days=1))
    assert [p.title for p in lists.list_records(staff, "posts", window).items] == ["Post 1"]
