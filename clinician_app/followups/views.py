"""Follow-up pages: My work, a follow-up with its attempts, adding one to a case,
recording an attempt, closing, cancelling, reassigning, the week calendar, the
.ics feed and the agency's templates. Names travel in page bodies only; URLs
carry opaque ids."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.core.errors import ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, has_permission, requires
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db

from . import codes, ical, policies, services
from .forms import AttemptForm, FollowupForm, ReasonForm, ReassignForm, TemplateForm

bp = Blueprint("followups", __name__, url_prefix="/followups")


def _tz() -> str:
    return current_user.agency.timezone


def _local_now():
    return to_local(utcnow(), _tz()).replace(second=0, microsecond=0, tzinfo=None)


def _context(**values):
    return {"codes": codes, "window_label": codes.window_label, "policies": policies, **values}


@bp.get("/")
@requires(Permission.FOLLOWUPS_WORK)
def my_work():
    supervisor = has_permission(current_user, Permission.FOLLOWUPS_MANAGE)
    clinicians = services.assignable_clinicians(current_user.agency_id) if supervisor else []
    who = request.args.get("who", "") if supervisor else ""
    clinician_id = who if who in {u.id for u in clinicians} else None
    work = services.my_work(current_user, everyone=(who == "all"), clinician_id=clinician_id)
    db.session.commit()  # the audited reads of names are kept
    return render_template("followups/my_work.html", **_context(
        work=work, supervisor=supervisor, clinicians=clinicians, who=who, now=utcnow()))


def _detail_page(followup_id, *, attempt_form=None, status=200, error=None):
    followup, person_name, notes = services.read_followup(current_user, followup_id)
    db.session.commit()
    attempt_form = attempt_form or AttemptForm(timezone=_tz(), attempted_at=_local_now())
    return render_template("followups/detail.html", **_context(
        followup=followup, person_name=person_name, notes=notes, form=attempt_form, error=error,
        now=utcnow(), supervisor=has_permission(current_user, Permission.FOLLOWUPS_MANAGE))), status


@bp.get("/<followup_id>")
@requires(Permission.FOLLOWUPS_WORK)
def detail(followup_id):
    return _detail_page(followup_id)


@bp.post("/<followup_id>/attempts")
@requires(Permission.FOLLOWUPS_WORK)
def attempt(followup_id):
    services.get_followup(current_user, followup_id)  # another agency's: 404 before anything else
    form = AttemptForm(timezone=_tz())
    error = None
    if form.validate_on_submit():
        try:
            recorded = services.record_attempt(current_user, followup_id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            done = recorded.outcome in codes.REACHING_OUTCOMES
            db.session.commit()
            flash("Attempt recorded. The follow-up is done." if done else "Attempt recorded.", "success")
            return redirect(url_for("followups.detail", followup_id=followup_id), 303)
    return _detail_page(followup_id, attempt_form=form, status=400, error=error)


def _reason_view(followup_id, service, template: str, done_message: str):
    followup = services.get_followup(current_user, followup_id)
    form = ReasonForm()
    error = None
    if form.validate_on_submit():
        try:
            service(current_user, followup.id, form.reason.data)
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(done_message, "success")
            return redirect(url_for("followups.my_work"), 303)
    failed = request.method == "POST" and bool(form.errors or error)
    return render_template(template, **_context(followup=followup, form=form, error=error)), (400 if failed else 200)


@bp.route("/<followup_id>/close", methods=["GET", "POST"])
@requires(Permission.FOLLOWUPS_WORK)
def close(followup_id):
    return _reason_view(followup_id, services.close_followup, "followups/close.html", "Follow-up closed.")


@bp.route("/<followup_id>/cancel", methods=["GET", "POST"])
@requires(Permission.FOLLOWUPS_WORK)
def cancel(followup_id):
    return _reason_view(followup_id, services.cancel_followup, "followups/cancel.html", "Follow-up cancelled.")


@bp.route("/<followup_id>/reassign", methods=["GET", "POST"])
@requires(Permission.FOLLOWUPS_MANAGE)
def reassign(followup_id):
    followup = services.get_followup(current_user, followup_id)
    form = ReassignForm(clinicians=services.assignable_clinicians(followup.agency_id))
    error = None
    if form.validate_on_submit():
        try:
            services.reassign_followup(current_user, followup.id, form.assignee_id.data)
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Follow-up reassigned.", "success")
            return redirect(url_for("followups.my_work", who="all"), 303)
    failed = request.method == "POST" and bool(form.errors or error)
    return render_template("followups/reassign.html", **_context(followup=followup, form=form, error=error)), \
        (400 if failed else 200)


@bp.route("/cases/<case_id>/new", methods=["GET", "POST"])
@requires(Permission.FOLLOWUPS_WORK)
def new(case_id):
    case = services.case_for_followups(current_user, case_id)
    clinicians = services.assignable_clinicians(case.agency_id)
    form = FollowupForm(timezone=_tz(), clinicians=clinicians,
                        **({"assignee_id": case.assignee_id or current_user.id} if request.method == "GET" else {}))
    error = None
    if form.validate_on_submit():
        try:
            followup = services.create_followup(current_user, case.id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Follow-up added.", "success")
            return redirect(url_for("followups.detail", followup_id=followup.id), 303)
    failed = request.method == "POST" and bool(form.errors or error)
    crisis = services.crisis_time(case)
    return render_template("followups/new.html", **_context(case=case, form=form, error=error, crisis=crisis)), \
        (400 if failed else 200)


def _week_start(raw: str | None) -> date:
    today = to_local(utcnow(), _tz()).date()
    try:
        day = date.fromisoformat(raw) if raw else today
    except ValueError:
        day = today
    return day - timedelta(days=day.weekday())


@bp.get("/calendar")
@requires(Permission.FOLLOWUPS_WORK)
def calendar():
    start_day = _week_start(request.args.get("week"))
    start, _ = services.local_day_bounds(start_day, _tz())
    end, _ = services.local_day_bounds(start_day + timedelta(days=7), _tz())
    followups = services.own_followups_between(current_user, start, end)
    days = {start_day + timedelta(days=i): [] for i in range(7)}
    for f in followups:
        days.setdefault(to_local(f.due_at, _tz()).date(), []).append(f)
    return render_template("followups/calendar.html", **_context(
        days=days, start_day=start_day, previous=start_day - timedelta(days=7), following=start_day + timedelta(days=7),
        today=to_local(utcnow(), _tz()).date(), now=utcnow()))


@bp.get("/calendar.ics")
@requires(Permission.FOLLOWUPS_WORK)
def ics():
    base = current_app.config["APP_BASE_URL"]
    host = base.split("://", 1)[-1].split("/", 1)[0] or "clinician-app"
    body = ical.calendar(services.own_open_followups(current_user),
                         lambda f: f"{base}{url_for('followups.detail', followup_id=f.id)}", utcnow(), host)
    return Response(body, mimetype="text/calendar", headers={
        "Content-Disposition": 'attachment; filename="follow-ups.ics"'})


@bp.route("/templates", methods=["GET", "POST"])
@requires(Permission.FOLLOWUP_TEMPLATES_EDIT)
def templates():
    from clinician_app.cases.services import active_dispositions
    from clinician_app.triage.codes import RISK_LEVELS

    dispositions = active_dispositions()
    form = TemplateForm(dispositions=dispositions, risk_levels=RISK_LEVELS)
    error = None
    action = request.form.get("action", "add")
    if request.method == "POST" and action in ("deactivate", "activate"):
        form.validate_on_submit()  # CSRF only: the other fields are not in this form
        if "csrf_token" not in form.errors:
            services.set_template_active(current_user, request.form.get("template_id", ""), action == "activate")
            db.session.commit()
            flash("Template turned off." if action == "deactivate" else "Template turned on.", "success")
            return redirect(url_for("followups.templates"), 303)
        error = "The form expired. Submit it again."
        form = TemplateForm(formdata=None, dispositions=dispositions, risk_levels=RISK_LEVELS)
    elif form.validate_on_submit():
        try:
            services.add_template(current_user, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Template added.", "success")
            return redirect(url_for("followups.templates"), 303)
    failed = request.method == "POST" and bool(form.errors or error)
    labels = {d.code: d.label for d in dispositions} | RISK_LEVELS
    return render_template("followups/templates.html", **_context(
        templates=services.list_templates(current_user), form=form, error=error, labels=labels)), \
        (400 if failed else 200)
