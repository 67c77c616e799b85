"""Engagement pages: the blueprint, what its pages share (saving a form through a
service, the form page), the section's overview, and the lists of visits,
events, partnerships, posts and youth sessions with their filters and CSV
exports. The places pages (place_views) and the recording forms (record_views)
register on this blueprint. URLs carry opaque ids; filters travel in query
strings (dates, codes and ids only)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user

from clinician_app.core.csv_export import csv_response
from clinician_app.core.errors import ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, requires
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db

from . import codes
from .checks import agency_officers
from .forms import FilterForm
from .lists import KINDS, export_records, list_records
from .places import place_choices
from .stats import engagement_summary
from .youth import list_youth_programs

bp = Blueprint("engagement", __name__, url_prefix="/engagement")

# record kind -> (label of its kind filter, whether it filters by place and officer)
_FILTERS = {
    "visits": ("Kind of place", True),
    "events": ("Kind", True),
    "partnerships": ("Kind", False),
    "posts": ("Topic", False),
    "youth": ("Program", True),
}


def context(**values):
    return {"codes": codes, **values}


def agency_tz() -> str:
    return current_user.agency.timezone


def form_status(form, error) -> int:
    return 400 if request.method == "POST" and bool(form.errors or error) else 200


def save(form, service, *args):
    """Validate, call the service, commit; on the service's field errors roll back and
    put them on the form. Returns (record or None, error summary or None)."""
    if not form.validate_on_submit():
        return None, None
    try:
        record = service(current_user, *args, form.to_data())
    except ValidationError as exc:
        db.session.rollback()
        return None, apply_service_errors(form, exc)
    db.session.commit()
    return record, None


def form_page(form, *, title: str, action: str, submit: str, back: str, error=None, lede: str = "",
              hints: dict | None = None):
    return render_template("engagement/form.html", **context(
        form=form, title=title, action=action, submit=submit, back=back, error=error, lede=lede,
        hints=hints or {})), form_status(form, error)


@bp.get("/")
@requires(Permission.ENGAGEMENT_READ)
def index():
    today = to_local(utcnow(), agency_tz()).date()
    start = today.replace(day=1)
    summary = engagement_summary([current_user.agency_id], start, today + timedelta(days=1), agency_tz())
    return render_template("engagement/index.html", **context(figures=summary["total"], month=start))


# --- lists and exports ----------------------------------------------------------------------

def _filters(record: str) -> FilterForm:
    label, by_place = _FILTERS[record]
    agency_id = current_user.agency_id
    kinds = KINDS[record].kinds
    form = FilterForm(request.args, kinds=kinds, kind_label=label,
                      places=place_choices(agency_id) if by_place else None,
                      officers=agency_officers(agency_id) if by_place else None)
    form.validate()
    return form


def _list(record: str, template: str, **extra):
    filters = _filters(record)
    flt = filters.as_filter()
    page = list_records(current_user, record, flt, page=request.args.get("page", 1, type=int))
    return render_template(template, **context(
        record=record, filters=filters, page=page, filter_args=flt.query_args(), **extra)), \
        (400 if filters.errors else 200)


def _csv(record: str):
    export = export_records(current_user, record, _filters(record).as_filter())
    db.session.commit()  # the export is on record
    return csv_response(export.text, export.filename)


@bp.get("/visits")
@requires(Permission.ENGAGEMENT_READ)
def visits():
    return _list("visits", "engagement/visits.html")


@bp.get("/visits.csv")
@requires(Permission.ENGAGEMENT_READ)
def visits_csv():
    return _csv("visits")


@bp.get("/events")
@requires(Permission.ENGAGEMENT_READ)
def events():
    return _list("events", "engagement/events.html")


@bp.get("/events.csv")
@requires(Permission.ENGAGEMENT_READ)
def events_csv():
    return _csv("events")


@bp.get("/partnerships")
@requires(Permission.ENGAGEMENT_READ)
def partnerships():
    return _list("partnerships", "engagement/partnerships.html")


@bp.get("/partnerships.csv")
@requires(Permission.ENGAGEMENT_READ)
def partnerships_csv():
    return _csv("partnerships")


@bp.get("/posts")
@requires(Permission.ENGAGEMENT_READ)
def posts():
    return _list("posts", "engagement/posts.html")


@bp.get("/posts.csv")
@requires(Permission.ENGAGEMENT_READ)
def posts_csv():
    return _csv("posts")


@bp.get("/youth")
@requires(Permission.ENGAGEMENT_READ)
def youth():
    return _list("youth", "engagement/youth.html", programs=list_youth_programs(current_user))


@bp.get("/youth.csv")
@requires(Permission.ENGAGEMENT_READ)
def youth_csv():
    return _csv("youth")


from . import place_views, record_views  # noqa: E402,F401  (their pages register on this blueprint)
