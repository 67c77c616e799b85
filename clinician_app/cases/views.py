"""Encounter pages: record what happened on a call, a supervisor's closing of a
call, and the admin's list of dispositions."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.calls import codes as call_codes
from clinician_app.core.errors import ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, requires
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db

from . import codes, services
from .forms import CloseCallForm, DispositionForm, EncounterForm

bp = Blueprint("cases", __name__, url_prefix="/cases")




def _local_now():
    return to_local(utcnow(), current_user.agency.timezone).replace(second=0, microsecond=0, tzinfo=None)


@bp.route("/calls/<call_id>/encounter", methods=["GET", "POST"])
@requires(Permission.CASES_WRITE)
def new_encounter(call_id):
    call = services.call_for_encounter(current_user, call_id)
    tz = current_user.agency.timezone
    dispositions = services.active_dispositions()
    if request.method == "GET":
        form = EncounterForm(timezone=tz, dispositions=dispositions, ended_at=_local_now())
    else:
        form = EncounterForm(timezone=tz, dispositions=dispositions)
    error = None
    if form.validate_on_submit():
        try:
            services.record_encounter(current_user, call.id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Encounter recorded. Call {call.incident_number} is closed.", "success")
            return redirect(url_for("calls.detail", call_id=call.id))
    failed = bool(form.errors or error)
    return render_template("cases/encounter_new.html", form=form, call=call, error=error, codes=codes,
                           call_codes=call_codes), (400 if failed else 200)


@bp.route("/calls/<call_id>/close", methods=["GET", "POST"])
@requires(Permission.CALLS_ASSIGN)
def close_call(call_id):
    from clinician_app.calls.services import get_call

    call = get_call(current_user, call_id)
    form = CloseCallForm()
    error = None
    if form.validate_on_submit():
        try:
            services.close_call_by_supervisor(current_user, call.id, form.reason.data or "")
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Call {call.incident_number} closed.", "success")
            return redirect(url_for("calls.detail", call_id=call.id))
    failed = bool(form.errors or error)
    return render_template("cases/close_call.html", form=form, call=call, error=error,
                           call_codes=call_codes), (400 if failed else 200)


@bp.route("/dispositions", methods=["GET", "POST"])
@requires(Permission.ADMIN_SETTINGS)
def dispositions():
    form = DispositionForm()
    error = None
    if form.validate_on_submit():
        try:
            added = services.add_disposition(current_user, form.code.data, form.label.data,
                                             bool(form.counts_as_diversion.data))
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Disposition “{added.label}” added.", "success")
            return redirect(url_for("cases.dispositions"))
    failed = bool(form.errors or error)
    return render_template("cases/dispositions.html", form=form, error=error,
                           items=services.list_dispositions(current_user)), (400 if failed else 200)


@bp.post("/dispositions/<disposition_id>/retire")
@requires(Permission.ADMIN_SETTINGS)
def retire_disposition(disposition_id):
    disposition = services.retire_disposition(current_user, disposition_id)
    db.session.commit()
    flash(f"“{disposition.label}” is no longer offered. Encounters that used it keep it.", "success")
    return redirect(url_for("cases.dispositions"))


@bp.post("/dispositions/<disposition_id>/restore")
@requires(Permission.ADMIN_SETTINGS)
def restore_disposition(disposition_id):
    disposition = services.restore_disposition(current_user, disposition_id)
    db.session.commit()
    flash(f"“{disposition.label}” is offered again.", "success")
    return redirect(url_for("cases.dispositions"))


from . import case_views  # noqa: E402,F401  (the case pages register on this blueprint)
