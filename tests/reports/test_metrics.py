"""The report's figures against the hand-built fixture month: every expected value
is computed here from the fixture's plain lists, not by the report's code."""
from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import date, datetime

import pytest

from clinician_app.extensions import db
from clinician_app.reports.metrics import build_report
from clinician_app.reports.period import Month, Period, make_period
from clinician_app.reports.policies import resolve_scope
from tests.reports.factories import build_fixture, in_march

NOW = datetime(2025, 6, 1, 12, 0).astimezone()


@pytest.fixture()
def fixture_month(agencies, make_user):
    author = make_user(agencies["A"], "supervisor")
    return build_fixture(agencies, author), author


def _p(values, p):
    ordered = sorted(values)
    pos = p * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _march(tz="America/New_York"):
    return Period(Month(2025, 3), Month(2025, 3), tz)


def test_town_month_figures_match_the_fixture(app_ctx, agencies, fixture_month):
    fx, supervisor = fixture_month
    town = agencies["A"].id
    report = build_report(resolve_scope(supervisor, None), _march(), now=NOW)
    f = report.coresponse

    calls = [c for c in fx.calls if c["town"] == town and in_march(c["received"])]
    assert f.calls == len(calls) == 7
    assert f.flagged == sum(1 for c in calls if c["flagged"]) == 6

    encounters = [e for e in fx.encounters if e["town"] == town and in_march(e["started"])]
    kinds = Counter(e["kind"] for e in encounters)
    assert f.by_kind == {"on_scene": kinds["on_scene"], "phone": kinds["phone"], "outreach": kinds["outreach"]}
    assert f.coresponses == len(encounters) == 5
    by_code = Counter(e["code"] for e in encounters)
    assert {d.code: d.count for d in f.dispositions if d.count} == dict(by_code)
    assert f.encounters == len(encounters)
    assert f.diversion_dispositions == sum(1 for e in encounters if e["diversion"])
    assert (f.custody_diverted.yes, f.custody_diverted.no, f.custody_diverted.unknown) == (
        sum(e["custody"] is True for e in encounters), sum(e["custody"] is False for e in encounters),
        sum(e["custody"] is None for e in encounters))
    assert f.ed_prevented.yes == sum(e["ed"] is True for e in encounters) == 1
    assert f.jail_option.yes == sum(e["jail"] is True for e in encounters)

    contact = [c["contact"] for c in calls if c["flagged"] and c["contact"] is not None]
    assert f.contact_n == len(contact) == 5
    assert f.contact_median == pytest.approx(statistics.median(contact))
    assert f.contact_p90 == pytest.approx(_p(contact, 0.9))
    assert f.contact_p90 == pytest.approx(statistics.quantiles(contact, n=10, method="inclusive")[8])

    due = [u for u in fx.followups if u["town"] == town and in_march(u["due"]) and u["status"] != "cancelled"]
    assert f.followups_due == len(due) == 4
    assert f.followups_within == sum(1 for u in due if u["within"]) == 2
    assert f.followups_overdue == sum(1 for u in due if u["status"] == "open")
    assert f.followups_cancelled == 1

    # Repeat contacts: a person whose call in March was their third (or later) within 90 days.
    dated = [(c["person"], c["received"]) for c in fx.calls if c["person"]]
    repeaters = {person for person, when in dated if in_march(when) and sum(
        1 for other, then in dated if other == person and 0 <= (when - then).days < 90 and then <= when) >= 3}
    assert repeaters == {"p1", "p3"}
    assert f.repeat_contacts == len(repeaters)

    triages = [t for t in fx.triages if t["town"] == town and in_march(t["created"])]
    assert f.triages == len(triages) == 3
    assert f.overrides == sum(t["override"] for t in triages) == 2

    referrals = [r for r in fx.referrals if r["town"] == town and in_march(r["sent"])]
    accepted = {"accepted", "scheduled", "attended"}
    assert f.referrals_made == len(referrals) == 4
    assert f.referrals_accepted == sum(r["status"] in accepted for r in referrals) == 2
    assert f.referrals_declined == sum(r["status"] == "declined" for r in referrals) == 1
    by_kind = {r.kind: (r.made, r.accepted, r.declined) for r in f.referrals if r.made}
    assert by_kind == {kind: (sum(r["kind"] == kind for r in referrals),
                              sum(r["kind"] == kind and r["status"] in accepted for r in referrals),
                              sum(r["kind"] == kind and r["status"] == "declined" for r in referrals))
                       for kind in {r["kind"] for r in referrals}}

    grants = [g for g in fx.grants if g["town"] == town and in_march(g["granted"])]
    assert f.break_glass == len(grants) == 2
    assert f.break_glass_reviewed == sum(1 for g in grants if g["outcome"])
    assert f.break_glass_inappropriate == sum(1 for g in grants if g["outcome"] == "inappropriate")


def test_the_trend_covers_a_year_and_puts_each_call_in_its_local_month(app_ctx, agencies, fixture_month):
    fx, supervisor = fixture_month
    report = build_report(resolve_scope(supervisor, None), _march(), now=NOW)
    months = report.coresponse.months
    assert [m.month.key for m in months][0] == "2024-04" and months[-1].month.key == "2025-03"
    assert len(months) == 12
    by_key = {m.month.key: m for m in months}
    town = agencies["A"].id
    for key in ("2024-11", "2025-01", "2025-02", "2025-03"):
        y, mo = map(int, key.split("-"))
        expected = [c for c in fx.calls if c["town"] == town and
                    (c["received"].year, c["received"].month) == (y, mo)]
        assert by_key[key].calls == len(expected), key
        assert by_key[key].flagged == sum(c["flagged"] for c in expected), key
    assert by_key["2025-02"].contact_n == 1 and by_key["2025-02"].contact_median == pytest.approx(5)


def test_a_bhu_wide_report_adds_the_towns_up(app_ctx, agencies, make_user, fixture_month):
    fx, _ = fixture_month
    bhu_supervisor = make_user(agencies["BHU"], "supervisor")
    report = build_report(resolve_scope(bhu_supervisor, "all"), _march(), now=NOW)
    f = report.coresponse
    calls = [c for c in fx.calls if in_march(c["received"])]
    assert f.flagged == sum(c["flagged"] for c in calls) == 8
    contact = [c["contact"] for c in calls if c["flagged"] and c["contact"] is not None]
    assert f.contact_median == pytest.approx(statistics.median(contact))
    by_town = {t.agency_id: t for t in f.towns}
    assert by_town[agencies["B"].id].flagged == 2 and by_town[agencies["B"].id].coresponses == 1
    assert by_town[agencies["A"].id].coresponses == 5
    assert f.triages == 4  # town B's triage too


def test_a_range_of_months_sums_the_months(app_ctx, agencies, fixture_month):
    fx, supervisor = fixture_month
    period = Period(Month(2025, 2), Month(2025, 4), "America/New_York")
    f = build_report(resolve_scope(supervisor, None), period, now=NOW).coresponse
    town = agencies["A"].id
    calls = [c for c in fx.calls if c["town"] == town and (2025, 2) <= (
        c["received"].year, c["received"].month) <= (2025, 4)]
    assert f.flagged == sum(c["flagged"] for c in calls)
    contact = [c["contact"] for c in calls if c["flagged"] and c["contact"] is not None]
    assert f.contact_median == pytest.approx(statistics.median(contact))
    assert f.contact_p90 == pytest.approx(_p(contact, 0.9))


def test_queries_do_not_grow_with_the_data(app_ctx, agencies, make_user, fixture_month):
    bhu_supervisor = make_user(agencies["BHU"], "supervisor")
    scope = resolve_scope(bhu_supervisor, "all")
    small = build_report(scope, _march(), now=NOW).queries
    year = build_report(scope, Period(Month(2024, 4), Month(2025, 3), "America/New_York"), now=NOW).queries
    assert small <= 12 and year <= 12


def test_months_are_parsed_and_checked():
    today = date(2025, 4, 10)
    assert make_period(None, None, "America/New_York", today).first == Month(2025, 3)
    assert make_period("2025-01", None, "America/New_York", today).last == Month(2025, 1)
    with pytest.raises(Exception) as exc:
        make_period("2025-03", "2025-01", "America/New_York", today)
    assert "end" in exc.value.fields
    with pytest.raises(Exception) as exc:
        make_period("2025-13", None, "America/New_York", today)
    assert "start" in exc.value.fields
    with pytest.raises(Exception) as exc:
        make_period(None, "2025-05", "America/New_York", today)
    assert "end" in exc.value.fields


def test_month_bounds_follow_daylight_saving_time():
    march = Period(Month(2025, 3), Month(2025, 3), "America/New_York")
    assert march.start.isoformat() == "2025-03-01T05:00:00+00:00"  # EST
    assert march.end.isoformat() == "2025-04-01T04:00:00+00:00"  # EDT
    assert (march.end - march.start).total_seconds() == (31 * 24 - 1) * 3600


def test_engagement_figures_sit_beside_the_coresponse_figures(app_ctx, agencies, make_user, fixture_month):
    from datetime import date as day

    from clinician_app.reports.tables import report_tables
    from tests.engagement.factories import make_event, make_visit

    _, supervisor = fixture_month
    officer = make_user(agencies["A"], "officer")
    visits = [(day(2025, 3, 3), "school", 20), (day(2025, 3, 18), "school", 30), (day(2025, 3, 25), "park", 15),
              (day(2025, 2, 27), "school", 10)]  # the last one is February's
    for when, kind, minutes in visits:
        visit = make_visit(officer, kind=kind, duration=minutes)
        visit.started_at = datetime(when.year, when.month, when.day, 15, 0).astimezone()
    events = [(day(2025, 3, 1), 40), (day(2025, 3, 31), 25), (day(2025, 4, 1), 99)]
    for when, attendance in events:
        make_event(officer, held_on=when, attendance=attendance)
    report = build_report(resolve_scope(supervisor, None), _march(), now=NOW)
    march_visits = [v for v in visits if (v[0].year, v[0].month) == (2025, 3)]
    total = report.engagement["total"]
    assert total["visits"] == len(march_visits) == 3
    assert total["visit_minutes"] == sum(v[2] for v in march_visits)
    assert total["visits_by_place_kind"]["school"] == 2
    assert total["events"] == 2 and total["event_attendance"] == 65
    tables = {t.key: t for t in report_tables(report)}
    rows = {row[0]: row[1] for row in tables["engagement"].text_rows(False)}
    assert rows["Community visits"] == "3" and rows["Attendance at events and seminars"] == "65"
    assert {row[0]: row[1] for row in tables["engagement_places"].text_rows(True)}["School"] == "<5"


def test_repeat_contacts_at_the_edges_of_the_window(app_ctx, agencies, make_user):
    """A call is a repeat contact when it is at least the agency's N-th (3rd) call of
    that person within D (90) days up to it: a call exactly D days earlier counts,
    calls at the same instant count each other, and an earlier call taken by another
    agency counts too (PostgreSQL counts with a window, SQLite with a join: both
    must agree with this)."""
    from datetime import UTC, timedelta

    from tests.calls.factories import make_call
    from tests.people.factories import make_person
    from tests.reports.factories import local

    a, b = agencies["A"], agencies["B"]
    supervisor = make_user(a, "supervisor")
    march = local(2025, 3, 20, 9, 0).astimezone(UTC)  # days counted in UTC: the window spans the DST change
    people = {name: make_person(a.id, born=date(1960 + i, 1, 1)) for i, name in enumerate(
        ["edge", "too_old", "same_instant", "elsewhere", "outside"])}
    visits = {
        "edge": [(a, march - timedelta(days=90)), (a, march - timedelta(days=10)), (a, march)],  # exactly 90 days: counts
        "too_old": [(a, march - timedelta(days=90, seconds=1)), (a, march - timedelta(days=10)), (a, march)],
        "same_instant": [(a, march - timedelta(days=5)), (a, march), (a, march)],  # the two at once count each other
        "elsewhere": [(b, march - timedelta(days=30)), (a, march - timedelta(days=3)), (a, march)],  # B's call counts
        "outside": [(a, march - timedelta(days=60)), (a, march - timedelta(days=40)), (b, march)],  # the 3rd is B's
    }
    for name, calls in visits.items():
        for town, when in calls:
            make_call(town.id, received_at=when).person_id = people[name].id
    db.session.flush()

    report = build_report(resolve_scope(supervisor, None), _march(), now=NOW)
    assert report.coresponse.repeat_contacts == 3  # edge, same_instant, elsewhere
