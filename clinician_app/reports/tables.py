"""The report's tables: one model for the page, the CSV files, the printable page
and the PDF, so they can't disagree.

Small-count suppression. What leaves the department (CSV, the printable page and
the PDF, the extracts) shows counts of 1 to 4 as "<5", and a share or a time
whose count is 1 to 4 as "n<5" (a share of a known total would give the count
back; a median of three calls is close to one person's record). Zero is shown: it
identifies nobody. The page on screen, seen only by supervisors and the
engagement role, shows exact figures: they manage the work and need them.
Complementary suppression (working a hidden cell out from a total) is not
attempted; totals are shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from clinician_app.cases.codes import ENCOUNTER_KINDS

from .metrics import ROUTE_LABELS, CoresponseFigures, Report, YesNo

SMALL = "<5"
SMALL_SHARE = "n<5"
NONE = "–"


def is_small(n: int | None) -> bool:
    return n is not None and 1 <= n <= 4


@dataclass(frozen=True)
class Cell:
    """One figure. ``kind``: count, share (value = n / d), minutes (median or p90 of n values) or text."""

    value: object
    kind: str = "count"
    n: int | None = None
    d: int | None = None

    def text(self, suppress: bool = False) -> str:
        if self.kind == "text":
            return "" if self.value is None else str(self.value)
        if self.kind == "count":
            value = int(self.value or 0)
            return SMALL if suppress and is_small(value) else f"{value:,}"
        if self.kind == "share":
            if not self.d:
                return NONE
            if suppress and (is_small(self.n) or is_small(self.d)):
                return SMALL_SHARE
            return f"{100 * self.n / self.d:.1f}%"
        if self.kind == "minutes":
            if self.value is None or not self.n:
                return NONE
            if suppress and is_small(self.n):
                return SMALL_SHARE
            return f"{self.value:.1f}"
        raise ValueError(self.kind)

    def csv(self, suppress: bool = True) -> str:
        """CSV cells carry no thousands separators or % signs (shares are percentages)."""
        text = self.text(suppress)
        if text in (SMALL, SMALL_SHARE, NONE):
            return "" if text == NONE else text
        if self.kind == "count":
            return text.replace(",", "")
        if self.kind == "share":
            return text.rstrip("%")
        return text


def count(n: int) -> Cell:
    return Cell(n)


def share(n: int, d: int) -> Cell:
    return Cell(n / d if d else None, "share", n, d)


def minutes(value: float | None, n: int) -> Cell:
    return Cell(value, "minutes", n)


def text(value) -> Cell:
    return Cell(value, "text")


@dataclass
class Table:
    key: str  # the CSV's name
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    description: str = ""
    section: str = "coresponse"  # or "engagement"
    notes: list[str] = field(default_factory=list)

    def text_rows(self, suppress: bool) -> list[list[str]]:
        return [[cell.text(suppress) for cell in row] for row in self.rows]

    def csv_rows(self) -> list[list[str]]:
        return [self.columns] + [[cell.csv(True) for cell in row] for row in self.rows]


# --- the tables of a report -----------------------------------------------------------

def headline(f: CoresponseFigures) -> Table:
    rows = [
        [text("Calls recorded"), count(f.calls)],
        [text("Calls flagged for co-response"), count(f.flagged)],
        [text("Co-responses (all kinds)"), count(f.coresponses)],
        *[[text(f"Co-responses: {label.lower()}" if kind != "on_scene" else "Co-responses: on scene"),
           count(f.by_kind.get(kind, 0))] for kind, label in ENCOUNTER_KINDS.items()],
        [text("Diverted from arrest (custody diverted)"), count(f.custody_diverted.yes)],
        [text("Emergency department visit prevented"), count(f.ed_prevented.yes)],
        [text("Encounters with a diversion disposition"), count(f.diversion_dispositions)],
        [text("Median minutes from flag to first contact"), minutes(f.contact_median, f.contact_n)],
        [text("90th percentile minutes from flag to first contact"), minutes(f.contact_p90, f.contact_n)],
        [text("Follow-ups done within their window"), share(f.followups_within, f.followups_due)],
    ]
    if f.referrals is not None:
        rows += [[text("Referrals made"), count(f.referrals_made)],
                 [text("Referrals accepted"), count(f.referrals_accepted)],
                 [text("Referrals declined"), count(f.referrals_declined)]]
    rows += [
        [text("Repeat contacts (people)"), count(f.repeat_contacts)],
        [text("Routing overrides"), count(f.overrides)],
        [text("Break-glass uses"), count(f.break_glass)],
    ]
    return Table("headline", "Headline figures", ["Figure", "Value"], rows,
                 "The period's main figures; the tables below break them down.")


def monthly(f: CoresponseFigures) -> Table:
    rows = [[text(m.month.key), count(m.flagged), count(m.coresponses),
             *[count(m.by_kind.get(kind, 0)) for kind in ENCOUNTER_KINDS],
             minutes(m.contact_median, m.contact_n), minutes(m.contact_p90, m.contact_n), count(m.contact_n)]
            for m in f.months]
    return Table("monthly", "Month by month", ["Month", "Calls flagged", "Co-responses", "On scene", "Phone",
                                               "Outreach", "Median minutes to first contact",
                                               "90th percentile minutes", "Calls with a first contact"], rows,
                 "The trend the charts show: the period, and the months before it up to a year.")


def coresponses(f: CoresponseFigures) -> Table:
    total = f.coresponses
    rows = [[text(label), count(f.by_kind.get(kind, 0)), share(f.by_kind.get(kind, 0), total)]
            for kind, label in ENCOUNTER_KINDS.items()]
    rows.append([text("All co-responses"), count(total), share(total, total)])
    return Table("coresponses", "Co-responses by kind", ["Kind", "Co-responses", "Share"], rows)


def dispositions(f: CoresponseFigures) -> Table:
    total = f.encounters
    rows = [[text(d.label), text("Yes" if d.counts_as_diversion else "No"), count(d.count), share(d.count, total)]
            for d in f.dispositions]
    rows.append([text("All encounters"), text(""), count(total), share(total, total)])
    return Table("dispositions", "Dispositions", ["Disposition", "Counts as a diversion", "Encounters", "Share"],
                 rows, "Each encounter's disposition, with its share of all encounters in the period.")


def diversions(f: CoresponseFigures) -> Table:
    def row(label: str, answers: YesNo):
        return [text(label), count(answers.yes), count(answers.no), count(answers.unknown),
                share(answers.yes, answers.total)]

    return Table("diversions", "Diversions", ["Question", "Yes", "No", "Not known", "Share yes"], [
        row("Criminal custody diverted", f.custody_diverted),
        row("Jail diversion was an option", f.jail_option),
        row("Emergency department visit prevented", f.ed_prevented),
    ], "What the clinician recorded for each encounter.")


def followups(f: CoresponseFigures) -> Table:
    return Table("followups", "Follow-ups", ["Measure", "Value"], [
        [text("Due in the period (done, or past due)"), count(f.followups_due)],
        [text("Done within their window"), count(f.followups_within)],
        [text("Share done within their window"), share(f.followups_within, f.followups_due)],
        [text("Done late"), count(f.followups_late)],
        [text("Still open past their due time"), count(f.followups_overdue)],
        [text("Cancelled"), count(f.followups_cancelled)],
    ])


def referrals(f: CoresponseFigures) -> Table | None:
    if f.referrals is None:
        return None
    rows = [[text(r.label), count(r.made), count(r.accepted), count(r.declined), count(r.pending)]
            for r in f.referrals]
    rows.append([text("All referrals"), count(f.referrals_made), count(f.referrals_accepted),
                 count(f.referrals_declined), count(f.referrals_made - f.referrals_accepted - f.referrals_declined)])
    return Table("referrals", "Referrals by kind of service", ["Kind of service", "Made", "Accepted", "Declined",
                                                              "Awaiting an answer"], rows)


def routing(f: CoresponseFigures) -> Table:
    rows = [[text(ROUTE_LABELS.get(route, route)), count(total), count(overrides), share(overrides, total)]
            for route, (total, overrides) in sorted(f.triages_by_route.items())]
    rows.append([text("All triages"), count(f.triages), count(f.overrides), share(f.overrides, f.triages)])
    return Table("routing", "Routing and overrides", ["Route chosen", "Triages", "Overriding the rules", "Share"],
                 rows, "Triages saved in the period, by the route the clinician chose.")


def oversight(f: CoresponseFigures) -> Table:
    return Table("oversight", "Repeat contacts and break-glass", ["Measure", "Value"], [
        [text("People with repeat contacts"), count(f.repeat_contacts)],
        [text("Break-glass uses"), count(f.break_glass)],
        [text("Break-glass uses reviewed"), count(f.break_glass_reviewed)],
        [text("Break-glass uses found inappropriate"), count(f.break_glass_inappropriate)],
    ])


def towns(f: CoresponseFigures) -> Table | None:
    if not f.towns:
        return None
    rows = [[text(t.name), count(t.flagged), count(t.coresponses), count(t.custody_diverted), count(t.ed_prevented)]
            for t in f.towns]
    return Table("towns", "By town", ["Town", "Calls flagged", "Co-responses", "Diverted from arrest",
                                      "Emergency department visit prevented"], rows)


ENGAGEMENT_FIGURES = [
    ("visits", "Community visits"),
    ("visit_minutes", "Minutes of community visits"),
    ("events", "Events and seminars"),
    ("event_attendance", "Attendance at events and seminars"),
    ("posts", "Awareness posts"),
    ("post_reach", "Reach of awareness posts (where known)"),
    ("youth_sessions", "Youth program sessions"),
    ("youth_participants", "Youth program participants"),
    ("partnerships_active", "Regional partnerships running"),
]


def engagement(summary: dict | None, scope_towns=()) -> list[Table]:
    """Tables from ``engagement.stats.engagement_summary`` (the period's totals, by place
    kind, by age band, and by town for a BHU-wide report)."""
    if summary is None:
        return []
    from clinician_app.engagement.codes import AGE_BANDS, PLACE_KINDS

    total = summary["total"]
    tables = [
        Table("engagement", "Community engagement", ["Activity", "Count"],
              [[text(label), count(total.get(key, 0))] for key, label in ENGAGEMENT_FIGURES], section="engagement",
              description="Community visits, events, posts and youth sessions the department recorded."),
        Table("engagement_places", "Community visits by kind of place", ["Kind of place", "Visits"],
              [[text(label), count(total["visits_by_place_kind"].get(code, 0))] for code, label in PLACE_KINDS.items()],
              section="engagement"),
        Table("engagement_youth", "Youth program participants by age", ["Age", "Participants"],
              [[text(label), count(total["youth_participants_by_band"].get(code, 0))]
               for code, label in AGE_BANDS.items()], section="engagement"),
    ]
    if len(scope_towns) > 1:
        per = summary["agencies"]
        tables.append(Table(
            "engagement_towns", "Community engagement by town",
            ["Town", "Visits", "Events", "Attendance", "Posts", "Youth sessions", "Youth participants"],
            [[text(town.name), *[count(per.get(town.id, {}).get(key, 0)) for key in
                                 ("visits", "events", "event_attendance", "posts", "youth_sessions",
                                  "youth_participants")]] for town in scope_towns],
            section="engagement"))
    return tables


def report_tables(report: Report) -> list[Table]:
    tables: list[Table] = []
    f = report.coresponse
    if f is not None:
        tables += [headline(f), monthly(f), coresponses(f), dispositions(f), diversions(f), followups(f)]
        tables += [t for t in (referrals(f),) if t is not None]
        tables += [routing(f), oversight(f)]
        tables += [t for t in (towns(f),) if t is not None]
    tables += engagement(report.engagement, report.scope.towns if report.scope.is_all else ())
    return tables
