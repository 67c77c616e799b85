"""The on-call roster: shift rules, who is on duty, the week in local time
across a daylight-saving change, and the roster pages."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from clinician_app.agencies import roster
from clinician_app.agencies.models import Shift
from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import NotFound, PermissionDenied, ValidationError
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db


@pytest.fixture()
def town(agencies):
    return agencies["A"]


@pytest.fixture()
def supervisor(make_user, town):
    return make_user(town, "supervisor")


@pytest.fixture()
def clinician(make_user, town):
    return make_user(town, "clinician", display_name="Dana Reyes")


def _shift(clinician, start, hours):
    return {"user_id": clinician.id, "starts_at": start, "ends_at": start + timedelta(hours=hours)}


def test_add_shift_puts_the_clinician_on_duty_and_is_audited(supervisor, clinician, town):
    now = utcnow()
    shift = roster.add_shift(supervisor, _shift(clinician, now - timedelta(hours=1), 8))
    assert [u.id for u in roster.on_duty_now(town.id)] == [clinician.id]
    assert roster.on_duty_now(town.id, now + timedelta(hours=8)) == []  # the end is exclusive
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.record_id == shift.id)).scalar_one() == "shift.create"
    roster.delete_shift(supervisor, shift.id)
    assert roster.on_duty_now(town.id) == []


@pytest.mark.parametrize(("hours", "field"), [(0, "ends_at"), (-2, "ends_at"), (25, "ends_at")])
def test_shift_length_rules(supervisor, clinician, hours, field):
    with pytest.raises(ValidationError) as exc:
        roster.add_shift(supervisor, _shift(clinician, utcnow(), hours))
    assert field in exc.value.fields


def test_exactly_24_hours_is_allowed(supervisor, clinician):
    assert roster.add_shift(supervisor, _shift(clinician, utcnow(), 24)).id


def test_overlapping_shifts_of_one_clinician_are_refused(supervisor, clinician):
    start = utcnow()
    roster.add_shift(supervisor, _shift(clinician, start, 8))
    with pytest.raises(ValidationError, match="overlaps"):
        roster.add_shift(supervisor, _shift(clinician, start + timedelta(hours=7), 8))
    # Back to back is not an overlap.
    assert roster.add_shift(supervisor, _shift(clinician, start + timedelta(hours=8), 8)).id


@pytest.mark.parametrize("who", ["dispatcher", "supervisor", "other_town", "bhu_clinician_in_bhu", "disabled"])
def test_only_active_clinicians_of_the_agency(supervisor, make_user, agencies, town, who):
    user = {
        "dispatcher": lambda: make_user(town, "dispatcher"),
        "supervisor": lambda: make_user(town, "supervisor"),
        "other_town": lambda: make_user(agencies["B"], "clinician"),
        "bhu_clinician_in_bhu": lambda: make_user(agencies["BHU"], "bhu_clinician"),
        "disabled": lambda: make_user(town, "clinician"),
    }[who]()
    if who == "disabled":
        user.disabled_at = utcnow()
    with pytest.raises(ValidationError) as exc:
        roster.add_shift(supervisor, _shift(user, utcnow(), 4))
    assert "user_id" in exc.value.fields


def test_bhu_roster_holds_bhu_clinicians(make_user, agencies):
    bhu = agencies["BHU"]
    bhu_supervisor, bhu_clinician = make_user(bhu, "supervisor"), make_user(bhu, "bhu_clinician")
    roster.add_shift(bhu_supervisor, _shift(bhu_clinician, utcnow() - timedelta(minutes=5), 2))
    assert [u.id for u in roster.on_duty_now(bhu.id)] == [bhu_clinician.id]


def test_clinicians_cannot_edit_and_other_agencies_shifts_are_not_found(make_user, agencies, clinician, supervisor):
    with pytest.raises(PermissionDenied):
        roster.add_shift(clinician, _shift(clinician, utcnow(), 4))
    other_sup = make_user(agencies["B"], "supervisor")
    shift = roster.add_shift(supervisor, _shift(clinician, utcnow(), 4))
    with pytest.raises(NotFound):
        roster.delete_shift(other_sup, shift.id)


def test_spring_forward_time_does_not_exist():
    with pytest.raises(ValidationError, match="does not exist"):
        roster.local_to_utc(date(2025, 3, 9), time(2, 30), "America/New_York")
    assert roster.local_to_utc(date(2025, 3, 9), time(3, 30), "America/New_York") == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)


def test_week_view_in_local_time_across_the_dst_change(supervisor, clinician, town):
    # 2025-03-09 is the spring-forward Sunday in New York: a 23-hour day.
    late = roster.local_to_utc(date(2025, 3, 8), time(22, 0), town.timezone)
    roster.add_shift(supervisor, {"user_id": clinician.id, "starts_at": late,
                                  "ends_at": roster.local_to_utc(date(2025, 3, 9), time(6, 0), town.timezone)})
    sunday_late = roster.local_to_utc(date(2025, 3, 9), time(23, 30), town.timezone)
    roster.add_shift(supervisor, {"user_id": clinician.id, "starts_at": sunday_late,
                                  "ends_at": sunday_late + timedelta(minutes=20)})
    week = roster.roster_week(supervisor, date(2025, 3, 6))
    assert week.start == date(2025, 3, 3) and [d.day.weekday() for d in week.days] == list(range(7))
    by_day = {d.day: len(d.shifts) for d in week.days}
    # The overnight shift shows on Saturday and Sunday; the 23:30 one on Sunday only, not on Monday.
    assert (by_day[date(2025, 3, 8)], by_day[date(2025, 3, 9)]) == (1, 2)
    assert roster.local_midnight(date(2025, 3, 10), town.timezone) - roster.local_midnight(
        date(2025, 3, 9), town.timezone) == timedelta(hours=23)
    next_week = roster.roster_week(supervisor, week.next)
    assert all(not d.shifts for d in next_week.days)


# --- pages ---------------------------------------------------------------------------------

def test_week_page_shows_on_duty_and_supervisor_adds_a_shift(client, login_as, csrf, supervisor, clinician, town):
    login_as(supervisor)
    page = client.get("/roster")
    assert page.status_code == 200 and "Nobody is on the roster right now." in page.get_data(as_text=True)
    today = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo(town.timezone))
    start = (today - timedelta(hours=1)).replace(second=0, microsecond=0)
    response = client.post("/roster/shifts", data={
        "csrf_token": csrf(page), "user_id": clinician.id, "day": start.date().isoformat(),
        "starts_at": start.strftime("%H:%M"), "ends_at": (start + timedelta(hours=3)).strftime("%H:%M")})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "data-on-duty>Dana Reyes<" in html


def test_bad_shift_form_keeps_what_was_typed(client, login_as, csrf, supervisor, clinician):
    login_as(supervisor)
    token = csrf(client.get("/roster"))
    response = client.post("/roster/shifts", data={"csrf_token": token, "user_id": "", "day": "2025-03-09",
                                                   "starts_at": "09:00", "ends_at": "06:00"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'value="2025-03-09"' in html and 'value="09:00"' in html and "Choose an active department clinician" in html
    response = client.post("/roster/shifts", data={"csrf_token": token, "user_id": clinician.id, "day": "2025-03-09",
                                                   "starts_at": "02:30", "ends_at": "06:00"})
    assert response.status_code == 400 and "clocks change" in response.get_data(as_text=True)
    assert db.session.execute(select(Shift).where(Shift.user_id == clinician.id)).first() is None


def test_bad_week_argument_falls_back_to_this_week(client, login_as, clinician):
    login_as(clinician)
    response = client.get("/roster?week=not-a-date")
    assert response.status_code == 200 and "showing this week" in response.get_data(as_text=True)
    assert "Add a shift" not in response.get_data(as_text=True)
