"""Call pages: the dispatch form, the agency's call list, a call's page, and the
prior-calls panel the form fetches as the address is typed.

Addresses travel only in POST bodies (the panel's request too), never in URLs,
which reach logs and history; URLs carry opaque call ids.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.core.errors import ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, has_permission, requires
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db

from . import codes, services
from .forms import CallFilterForm, CallForm

bp = Blueprint("calls", __name__, url_prefix="/calls")




def _local_now_for_input():
    local = to_local(utcnow(), current_user.agency.timezone)
    return local.replace(second=0, microsecond=0, tzinfo=None)


@bp.get("/")
@requires(Permission.CALLS_READ)
def index():
    filters = CallFilterForm(request.args)
    filters.validate()
    page = services.list_calls(current_user, filters.as_filter(), page=request.args.get("page", 1, type=int))
    return render_template("calls/index.html", filters=filters, page=page, filter_args=filters.active_args(),
                           codes=codes), (400 if filters.errors else 200)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.CALLS_CREATE)
def new():
    now = utcnow()
    tz = current_user.agency.timezone
    if request.method == "GET":
        form = CallForm(timezone=tz, now=now, received_at=_local_now_for_input())
    else:
        form = CallForm(timezone=tz, now=now)
    error = None
    if form.validate_on_submit():
        try:
            call = services.create_call(current_user, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Call {call.incident_number} saved. Status: {codes.label(codes.STATUSES, call.status)}.", "success")
            return redirect(url_for("calls.detail", call_id=call.id))
    prior = None
    if request.method == "POST" and (form.address.data or "").strip():
        prior = services.prior_calls_at(current_user, form.address.data)
    failed = bool(form.errors or error)
    return render_template("calls/new.html", form=form, error=error, prior=prior, codes=codes), (400 if failed else 200)


@bp.post("/prior-calls")
@requires(Permission.CALLS_CREATE)
def prior_calls():
    """The panel beside the dispatch form (an htmx fragment): count and dates only."""
    address = request.form.get("address", "")[:1000]
    prior = services.prior_calls_at(current_user, address)
    return render_template("calls/_prior_calls.html", prior=prior)


@bp.get("/<call_id>")
@requires(Permission.CALLS_READ)
def detail(call_id):
    call = services.get_call(current_user, call_id)
    clinical = None
    if has_permission(current_user, Permission.CALLS_READ_CLINICAL):
        clinical = {"narrative": services.get_call_narrative(current_user, call), "indicators": call.indicators}
        db.session.commit()  # the audited read is kept
    from clinician_app.cases import codes as encounter_codes
    from clinician_app.cases import services as cases_services

    encounters, notes = [], {}
    if has_permission(current_user, Permission.CASES_READ):

        encounters = cases_services.encounters_for_call(current_user, call)
        notes = cases_services.read_encounter_notes(current_user, encounters)
        db.session.commit()  # the audited note reads are kept
    from clinician_app.cases.call_panel import call_panel

    person_panel = call_panel(current_user, call)
    db.session.commit()  # the audited reads of the person and the response plan are kept
    prior = services.prior_calls_at(current_user, call.address, exclude_call_id=call.id)
    from clinician_app.engagement.places import call_panel as engagement_call_panel

    engagement_panel = engagement_call_panel(current_user, call)
    return render_template("calls/detail.html", call=call, clinical=clinical, prior=prior, codes=codes,
                           encounters=encounters, encounter_notes=notes, encounter_codes=encounter_codes,
                           person_panel=person_panel, engagement_panel=engagement_panel)


from . import queue  # noqa: E402,F401  (the queue's pages register on this blueprint)
