"""Triage pages: the screen, claiming, assignment, and the routing rules.

Thin views: a form becomes plain values, one service call, one commit."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.agencies.models import Agency
from clinician_app.calls import codes as call_codes
from clinician_app.core.errors import Conflict, PermissionDenied, ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, has_permission, requires
from clinician_app.extensions import db

from . import codes, routing, services
from .forms import AssignForm, RuleForm, TriageForm
from .policies import may_assign, may_claim, may_triage
from .screener import SCREEN_RESULTS

bp = Blueprint("triage", __name__, url_prefix="/triage")




def _back_to_call(call_id: str):
    # The queue (part of the calls pages) may send people back to itself; nothing else.
    if request.form.get("return_to") == "queue" and "calls.queue" in current_app.view_functions:
        return redirect(url_for("calls.queue"), 303)
    return redirect(url_for("calls.detail", call_id=call_id), 303)


# --- the panel on a call's page --------------------------------------------------------

def format_duration(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = ([f"{days} d"] if days else []) + ([f"{hours} h"] if hours or days else []) + [f"{minutes} min"]
    return " ".join(parts)


def triage_panel(call) -> dict:
    """What the call's page shows about triage and who holds the call. Coded
    fields only: the screen's answers are read (and audited) on the screen page."""
    user = current_user
    triage = services.current_triage(call.id)
    first_contact = None
    if call.first_contact_at and call.flagged_at:
        first_contact = format_duration(call.first_contact_at - call.flagged_at)
    return {
        "triage": triage,
        "clinical": has_permission(user, Permission.CALLS_READ_CLINICAL),
        "route": codes.route_label(call.route, call.outside_service) if call.route else None,
        "acuity": codes.ACUITIES.get(call.acuity or ""),
        "risk": codes.RISK_LEVELS.get(triage.risk_level) if triage else None,
        "screen": SCREEN_RESULTS.get(triage.screen_risk) if triage else None,
        "suggested": codes.route_label(triage.suggested_route, triage.suggested_outside_service) if triage else None,
        "assignee": call.assignee.display_name if call.assignee_id and call.assignee else None,
        "history": services.assignment_history(user, call),
        "kinds": codes.ASSIGNMENT_KINDS,
        "time_to_first_contact": first_contact,
        "can_triage": has_permission(user, Permission.TRIAGE) and call.status in services.TRIAGEABLE
        and may_triage(user, call),
        "can_claim": has_permission(user, Permission.CALLS_CLAIM) and call.status == call_codes.STATUS_TRIAGED
        and call.assignee_id is None and may_claim(user, call),
        "can_assign": has_permission(user, Permission.CALLS_ASSIGN) and may_assign(user, call)
        and call.status in (call_codes.STATUS_TRIAGED, call_codes.STATUS_ASSIGNED, call_codes.STATUS_ON_SCENE),
    }


@bp.app_context_processor
def _panel():
    return {"triage_panel": triage_panel}


# --- the screen -------------------------------------------------------------------------

@bp.route("/calls/<call_id>", methods=["GET", "POST"])
@requires(Permission.TRIAGE)
def screen(call_id):
    call = services.load_call_for_triage(current_user, call_id)
    if call.status not in services.TRIAGEABLE:
        flash("This call has already been claimed or closed; it can't be triaged again.", "warning")
        return redirect(url_for("calls.detail", call_id=call.id))
    form = TriageForm()
    error = None
    if request.method == "GET":
        previous = services.read_triage(current_user, call)
        if previous is not None:
            form.fill_from(previous.triage, previous.answers, previous.observations)
            db.session.commit()  # the audited read is kept
        else:
            form.acuity.data = routing.call_acuity(call)
    elif form.validate_on_submit():
        try:
            services.record_triage(current_user, call.id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Call {call.incident_number} triaged: {codes.route_label(call.route, call.outside_service)}.",
                  "success")
            return redirect(url_for("calls.detail", call_id=call.id))
    call = services.load_call_for_triage(current_user, call_id)
    acuity = form.acuity.data if form.acuity.data in codes.ACUITIES else None
    suggestion = services.suggest_route(call, acuity=acuity)
    failed = request.method == "POST" and bool(form.errors or error)
    return render_template("triage/screen.html", call=call, form=form, error=error, suggestion=suggestion,
                           on_duty=services.on_duty_now(call.agency_id), codes=codes,
                           call_codes=call_codes), (400 if failed else 200)


# --- claim and assign --------------------------------------------------------------------

@bp.post("/calls/<call_id>/claim")
@requires(Permission.CALLS_CLAIM)
def claim(call_id):
    try:
        call = services.claim_call(current_user, call_id)
    except (Conflict, PermissionDenied) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back_to_call(call_id)
    db.session.commit()
    flash(f"You hold call {call.incident_number}.", "success")
    return _back_to_call(call.id)


@bp.route("/calls/<call_id>/assign", methods=["GET", "POST"])
@requires(Permission.CALLS_ASSIGN)
def assign(call_id):
    from clinician_app.calls.services import get_call

    call = get_call(current_user, call_id)
    if not may_assign(current_user, call):
        if call.status == call_codes.STATUS_FLAGGED:
            flash("Triage the call before assigning it.", "warning")
            return redirect(url_for("calls.detail", call_id=call.id))
        abort(403)
    form = AssignForm()
    form.assignee_id.choices = [("", "- Choose -")] + [
        (u.id, u.display_name) for u in services.assignable_users(current_user, call)]
    error = None
    if form.validate_on_submit():
        try:
            services.assign_call(current_user, call.id, form.assignee_id.data, form.reason.data or "")
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Call {call.incident_number} assigned.", "success")
            return redirect(url_for("calls.detail", call_id=call.id))
        call = get_call(current_user, call_id)
    failed = request.method == "POST" and bool(form.errors or error)
    return render_template("triage/assign.html", call=call, form=form, error=error,
                           holder=call.assignee.display_name if call.assignee_id else None), (400 if failed else 200)


# --- routing rules ------------------------------------------------------------------------

def _town_choices():
    return [(a.id, a.name) for a in routing.editable_towns(current_user)]


@bp.get("/rules")
@requires(Permission.ROUTING_RULES_EDIT)
def rules():
    town, rows = routing.list_rules(current_user, request.args.get("agency") or None)
    return render_template("triage/rules.html", town=town, rules=rows, towns=_town_choices(), codes=codes,
                           fallback=routing.FALLBACK_REASON)


def _rule_form_page(form, town, rule=None, error=None, status=200):
    return render_template("triage/rule_form.html", form=form, town=town, rule=rule, error=error), status


@bp.route("/rules/new", methods=["GET", "POST"])
@requires(Permission.ROUTING_RULES_EDIT)
def rule_new():
    town, existing = routing.list_rules(current_user, request.args.get("agency") or None)
    if town is None:
        abort(404)
    form = RuleForm()
    if request.method == "GET":
        form.priority.data = str(max([r.priority for r in existing], default=0) + 10)
    error = None
    if form.validate_on_submit():
        try:
            routing.create_rule(current_user, town.id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Rule added.", "success")
            return redirect(url_for("triage.rules", agency=town.id))
    return _rule_form_page(form, town, error=error, status=400 if request.method == "POST" else 200)


@bp.route("/rules/<rule_id>", methods=["GET", "POST"])
@requires(Permission.ROUTING_RULES_EDIT)
def rule_edit(rule_id):
    rule = routing.get_rule(current_user, rule_id)
    town = db.session.get(Agency, rule.agency_id)
    form = RuleForm()
    if request.method == "GET":
        form.priority.data = str(rule.priority)
        form.acuities.data = rule.acuity_list
        form.on_duty.data = rule.on_duty
        form.route.data = rule.route
        form.outside_service.data = rule.outside_service or ""
        form.description.data = rule.description
    error = None
    if form.validate_on_submit():
        try:
            routing.update_rule(current_user, rule.id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Rule saved.", "success")
            return redirect(url_for("triage.rules", agency=town.id))
    return _rule_form_page(form, town, rule=rule, error=error, status=400 if request.method == "POST" else 200)


@bp.post("/rules/<rule_id>/delete")
@requires(Permission.ROUTING_RULES_EDIT)
def rule_delete(rule_id):
    rule = routing.get_rule(current_user, rule_id)
    agency_id = rule.agency_id
    routing.delete_rule(current_user, rule.id)
    db.session.commit()
    flash("Rule removed.", "success")
    return redirect(url_for("triage.rules", agency=agency_id), 303)
