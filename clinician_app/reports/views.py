"""Report pages and files. The choice of town and months travels in the query
string (no ids of people, only an agency id and months), so a report can be
bookmarked; every page and file is read-only."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_login import current_user

from clinician_app.core.database import commit_keeping_loaded
from clinician_app.core.errors import ValidationError
from clinician_app.core.policy import Permission, requires
from clinician_app.core.timeutil import format_local
from clinician_app.extensions import db

from . import policies, services
from .forms import ReportForm
from .pdf import render_pdf
from .period import last_full_month

bp = Blueprint("reports", __name__, url_prefix="/reports")


def _form() -> ReportForm:
    return ReportForm(request.args, choices=policies.scope_choices(current_user))


def _choice():
    args = request.args
    return services.choose(current_user, args.get("scope") or None, args.get("start") or None,
                           args.get("end") or None)


def _args(scope, period) -> dict:
    return {"scope": scope.key, "start": period.first.key, "end": period.last.key}


def _file(body, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/")
@requires(Permission.REPORTS_ENGAGEMENT)
def index():
    form = _form()
    error = None
    view = None
    if form.validate():
        try:
            scope, period = _choice()
        except ValidationError as exc:
            error = exc
            for name, messages in exc.fields.items():
                getattr(form, name).errors = list(messages)
        else:
            form.scope.data, form.start.data, form.end.data = scope.key, period.first.key, period.last.key
            view = services.run_report(current_user, scope, period, suppress=False)
            # The audit event is kept; what the report read stays loaded for the page.
            commit_keeping_loaded(db.session)
    default = services._today(current_user)
    return render_template(
        "reports/index.html", form=form, view=view, error=error,
        args=_args(view.scope, view.period) if view else {},
        coresponse=policies.may_view_coresponse(current_user),
        default_month=last_full_month(default).key,
    ), (200 if view else 400)


def _document(purpose: str):
    scope, period = _choice()
    view = services.run_report(current_user, scope, period, suppress=True, purpose=purpose)
    db.session.commit()
    generated = format_local(view.report.generated_at, scope.timezone, "%Y-%m-%d %H:%M %Z")
    return view, generated


@bp.get("/print")
@requires(Permission.REPORTS_ENGAGEMENT)
def printable():
    view, generated = _document("print")
    return render_template("reports/document.html", view=view, generated=generated, for_pdf=False,
                           args=_args(view.scope, view.period))


@bp.get("/report.pdf")
@requires(Permission.REPORTS_ENGAGEMENT)
def pdf():
    view, generated = _document("pdf")
    html = render_template("reports/document.html", view=view, generated=generated, for_pdf=True,
                           args=_args(view.scope, view.period))
    filename = f"report-{services.exports._slug(view.scope)}-{view.period.slug}.pdf"
    return _file(render_pdf(html), filename, "application/pdf")


@bp.get("/table.csv")
@requires(Permission.REPORTS_ENGAGEMENT)
def table_csv():
    scope, period = _choice()
    filename, body = services.table_file(current_user, scope, period, request.args.get("table") or None)
    db.session.commit()
    return _file(body, filename, "text/csv")


@bp.get("/calls-deidentified.csv")
@requires(Permission.REPORTS_VIEW)
def deidentified_csv():
    scope, period = _choice()
    extract = services.deidentified_file(current_user, scope, period)
    db.session.commit()
    return _file(extract.csv, extract.filename, "text/csv")


@bp.get("/diversion.csv")
@requires(Permission.REPORTS_VIEW)
def diversion_csv():
    scope, period = _choice()
    extract = services.diversion_file(current_user, scope, period)
    db.session.commit()
    return _file(extract.csv, extract.filename, "text/csv")
