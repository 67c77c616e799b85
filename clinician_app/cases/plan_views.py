"""Response plan pages (on the cases blueprint): a clinician writes a person's
plan; a supervisor approves it or returns it."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from clinician_app.core.errors import Conflict, ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, requires
from clinician_app.extensions import db
from clinician_app.people import services as people_services

from . import response_plans
from .case_forms import ResponsePlanForm
from .codes import PLAN_STATUSES
from .repeat_contacts import repeat_contact
from .views import bp


@bp.route("/people/<person_id>/response-plan", methods=["GET", "POST"])
@requires(Permission.CASES_WRITE)
def response_plan(person_id):
    person = people_services.get_person(current_user, person_id, view="response_plan")
    form = ResponsePlanForm()
    error = None
    if form.validate_on_submit():
        try:
            response_plans.write_plan(current_user, person.id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
            person = people_services.get_person(current_user, person_id, view="response_plan")
        except Conflict as exc:
            db.session.rollback()
            error = exc.message
            person = people_services.get_person(current_user, person_id, view="response_plan")
        else:
            db.session.commit()
            flash("Response plan saved. A supervisor approves it before dispatchers and officers see it.", "success")
            return redirect(url_for("cases.response_plan", person_id=person_id))
    plans = response_plans.plans_for(current_user, person.id)
    db.session.commit()
    failed = bool(form.errors or error)
    return render_template("cases/response_plan.html", person=person, form=form, error=error, plans=plans,
                           labels=response_plans.FIELD_LABELS, statuses=PLAN_STATUSES,
                           repeat=repeat_contact(person.id), agency=current_user.agency), (400 if failed else 200)


def _decide(plan_id, decide, message):
    try:
        plan = decide(current_user, plan_id)
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
        plan = response_plans.plan_for_page(current_user, plan_id)
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("cases.response_plan", person_id=plan.person_id))


@bp.post("/response-plans/<plan_id>/approve")
@requires(Permission.RESPONSE_PLANS_APPROVE)
def approve_plan(plan_id):
    return _decide(plan_id, response_plans.approve_plan, "Response plan approved: dispatchers and officers now see it "
                   "on this person's calls.")


@bp.post("/response-plans/<plan_id>/return")
@requires(Permission.RESPONSE_PLANS_APPROVE)
def return_plan(plan_id):
    return _decide(plan_id, response_plans.return_plan, "Response plan returned to its author for changes.")
