"""Engagement figures for reports, per agency and period, by aggregate SQL.

The reports module (issue 11) puts these beside the co-response figures::

    from clinician_app.engagement.stats import engagement_summary, engagement_by_month

    summary = engagement_summary([cpd.id, wpd.id], date(2026, 1, 1), date(2026, 2, 1), tz="America/New_York")
    summary["agencies"][cpd.id]["visits"]            # 12
    summary["total"]["visits_by_place_kind"]["school"]  # 5

    monthly = engagement_by_month([cpd.id], date(2026, 1, 1), 12, tz="America/New_York")
    monthly["months"]                                 # ["2026-01", ..., "2026-12"]
    monthly["agencies"][cpd.id]["2026-03"]["events"]  # 2
    monthly["total"]["2026-03"]["youth_participants"] # 41

Every period's figures have the same keys (``FIGURE_KEYS``; see ``empty_figures``):

* ``visits``, ``visit_minutes``, ``visits_by_place_kind`` ({PLACE_KINDS code: count},
  every code present) - community visits started in the period (local days);
* ``events``, ``event_attendance`` - events and seminars held in the period (an
  event without an attendance figure counts as an event with none);
* ``posts``, ``post_reach`` - awareness posts made in the period (reach where known);
* ``youth_sessions``, ``youth_participants``, ``youth_participants_by_band``
  ({AGE_BANDS code: count}) - youth program sessions held in the period;
* ``partnerships_active`` - regional partnerships the agency leads that were running
  at any time in the period (a partner agency's share is not counted twice).

Periods are local calendar days in ``tz``: ``start`` is included, ``end`` is not.
The caller decides who may see the figures (``Permission.REPORTS_ENGAGEMENT`` or
``REPORTS_VIEW``) and which agencies to pass. The work is five queries whatever the
number of records, agencies or months: rows are bucketed into periods by a CASE
over the period boundaries, which SQLite and PostgreSQL run alike.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select

from clinician_app.extensions import db

from .codes import AGE_BANDS, PLACE_KINDS
from .models import AwarenessPost, CommunityVisit, EngagementEvent, RegionalPartnership, YouthSession

FIGURE_KEYS = ("visits", "visit_minutes", "visits_by_place_kind", "events", "event_attendance", "posts",
               "post_reach", "youth_sessions", "youth_participants", "youth_participants_by_band",
               "partnerships_active")


def empty_figures() -> dict:
    return {"visits": 0, "visit_minutes": 0, "visits_by_place_kind": dict.fromkeys(PLACE_KINDS, 0),
            "events": 0, "event_attendance": 0, "posts": 0, "post_reach": 0, "youth_sessions": 0,
            "youth_participants": 0, "youth_participants_by_band": dict.fromkeys(AGE_BANDS, 0),
            "partnerships_active": 0}


def engagement_summary(agency_ids, start: date, end: date, tz: str = "America/New_York", session=None) -> dict:
    """Figures for ``[start, end)``: ``{"start", "end", "agencies": {agency_id: figures}, "total": figures}``.
    Every agency asked about is in ``agencies``, with zeros when it recorded nothing.
    ``session``: where to read (the reports' replica); the app's own by default."""
    periods = _figures(list(agency_ids), [start, end], tz, session or db.session)
    return {"start": start.isoformat(), "end": end.isoformat(),
            "agencies": {aid: per[0] for aid, per in periods["agencies"].items()}, "total": periods["total"][0]}


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def engagement_by_month(agency_ids, first_month: date, months: int, tz: str = "America/New_York") -> dict:
    """Figures per calendar month from ``first_month`` (its day is ignored) for ``months`` months:
    ``{"months": ["YYYY-MM", ...], "agencies": {agency_id: {"YYYY-MM": figures}}, "total": {"YYYY-MM": figures}}``."""
    if months < 1:
        raise ValueError("months must be 1 or more")
    first = first_month.replace(day=1)
    bounds = [_add_months(first, i) for i in range(months + 1)]
    labels = [b.strftime("%Y-%m") for b in bounds[:-1]]
    periods = _figures(list(agency_ids), bounds, tz, db.session)
    return {"months": labels,
            "agencies": {aid: dict(zip(labels, per, strict=True)) for aid, per in periods["agencies"].items()},
            "total": dict(zip(labels, periods["total"], strict=True))}


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def _bucket(column, bounds: list):
    """The period index of ``column`` (0 .. len(bounds) - 2), or NULL outside them."""
    whens = [(and_(column >= bounds[i], column < bounds[i + 1]), literal(i)) for i in range(len(bounds) - 1)]
    return case(*whens, else_=None)


def _figures(agency_ids: list[str], bounds: list[date], tz: str, session) -> dict:
    count = len(bounds) - 1
    agencies = {aid: [empty_figures() for _ in range(count)] for aid in agency_ids}
    total = [empty_figures() for _ in range(count)]
    if not agency_ids or count < 1:
        return {"agencies": agencies, "total": total}
    zone = ZoneInfo(tz)
    instants = [_local_midnight(b, zone) for b in bounds]

    def add(agency_id, period, key, value, sub=None):
        if period is None or agency_id not in agencies:
            return
        for figures in (agencies[agency_id][period], total[period]):
            if sub is None:
                figures[key] += int(value or 0)
            else:
                figures[key][sub] = figures[key].get(sub, 0) + int(value or 0)

    period = _bucket(CommunityVisit.started_at, instants).label("period")
    rows = session.execute(
        select(CommunityVisit.agency_id, period, CommunityVisit.kind, func.count(),
               func.coalesce(func.sum(CommunityVisit.duration_minutes), 0))
        .where(CommunityVisit.agency_id.in_(agency_ids), CommunityVisit.started_at >= instants[0],
               CommunityVisit.started_at < instants[-1])
        .group_by(CommunityVisit.agency_id, period, CommunityVisit.kind))
    for agency_id, index, kind, visits, minutes in rows:
        add(agency_id, index, "visits", visits)
        add(agency_id, index, "visit_minutes", minutes)
        add(agency_id, index, "visits_by_place_kind", visits, sub=kind)

    period = _bucket(EngagementEvent.held_on, bounds).label("period")
    rows = session.execute(
        select(EngagementEvent.agency_id, period, func.count(),
               func.coalesce(func.sum(EngagementEvent.attendance), 0))
        .where(EngagementEvent.agency_id.in_(agency_ids), EngagementEvent.held_on >= bounds[0],
               EngagementEvent.held_on < bounds[-1])
        .group_by(EngagementEvent.agency_id, period))
    for agency_id, index, events, attendance in rows:
        add(agency_id, index, "events", events)
        add(agency_id, index, "event_attendance", attendance)

    period = _bucket(AwarenessPost.posted_on, bounds).label("period")
    rows = session.execute(
        select(AwarenessPost.agency_id, period, func.count(), func.coalesce(func.sum(AwarenessPost.reach), 0))
        .where(AwarenessPost.agency_id.in_(agency_ids), AwarenessPost.posted_on >= bounds[0],
               AwarenessPost.posted_on < bounds[-1])
        .group_by(AwarenessPost.agency_id, period))
    for agency_id, index, posts, reach in rows:
        add(agency_id, index, "posts", posts)
        add(agency_id, index, "post_reach", reach)

    period = _bucket(YouthSession.held_on, bounds).label("period")
    band_sums = [func.coalesce(func.sum(getattr(YouthSession, f"participants_{band}")), 0) for band in AGE_BANDS]
    rows = session.execute(
        select(YouthSession.agency_id, period, func.count(), *band_sums)
        .where(YouthSession.agency_id.in_(agency_ids), YouthSession.held_on >= bounds[0],
               YouthSession.held_on < bounds[-1])
        .group_by(YouthSession.agency_id, period))
    for agency_id, index, sessions, *bands in rows:
        add(agency_id, index, "youth_sessions", sessions)
        for band, value in zip(AGE_BANDS, bands, strict=True):
            add(agency_id, index, "youth_participants", value)
            add(agency_id, index, "youth_participants_by_band", value, sub=band)

    running = [func.coalesce(func.sum(case((and_(
        RegionalPartnership.started_on < bounds[i + 1],
        or_(RegionalPartnership.ended_on.is_(None), RegionalPartnership.ended_on >= bounds[i])), 1), else_=0)), 0)
        for i in range(count)]
    rows = session.execute(
        select(RegionalPartnership.agency_id, *running)
        .where(RegionalPartnership.agency_id.in_(agency_ids)).group_by(RegionalPartnership.agency_id))
    for agency_id, *per_period in rows:
        for index, value in enumerate(per_period):
            add(agency_id, index, "partnerships_active", value)
    return {"agencies": agencies, "total": total}
