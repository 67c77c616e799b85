"""Running reports and producing their files, for the views: check the role and
the scope, build the figures, and write one audit event per report or file
(what was run, for which agencies and months; never a figure or a name)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clinician_app.core import audit
from clinician_app.core.errors import NotFound, PermissionDenied
from clinician_app.core.timeutil import to_local, utcnow

from . import exports, policies
from .charts import Chart, coresponse_charts
from .metrics import Report, build_report
from .period import Period, make_period
from .policies import Scope
from .tables import Table, report_tables


@dataclass
class ReportView:
    report: Report
    tables: list[Table]
    charts: list[Chart]

    @property
    def scope(self) -> Scope:
        return self.report.scope

    @property
    def period(self) -> Period:
        return self.report.period

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


def _today(actor) -> date:
    return to_local(utcnow(), actor.agency.timezone).date()


def choose(actor, scope_key: str | None, start: str | None, end: str | None) -> tuple[Scope, Period]:
    scope = policies.resolve_scope(actor, scope_key)
    return scope, make_period(start, end, scope.timezone, _today(actor))


def _audit(action: str, actor, scope: Scope, period: Period, **details) -> None:
    audit.record(action, actor=actor, record_type="report",
                 details={"scope": scope.key, "agencies": len(scope.agency_ids), "first_month": period.first.key,
                          "last_month": period.last.key, **details})


def run_report(actor, scope: Scope, period: Period, *, suppress: bool, purpose: str = "view") -> ReportView:
    """The report's figures, tables and charts; the co-response part only for roles that may see it."""
    coresponse = policies.may_view_coresponse(actor)
    report = build_report(scope, period, coresponse=coresponse, engagement=policies.may_view_engagement(actor))
    charts = coresponse_charts(report.coresponse, suppress) if report.coresponse is not None else []
    _audit(f"report.{purpose}", actor, scope, period, sections="all" if coresponse else "engagement")
    return ReportView(report, report_tables(report), charts)


def table_file(actor, scope: Scope, period: Period, key: str | None) -> tuple[str, str]:
    """One table as CSV (counts of 1 to 4 as "<5"). The engagement role gets engagement tables only."""
    coresponse = policies.may_view_coresponse(actor)
    report = build_report(scope, period, coresponse=coresponse, engagement=True)
    tables = report_tables(report)
    if key is None:
        table = tables[0] if tables else None
    else:
        table = next((t for t in tables if t.key == key), None)
        if table is None and not coresponse and key in _CORESPONSE_KEYS:
            raise PermissionDenied("Your role may export the community engagement figures only.")
    if table is None:
        raise NotFound("There is no such table in this report.")
    _audit("report.export", actor, scope, period, export="table", table=table.key)
    return f"report-{exports._slug(scope)}-{period.slug}-{table.key}.csv", exports.table_csv(table)


_CORESPONSE_KEYS = frozenset({"headline", "monthly", "coresponses", "dispositions", "diversions", "followups",
                              "referrals", "routing", "oversight", "towns"})


def deidentified_file(actor, scope: Scope, period: Period) -> exports.Extract:
    policies.require_coresponse(actor)
    extract = exports.deidentified_extract(scope, period)
    _audit("report.export", actor, scope, period, export="calls_deidentified", rows=extract.rows)
    return extract


def diversion_file(actor, scope: Scope, period: Period) -> exports.Extract:
    policies.require_coresponse(actor)
    extract = exports.diversion_extract(scope, period)
    _audit("report.export", actor, scope, period, export="diversion", rows=extract.rows)
    return extract
