"""Follow-up rules: templates fire on the right encounters; due times in the
agency's time zone on both sides of a daylight-saving change; done within the
window at its exact boundary; bad input refused with a field message."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clinician_app.cases.models import Disposition, Encounter
from clinician_app.cases.services import record_encounter
from clinician_app.core.errors import PermissionDenied, ValidationError
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db
from clinician_app.followups import services
from clinician_app.followups.models import Followup
from tests.calls.factories import make_call
from tests.cases.conftest import new_encounter
from tests.cases.note_factories import make_case
from tests.followups.conftest import call_in_case
from tests.followups.factories import followup_for

NY = "America/New_York"


def _template(agency, kind, code, windows, name="T"):
    return services.ensure_template(agency.id, name, kind, code, windows, "Check in after the crisis")


def _followups_of(encounter_id):
    return list(db.session.execute(select(Followup).where(Followup.encounter_id == encounter_id)
                                   .order_by(Followup.due_at)).scalars())


# --- due times and daylight saving -------------------------------------------------------

@pytest.mark.parametrize(("anchor", "window", "due"), [
    # Spring forward (Sunday 8 March 2026, 02:00 EST -> 03:00 EDT).
    # 72 h is 72 real hours: 12:00 EST Saturday -> 13:00 EDT Tuesday (the same instant + 72 h).
    (datetime(2026, 3, 7, 17, 0, tzinfo=UTC), "72h", datetime(2026, 3, 10, 17, 0, tzinfo=UTC)),
    # 7 d keeps the wall clock: 12:00 EST Saturday -> 12:00 EDT the next Saturday (167 real hours).
    (datetime(2026, 3, 7, 17, 0, tzinfo=UTC), "7d", datetime(2026, 3, 14, 16, 0, tzinfo=UTC)),
    # 24 h over the change itself: 23:00 EST Saturday -> 00:00 EDT Monday.
    (datetime(2026, 3, 8, 4, 0, tzinfo=UTC), "24h", datetime(2026, 3, 9, 4, 0, tzinfo=UTC)),
    # Fall back (Sunday 1 November 2026, 02:00 EDT -> 01:00 EST).
    (datetime(2026, 10, 31, 16, 0, tzinfo=UTC), "72h", datetime(2026, 11, 3, 16, 0, tzinfo=UTC)),
    # 12:00 EDT Saturday -> 12:00 EST the next Saturday (169 real hours).
    (datetime(2026, 10, 31, 16, 0, tzinfo=UTC), "7d", datetime(2026, 11, 7, 17, 0, tzinfo=UTC)),
    # A wall-clock time the spring-forward skips (02:30 on 8 March) is read before the change: 03:30 EDT.
    (datetime(2026, 3, 1, 7, 30, tzinfo=UTC), "7d", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
    # A time the fall-back repeats (01:30 on 1 November) is its first occurrence, 01:30 EDT.
    (datetime(2026, 10, 25, 5, 30, tzinfo=UTC), "7d", datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
    # Away from any change both rules agree: 7 d = 168 h.
    (datetime(2026, 6, 1, 14, 0, tzinfo=UTC), "7d", datetime(2026, 6, 8, 14, 0, tzinfo=UTC)),
])
def test_due_times_in_the_agency_zone_across_daylight_saving(anchor, window, due):
    assert services.due_time(anchor, window, NY) == due


def test_a_days_window_depends_on_the_agency_zone():
    anchor = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)
    # Phoenix keeps no daylight saving: 7 days is exactly 168 hours there.
    assert services.due_time(anchor, "7d", "America/Phoenix") == anchor + timedelta(days=7)
    assert services.due_time(anchor, "7d", NY) == anchor + timedelta(hours=167)


@pytest.mark.parametrize("window", ["", "0h", "7x", "721h", "61d", "h", "24 h"])
def test_bad_windows_are_refused(window):
    with pytest.raises(ValueError):
        services.parse_window(window)


def test_scheduled_follow_ups_use_the_case_agency_zone_across_the_spring_change(app_ctx, clinician, make_agency):
    """An encounter that ended just before the spring change: 24 h and 72 h are real
    hours; 7 d lands at the same local time."""
    agency = clinician.agency
    _template(agency, "disposition", "voluntary_ed", "24h,72h,7d")
    case = make_case(agency.id, assignee=clinician)
    call = make_call(agency.id, received_at=datetime(2026, 3, 7, 20, 0, tzinfo=UTC))
    call.case_id = case.id
    disposition = db.session.execute(select(Disposition).where(Disposition.code == "voluntary_ed")).scalar_one()
    ended = datetime(2026, 3, 7, 22, 30, tzinfo=UTC)  # 17:30 EST, Saturday
    encounter = Encounter(call_id=call.id, agency_id=agency.id, kind="phone", started_at=ended - timedelta(minutes=30),
                          ended_at=ended, disposition_id=disposition.id, point_of_intervention="pre_arrest",
                          created_by_id=clinician.id)
    db.session.add(encounter)
    db.session.flush()
    made = services.schedule_followups_for_encounter(clinician, encounter)
    due = {f.window: as_utc(f.due_at) for f in made}
    assert due == {"24h": ended + timedelta(hours=24), "72h": ended + timedelta(hours=72),
                   "7d": datetime(2026, 3, 14, 21, 30, tzinfo=UTC)}  # 17:30 EDT
    assert all(as_utc(f.anchor_at) == ended for f in made)


# --- templates firing -------------------------------------------------------------------------

def test_a_disposition_template_fires_when_an_encounter_is_recorded(app_ctx, clinician):
    _template(clinician.agency, "disposition", "voluntary_ed", "24h,7d")
    call, case = call_in_case(clinician)
    encounter = record_encounter(clinician, call.id, new_encounter(disposition="voluntary_ed"))
    made = _followups_of(encounter.id)
    assert [f.window for f in made] == ["24h", "7d"]
    ended = as_utc(encounter.ended_at)
    assert as_utc(made[0].due_at) == ended + timedelta(hours=24)
    assert as_utc(made[1].due_at) == services.due_time(ended, "7d", clinician.agency.timezone)
    assert all(f.case_id == case.id and f.assignee_id == clinician.id and f.is_open for f in made)
    assert made[0].purpose == "Check in after the crisis"


def test_templates_do_not_fire_on_other_dispositions_other_agencies_or_calls_outside_a_case(
        app_ctx, clinician, agencies):
    _template(clinician.agency, "disposition", "voluntary_ed", "24h")
    _template(agencies["B"], "disposition", "resolved_on_scene", "24h")  # another town's
    call, _case = call_in_case(clinician)
    assert _followups_of(record_encounter(clinician, call.id, new_encounter(disposition="resolved_on_scene")).id) == []
    # A call that is not in a case: nothing to follow up on, whatever the disposition.
    loose, _ = call_in_case(clinician)
    loose.case_id = None
    db.session.flush()
    assert _followups_of(record_encounter(clinician, loose.id, new_encounter(disposition="voluntary_ed")).id) == []


def test_a_turned_off_template_does_not_fire(app_ctx, clinician, supervisor):
    template = _template(clinician.agency, "disposition", "voluntary_ed", "24h")
    services.set_template_active(supervisor, template.id, False)
    call, _ = call_in_case(clinician)
    assert _followups_of(record_encounter(clinician, call.id, new_encounter(disposition="voluntary_ed")).id) == []


@pytest.mark.parametrize(("risk", "fires"), [("moderate", False), ("high", True), ("imminent", True)])
def test_a_risk_template_fires_at_its_level_or_higher(app_ctx, clinician, risk, fires):
    _template(clinician.agency, "risk", "high", "24h,72h,7d")
    call, _ = call_in_case(clinician, risk_level=risk)
    made = _followups_of(record_encounter(clinician, call.id, new_encounter(disposition="resolved_on_scene")).id)
    assert [f.window for f in made] == (["24h", "72h", "7d"] if fires else [])


def test_two_matching_templates_make_one_follow_up_per_window(app_ctx, clinician):
    _template(clinician.agency, "risk", "high", "24h,72h", name="High risk")
    _template(clinician.agency, "disposition", "voluntary_ed", "24h,7d", name="ED")
    call, _ = call_in_case(clinician, risk_level="high")
    made = _followups_of(record_encounter(clinician, call.id, new_encounter(disposition="voluntary_ed")).id)
    assert sorted(f.window for f in made) == ["24h", "72h", "7d"]


# --- done within the window: the boundary -----------------------------------------------------

def test_reaching_the_person_exactly_at_the_due_time_is_within_the_window(app_ctx, clinician):
    due = utcnow().replace(microsecond=0) - timedelta(hours=1)
    followup = followup_for(clinician, due_at=due)
    services.record_attempt(clinician, followup.id, services.NewAttempt(attempted_at=due, method="phone",
                                                                        outcome="reached"))
    assert followup.status == "done" and followup.done_within_window is True
    assert as_utc(followup.completed_at) == due and followup.completed_by == "attempt"


def test_reaching_the_person_a_second_late_is_outside_the_window(app_ctx, clinician):
    due = utcnow().replace(microsecond=0) - timedelta(hours=1)
    followup = followup_for(clinician, due_at=due)
    services.record_attempt(clinician, followup.id, services.NewAttempt(
        attempted_at=due + timedelta(seconds=1), method="visit", outcome="connected"))
    assert followup.status == "done" and followup.done_within_window is False


def test_attempts_that_do_not_reach_the_person_leave_it_open(app_ctx, clinician):
    followup = followup_for(clinician)
    for outcome in ("no_answer", "left_message", "declined", "unable_to_locate"):
        services.record_attempt(clinician, followup.id, services.NewAttempt(
            attempted_at=utcnow() - timedelta(minutes=1), method="phone", outcome=outcome, note="Voicemail full."))
    assert followup.is_open and followup.done_within_window is None
    assert len(followup.attempts) == 4


@pytest.mark.parametrize(("offset", "within"), [(timedelta(0), True), (timedelta(microseconds=1), False),
                                                (timedelta(seconds=-1), True)])
def test_closing_with_a_reason_at_the_boundary(app_ctx, clinician, offset, within):
    due = utcnow() + timedelta(hours=2)
    followup = followup_for(clinician, due_at=due)
    services.close_followup(clinician, followup.id, "Reached through her daughter at the hospital.", now=due + offset)
    assert followup.status == "done" and followup.completed_by == "closed"
    assert followup.done_within_window is within


def test_cancelled_follow_ups_are_not_counted_as_done(app_ctx, clinician):
    followup = followup_for(clinician)
    services.cancel_followup(clinician, followup.id, "Moved out of the area.")
    assert followup.status == "cancelled" and followup.done_within_window is None


# --- bad input --------------------------------------------------------------------------------

def test_an_attempt_in_the_future_is_refused(app_ctx, clinician):
    followup = followup_for(clinician)
    with pytest.raises(ValidationError) as caught:
        services.record_attempt(clinician, followup.id, services.NewAttempt(
            attempted_at=utcnow() + timedelta(hours=1), method="phone", outcome="reached"))
    assert caught.value.fields == {"attempted_at": ["The attempt can't be in the future."]}
    assert followup.is_open


def test_an_attempt_before_the_crisis_is_refused(app_ctx, clinician):
    followup = followup_for(clinician)
    with pytest.raises(ValidationError) as caught:
        services.record_attempt(clinician, followup.id, services.NewAttempt(
            attempted_at=as_utc(followup.anchor_at) - timedelta(hours=1), method="phone", outcome="no_answer"))
    assert "attempted_at" in caught.value.fields


def test_a_due_time_before_the_crisis_is_refused(app_ctx, clinician):
    case = make_case(clinician.agency_id, assignee=clinician)
    crisis = services.crisis_time(case)
    with pytest.raises(ValidationError) as caught:
        services.create_followup(clinician, case.id, services.NewFollowup(
            window="custom", due_at=crisis - timedelta(minutes=1), purpose="Check in"))
    assert caught.value.fields["due_at"][0].startswith("The due time can't be before the crisis")
    ok = services.create_followup(clinician, case.id, services.NewFollowup(window="custom", due_at=crisis,
                                                                           purpose="Check in"))
    assert as_utc(ok.due_at) == crisis


def test_closing_without_a_reason_is_refused(app_ctx, clinician):
    followup = followup_for(clinician)
    for reason in ("", "   "):
        with pytest.raises(ValidationError) as caught:
            services.close_followup(clinician, followup.id, reason)
        assert caught.value.fields == {"reason": ["Give the reason for closing the follow-up."]}
    assert followup.is_open


def test_only_the_assignee_or_a_supervisor_closes(app_ctx, clinician, supervisor, make_user, agencies):
    colleague = make_user(agencies["A"], "clinician")
    followup = followup_for(clinician)
    with pytest.raises(PermissionDenied):
        services.close_followup(colleague, followup.id, "Not mine to close.")
    # ...but a colleague may record an attempt while covering.
    services.record_attempt(colleague, followup.id, services.NewAttempt(
        attempted_at=utcnow(), method="phone", outcome="no_answer"))
    services.close_followup(supervisor, followup.id, "Reached by the BHU on a new call.")
    assert followup.status == "done"


def test_a_hand_made_follow_up_is_anchored_at_the_latest_encounter(app_ctx, clinician):
    call, case = call_in_case(clinician)
    encounter = record_encounter(clinician, call.id, new_encounter(disposition="resolved_on_scene"))
    followup = services.create_followup(clinician, case.id, services.NewFollowup(window="72h", purpose="Check in"))
    assert as_utc(followup.anchor_at) == as_utc(encounter.ended_at)
    assert as_utc(followup.due_at) == as_utc(encounter.ended_at) + timedelta(hours=72)


def test_templates_need_valid_windows_and_triggers(app_ctx, supervisor):
    with pytest.raises(ValidationError) as caught:
        services.add_template(supervisor, services.NewTemplate(name="X", trigger_kind="risk", trigger_code="voluntary_ed",
                                                               windows="24h, 3w", purpose="Check"))
    assert set(caught.value.fields) == {"trigger_code", "windows"}
    template = services.add_template(supervisor, services.NewTemplate(
        name="After suicidal ideation", trigger_kind="risk", trigger_code="high", windows="24h, 72h, 7d, 24h",
        purpose="Safety check"))
    assert template.windows == "24h,72h,7d"


def test_another_agencys_follow_up_is_not_found(app_ctx, clinician, make_user, agencies):
    from clinician_app.core.errors import NotFound

    other = followup_for(make_user(agencies["B"], "clinician"))
    with pytest.raises(NotFound):
        services.get_followup(clinician, other.id)
