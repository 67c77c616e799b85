"""The report's figures, computed in SQL: a fixed number of grouped queries per
report (about ten), whatever the number of towns, months or records.

What each figure counts (the period is whole months in the agency's time zone):

* **Calls flagged for co-response**: calls received in the period (``received_at``)
  with ``co_response`` set. "Calls recorded" counts every call, flagged or not.
* **Co-responses**: encounters started in the period on the scope's calls, by kind
  (on scene, phone, post-incident outreach). A call may have several.
* **Dispositions**: those encounters by disposition, with their share of all
  encounters. **Diverted from arrest** is an encounter whose custody was diverted;
  **emergency department visit prevented** likewise; "diversion dispositions" are
  encounters whose disposition the regional list counts as a diversion.
* **Time from flag to first contact**: for flagged calls received in the period with
  a first contact, minutes from ``flagged_at`` to ``first_contact_at``; median and
  90th percentile by linear interpolation (PostgreSQL's ``percentile_cont``).
* **Follow-ups done within their window**: follow-ups due in the period that are
  done, or whose due time has passed, cancelled ones left out; the share done by
  their due time. A follow-up belongs to the town of the call its encounter was
  on, or else to the agency holding its case.
* **Repeat contacts**: people with a call in the period who, at that call, had
  ``repeat_contact_calls`` or more calls (3 by default) in the preceding
  ``repeat_contact_days`` (90), that call included.
* **Routing overrides**: triages saved in the period whose route differs from the
  one the rules suggested.
* **Break-glass uses**: grants in the period on records the scope's agencies own.
* **Referrals**: referrals created in the period from the scope's agencies, by kind
  of service, with how many were accepted and declined (when the referrals package
  is installed).

Month buckets are a CASE over the month boundaries (computed in Python from the
time zone), so the same SQL runs on SQLite and PostgreSQL and DST needs no care
in SQL. Percentiles run in PostgreSQL; on SQLite (tests, development) the
durations are fetched in one query and interpolated the same way in Python.

Every figure is read through ``database.report_session``: the read replica when
``REPORTS_DATABASE_URL`` names one, else the app's own database.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, distinct, func, or_, select, tuple_
from sqlalchemy.orm import aliased

from clinician_app.calls.models import Call
from clinician_app.cases.break_glass_models import BreakGlassGrant
from clinician_app.cases.codes import ENCOUNTER_KINDS
from clinician_app.cases.models import Disposition, Encounter
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.followups.codes import STATUS_CANCELLED, STATUS_DONE, STATUS_OPEN
from clinician_app.followups.models import Followup
from clinician_app.triage.models import Triage

from .database import report_session
from .period import Month, Period
from .policies import Scope

ROUTE_LABELS = {"department": "Town's clinician", "bhu": "Regional BHU", "outside": "Outside service"}


@dataclass
class MonthFigures:
    month: Month
    calls: int = 0
    flagged: int = 0
    coresponses: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    contact_n: int = 0
    contact_median: float | None = None
    contact_p90: float | None = None


@dataclass
class DispositionCount:
    code: str
    label: str
    counts_as_diversion: bool
    count: int


@dataclass
class TownFigures:
    agency_id: str
    name: str
    flagged: int = 0
    coresponses: int = 0
    custody_diverted: int = 0
    ed_prevented: int = 0


@dataclass
class YesNo:
    yes: int = 0
    no: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        return self.yes + self.no + self.unknown


@dataclass
class ReferralKind:
    kind: str
    label: str
    made: int = 0
    accepted: int = 0
    declined: int = 0

    @property
    def pending(self) -> int:
        return self.made - self.accepted - self.declined


@dataclass
class CoresponseFigures:
    calls: int = 0
    flagged: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENCOUNTER_KINDS, 0))
    dispositions: list[DispositionCount] = field(default_factory=list)
    custody_diverted: YesNo = field(default_factory=YesNo)
    jail_option: YesNo = field(default_factory=YesNo)
    ed_prevented: YesNo = field(default_factory=YesNo)
    contact_n: int = 0
    contact_median: float | None = None
    contact_p90: float | None = None
    followups_due: int = 0
    followups_within: int = 0
    followups_late: int = 0
    followups_overdue: int = 0
    followups_cancelled: int = 0
    repeat_contacts: int = 0
    triages_by_route: dict[str, tuple[int, int]] = field(default_factory=dict)  # route -> (triages, overrides)
    break_glass: int = 0
    break_glass_reviewed: int = 0
    break_glass_inappropriate: int = 0
    referrals: list[ReferralKind] | None = None  # None: the referrals package is not installed
    months: list[MonthFigures] = field(default_factory=list)  # the trend: at least twelve months
    towns: list[TownFigures] = field(default_factory=list)  # a BHU-wide report's towns

    @property
    def coresponses(self) -> int:
        return sum(self.by_kind.values())

    @property
    def encounters(self) -> int:
        return sum(d.count for d in self.dispositions)

    @property
    def diversion_dispositions(self) -> int:
        return sum(d.count for d in self.dispositions if d.counts_as_diversion)

    @property
    def triages(self) -> int:
        return sum(t for t, _ in self.triages_by_route.values())

    @property
    def overrides(self) -> int:
        return sum(o for _, o in self.triages_by_route.values())

    @property
    def referrals_made(self) -> int:
        return sum(r.made for r in self.referrals or [])

    @property
    def referrals_accepted(self) -> int:
        return sum(r.accepted for r in self.referrals or [])

    @property
    def referrals_declined(self) -> int:
        return sum(r.declined for r in self.referrals or [])


@dataclass
class Report:
    scope: Scope
    period: Period
    generated_at: datetime
    coresponse: CoresponseFigures | None  # None for the engagement role
    engagement: dict | None  # engagement.stats.engagement_summary(...), None when unavailable
    queries: int = 0


# --- helpers --------------------------------------------------------------------------

def is_postgres(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _bucket(column, bounds: list[datetime]):
    """The month index of ``column`` (0 for the first month); rows outside are filtered by the caller."""
    return case(*[(column < bound, index) for index, bound in enumerate(bounds[1:])], else_=None)


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _Counter:
    """The report's statements, run through the session the figures are read on
    (database.report_session: the replica, or the app's own), and counted."""

    def __init__(self, session):
        self.session = session
        self.postgres = is_postgres(session)
        self.queries = 0

    def all(self, stmt):
        self.queries += 1
        return self.session.execute(stmt).all()

    def one(self, stmt):
        self.queries += 1
        return self.session.execute(stmt).one()

    def scalar(self, stmt):
        self.queries += 1
        return self.session.execute(stmt).scalar_one()


def _count_if(condition):
    return func.count().filter(condition)


# --- the figures ----------------------------------------------------------------------

def coresponse_figures(scope: Scope, period: Period, now: datetime, q: _Counter) -> CoresponseFigures:
    ids = list(scope.agency_ids)
    trend = period.trend()
    bounds = trend.bounds()
    first_index = trend.months.index(period.first)
    figures = CoresponseFigures()
    months = [MonthFigures(m, by_kind=dict.fromkeys(ENCOUNTER_KINDS, 0)) for m in trend.months]
    towns = {a.id: TownFigures(a.id, a.name) for a in scope.towns} if scope.is_all else {}

    # 1. Calls by month (and town): recorded, flagged, and the time from flag to first contact.
    _calls_and_contact_times(q, scope, figures, months, towns, period, bounds, first_index)

    # 2. Encounters by month, town, kind, disposition and the diversion answers.
    disposition_counts = _encounter_figures(q, ids, figures, months, towns, bounds, first_index)

    # 3. The disposition list (labels, and which count as diversions): active ones, and any retired one used.
    for disposition in q.all(select(Disposition.id, Disposition.code, Disposition.label,
                                    Disposition.counts_as_diversion, Disposition.retired_at)
                             .order_by(Disposition.position, Disposition.label)):
        count = disposition_counts.get(disposition.id, 0)
        if disposition.retired_at is None or count:
            figures.dispositions.append(DispositionCount(disposition.code, disposition.label,
                                                         disposition.counts_as_diversion, count))

    # 5. Follow-ups due in the period.
    passed = or_(Followup.status == STATUS_DONE, Followup.due_at <= now)
    stmt = (select(_count_if(and_(Followup.status != STATUS_CANCELLED, passed)),
                   _count_if(Followup.done_within_window.is_(True)),
                   _count_if(and_(Followup.status == STATUS_DONE, Followup.done_within_window.is_(False))),
                   _count_if(and_(Followup.status == STATUS_OPEN, Followup.due_at <= now)),
                   _count_if(Followup.status == STATUS_CANCELLED))
            .where(Followup.due_at >= period.start, Followup.due_at < period.end))
    if not scope.is_all:  # every agency: no need to find each follow-up's town
        stmt = (stmt.select_from(Followup)
                .outerjoin(Encounter, Encounter.id == Followup.encounter_id)
                .outerjoin(Call, Call.id == Encounter.call_id)
                .where(func.coalesce(Call.agency_id, Followup.agency_id).in_(ids)))
    row = q.one(stmt)
    (figures.followups_due, figures.followups_within, figures.followups_late, figures.followups_overdue,
     figures.followups_cancelled) = row

    # 6. Repeat contacts.
    figures.repeat_contacts = q.scalar(_repeat_contacts_stmt(scope, period, q.postgres))

    # 7. Routing overrides, by the route chosen.
    overridden = or_(Triage.route != Triage.suggested_route,
                     func.coalesce(Triage.outside_service, "") != func.coalesce(Triage.suggested_outside_service, ""))
    stmt = (select(Triage.route, func.count(), _count_if(overridden))
            .where(Triage.created_at >= period.start, Triage.created_at < period.end).group_by(Triage.route))
    if not scope.is_all:
        stmt = stmt.join(Call, Call.id == Triage.call_id).where(Call.agency_id.in_(ids))
    for route, total, overrides in q.all(stmt):
        figures.triages_by_route[route] = (total, overrides)

    # 8. Break-glass uses on the scope's records.
    (figures.break_glass, figures.break_glass_reviewed, figures.break_glass_inappropriate) = q.one(
        select(func.count(), _count_if(BreakGlassGrant.reviewed_at.is_not(None)),
               _count_if(BreakGlassGrant.review_outcome == "inappropriate"))
        .where(BreakGlassGrant.agency_id.in_(ids), BreakGlassGrant.granted_at >= period.start,
               BreakGlassGrant.granted_at < period.end))

    # 9. Referrals, when the referrals package is there.
    figures.referrals = _referral_figures(q, ids, period)

    figures.months = months
    figures.towns = sorted(towns.values(), key=lambda t: t.name)
    return figures


def _calls_and_contact_times(q, scope, figures, months, towns, period, bounds, first_index) -> None:
    """Calls recorded and flagged by month and town, and the minutes from flag to first
    contact by month and for the period. PostgreSQL: one query (GROUPING SETS, percentile_cont).
    SQLite: the counts grouped, and the durations fetched and interpolated in Python."""
    where = [Call.received_at >= bounds[0], Call.received_at < bounds[-1]]
    if not scope.is_all:
        where.append(Call.agency_id.in_(list(scope.agency_ids)))
    contacted = and_(Call.co_response.is_(True), Call.flagged_at.is_not(None), Call.first_contact_at.is_not(None))

    def add_counts(agency_id, bucket, total, flagged):
        months[bucket].calls += total
        months[bucket].flagged += flagged
        if bucket >= first_index:
            figures.calls += total
            figures.flagged += flagged
            if agency_id in towns:
                towns[agency_id].flagged += flagged

    if q.postgres:
        seconds = case((contacted, func.extract("epoch", Call.first_contact_at - Call.flagged_at)), else_=None)
        sub = select(Call.agency_id.label("agency_id"), _bucket(Call.received_at, bounds).label("bucket"),
                     (Call.received_at >= period.start).label("in_period"), Call.co_response.label("co_response"),
                     seconds.label("seconds")).where(*where).subquery()
        c = sub.c
        rows = q.all(
            select(func.grouping(c.agency_id, c.bucket, c.in_period), c.agency_id, c.bucket, c.in_period,
                   func.count(), _count_if(c.co_response.is_(True)), func.count(c.seconds),
                   func.percentile_cont(0.5).within_group(c.seconds), func.percentile_cont(0.9).within_group(c.seconds))
            .group_by(func.grouping_sets(tuple_(c.agency_id, c.bucket), tuple_(c.bucket), tuple_(c.in_period))))
        for grouping, agency_id, bucket, in_period, total, flagged, n, median, p90 in rows:
            timing = (n, float(median) / 60 if median is not None else None, float(p90) / 60 if p90 is not None else None)
            if grouping == 0b001:  # (agency, month)
                add_counts(agency_id, bucket, total, flagged)
            elif grouping == 0b101:  # (month)
                months[bucket].contact_n, months[bucket].contact_median, months[bucket].contact_p90 = timing
            elif grouping == 0b110 and in_period:  # the period
                figures.contact_n, figures.contact_median, figures.contact_p90 = timing
        return
    sub = select(Call.agency_id.label("agency_id"), _bucket(Call.received_at, bounds).label("bucket"),
                 Call.co_response.label("co_response")).where(*where).subquery()
    for agency_id, bucket, total, flagged in q.all(
            select(sub.c.agency_id, sub.c.bucket, func.count(), _count_if(sub.c.co_response.is_(True)))
            .group_by(sub.c.agency_id, sub.c.bucket)):
        add_counts(agency_id, bucket, total, flagged)
    by_bucket: dict[int, list[float]] = defaultdict(list)
    for bucket, flagged_at, first_contact_at in q.all(
            select(_bucket(Call.received_at, bounds), Call.flagged_at, Call.first_contact_at).where(*where, contacted)):
        by_bucket[bucket].append((first_contact_at - flagged_at).total_seconds() / 60)
    for bucket, values in by_bucket.items():
        months[bucket].contact_n = len(values)
        months[bucket].contact_median = percentile(values, 0.5)
        months[bucket].contact_p90 = percentile(values, 0.9)
    in_period = [v for bucket, values in by_bucket.items() if bucket >= first_index for v in values]
    figures.contact_n = len(in_period)
    figures.contact_median = percentile(in_period, 0.5)
    figures.contact_p90 = percentile(in_period, 0.9)


def _encounter_figures(q, ids, figures, months, towns, bounds, first_index) -> dict[str, int]:
    """Encounters on the scope's calls by month and kind, and for the period by
    disposition, by town and by the three diversion answers; returns the period's
    count per disposition. PostgreSQL: one query of GROUPING SETS, a few dozen rows.
    SQLite: every combination grouped (a few thousand rows at most) and summed here."""
    bucket = _bucket(Encounter.started_at, bounds)
    base = (select(Call.agency_id.label("agency_id"), bucket.label("bucket"),
                   (Encounter.started_at >= bounds[first_index]).label("in_period"), Encounter.kind.label("kind"),
                   Encounter.disposition_id.label("disposition_id"), Encounter.custody_diverted.label("custody"),
                   Encounter.jail_diversion_option.label("jail"), Encounter.ed_visit_prevented.label("ed"))
            .join(Call, Call.id == Encounter.call_id)
            .where(Call.agency_id.in_(ids), Encounter.started_at >= bounds[0], Encounter.started_at < bounds[-1])
            .subquery())
    c = base.c
    answers = ((figures.custody_diverted, c.custody), (figures.jail_option, c.jail), (figures.ed_prevented, c.ed))
    disposition_counts: dict[str, int] = defaultdict(int)
    if q.postgres:
        yes_no = [_count_if(column.is_(value)) for _, column in answers for value in (True, False)]
        for grouping, bucket_, in_period, kind, disposition_id, agency_id, count, *split in q.all(
                select(func.grouping(c.bucket, c.in_period, c.kind, c.disposition_id, c.agency_id), c.bucket,
                       c.in_period, c.kind, c.disposition_id, c.agency_id, func.count(), *yes_no)
                .group_by(func.grouping_sets(tuple_(c.bucket, c.kind), tuple_(c.in_period, c.disposition_id),
                                             tuple_(c.in_period, c.agency_id)))):
            if grouping == 0b01011:  # (month, kind)
                months[bucket_].coresponses += count
                months[bucket_].by_kind[kind] = months[bucket_].by_kind.get(kind, 0) + count
                if bucket_ >= first_index:
                    figures.by_kind[kind] = figures.by_kind.get(kind, 0) + count
            elif not in_period:
                continue
            elif grouping == 0b10101:  # (period, disposition)
                disposition_counts[disposition_id] += count
            elif grouping == 0b10110:  # (period, town)
                yes_counts, no_counts = split[0::2], split[1::2]  # custody, jail, ed
                for (total, _column), yes, no in zip(answers, yes_counts, no_counts, strict=True):
                    total.yes, total.no = total.yes + yes, total.no + no
                    total.unknown += count - yes - no
                if agency_id in towns:
                    custody_yes, _jail_yes, ed_yes = yes_counts
                    town = towns[agency_id]
                    town.coresponses += count
                    town.custody_diverted += custody_yes
                    town.ed_prevented += ed_yes
        return disposition_counts
    for agency_id, bucket_, kind, disposition_id, custody, jail, ed, count in q.all(
            select(c.agency_id, c.bucket, c.kind, c.disposition_id, c.custody, c.jail, c.ed, func.count())
            .group_by(c.agency_id, c.bucket, c.kind, c.disposition_id, c.custody, c.jail, c.ed)):
        month = months[bucket_]
        month.coresponses += count
        month.by_kind[kind] = month.by_kind.get(kind, 0) + count
        if bucket_ < first_index:
            continue
        figures.by_kind[kind] = figures.by_kind.get(kind, 0) + count
        disposition_counts[disposition_id] += count
        for (total, _column), value in zip(answers, (custody, jail, ed), strict=True):
            if value is None:
                total.unknown += count
            elif value:
                total.yes += count
            else:
                total.no += count
        if agency_id in towns:
            town = towns[agency_id]
            town.coresponses += count
            town.custody_diverted += count if custody else 0
            town.ed_prevented += count if ed else 0
    return disposition_counts


def _days_before(column, days: int, postgres: bool):
    if postgres:
        return column - func.make_interval(0, 0, 0, days)
    return func.datetime(column, f"-{int(days)} days")


def _repeat_contacts_stmt(scope: Scope, period: Period, postgres: bool):
    """People with a call in the period that was their N-th (or later) within D days."""
    if postgres:
        return _repeat_contacts_window(scope, period)
    this, earlier = aliased(Call), aliased(Call)
    hits = (select(this.person_id.label("person_id"))
            .join(earlier, and_(earlier.person_id == this.person_id, earlier.received_at <= this.received_at,
                                earlier.received_at >= _days_before(this.received_at, scope.repeat_days, False)))
            .where(this.person_id.is_not(None), this.received_at >= period.start, this.received_at < period.end,
                   *([] if scope.is_all else [this.agency_id.in_(list(scope.agency_ids))]))
            .group_by(this.id, this.person_id)
            .having(func.count() >= scope.repeat_calls)).subquery()  # count(*): the earlier calls are read from the index alone
    return select(func.count(distinct(hits.c.person_id)))


def _repeat_contacts_window(scope: Scope, period: Period):
    """The same count on PostgreSQL in one pass over the period's calls (and the D
    days before it) in person and time order: each call's count of that person's
    calls in the D days up to it is a window (RANGE, so calls at the same instant
    count, as in the join), not a probe of the index per call. A person's earlier
    calls count whatever agency took them, as in the join; only the call that
    makes the N-th must be the scope's."""
    seconds = func.extract("epoch", Call.received_at)  # RANGE offsets here are numbers, so time is in seconds
    calls = (select(Call.person_id, Call.agency_id, Call.received_at,
                    func.count().over(partition_by=Call.person_id, order_by=seconds,
                                      range_=(-scope.repeat_days * 86400, 0)).label("within"))
             .where(Call.person_id.is_not(None), Call.received_at >= period.start - timedelta(days=scope.repeat_days),
                    Call.received_at < period.end)).subquery()
    return select(func.count(distinct(calls.c.person_id))).where(
        calls.c.received_at >= period.start, calls.c.within >= scope.repeat_calls,
        *([] if scope.is_all else [calls.c.agency_id.in_(list(scope.agency_ids))]))


def _referral_figures(q, ids, period) -> list[ReferralKind] | None:
    if "referrals" not in db.metadata.tables:  # the referrals package is not installed
        return None
    from . import referral_metrics

    return referral_metrics.referral_figures(q, ids, period)


def _engagement(scope: Scope, period: Period, session) -> dict | None:
    """The engagement package's figures for the period (local days in the scope's time zone)."""
    if "eng_visits" not in db.metadata.tables:  # the engagement package is not installed
        return None
    from clinician_app.engagement.stats import engagement_summary

    start = date(period.first.year, period.first.month, 1)
    after = period.last.plus(1)
    return engagement_summary(list(scope.agency_ids), start, date(after.year, after.month, 1), tz=period.tz,
                              session=session)


def build_report(scope: Scope, period: Period, *, coresponse: bool = True, engagement: bool = True,
                 now: datetime | None = None) -> Report:
    now = now or utcnow()
    with report_session() as session:
        counter = _Counter(session)
        figures = coresponse_figures(scope, period, now, counter) if coresponse else None
        summary = _engagement(scope, period, session) if engagement else None
    return Report(scope, period, now, figures, summary, counter.queries)
