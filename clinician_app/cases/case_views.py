"""Case pages (on the cases blueprint): link a call to a person, open or join a
case, the case page and list, close and reassign, and the outreach list.

Names travel only in POST bodies, never in URLs; URLs carry opaque ids.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.calls import codes as call_codes
from clinician_app.core.database import commit_keeping_loaded
from clinician_app.core.errors import Conflict, NotFound, ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, has_permission, requires
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db
from clinician_app.people import services as people_services

from . import case_services, codes, response_plans
from .case_forms import CaseFilterForm, CloseCaseForm, JoinCaseForm, LinkSearchForm, OpenCaseForm, ReassignCaseForm
from .repeat_contacts import outreach_list
from .views import bp


def _today():
    return to_local(utcnow(), current_user.agency.timezone).date()


# --- linking ---------------------------------------------------------------------------------

@bp.route("/calls/<call_id>/person", methods=["GET", "POST"])
@requires(Permission.CASES_WRITE)
def link_person(call_id):
    """Find the call's person by exact name and date of birth, then link them (or
    add them as a new person and link them)."""
    call = case_services.workable_call(current_user, call_id)
    form = LinkSearchForm(today=_today())
    matches, error, action = None, None, request.form.get("action", "search")
    if request.method == "POST" and action == "link":
        try:
            case_services.link_person(current_user, call.id, request.form.get("person_id", ""))
        except ValidationError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            flash("Person linked to the call.", "success")
            return redirect(url_for("calls.detail", call_id=call.id))
    elif form.validate_on_submit():
        if action == "create":
            try:
                person = people_services.create_person(current_user, people_services.PersonData(
                    first_name=form.first_name.data, last_name=form.last_name.data,
                    date_of_birth=form.date_of_birth.data))
                case_services.link_person(current_user, call.id, person.id)
            except people_services.PossibleDuplicate:
                db.session.rollback()
                error = "A person with this name and date of birth is already recorded: link that record."
            except ValidationError as exc:
                db.session.rollback()
                error = apply_service_errors(form, exc)
            else:
                db.session.commit()
                flash("Person added and linked to the call.", "success")
                return redirect(url_for("calls.detail", call_id=call.id))
        matches = people_services.find_matches(current_user, form.first_name.data, form.last_name.data,
                                               form.date_of_birth.data, view="link_call")
    elif request.method == "POST" and not error:
        error = "Enter the person's first name, last name and date of birth to search."
    db.session.commit()  # the lookup and the reads it showed are audited
    failed = request.method == "POST" and bool(form.errors or error)
    return render_template("cases/link_person.html", call=call, form=form, matches=matches, error=error,
                           call_codes=call_codes), (400 if failed else 200)


@bp.post("/calls/<call_id>/join")
@requires(Permission.CASES_WRITE)
def join_case(call_id):
    form = JoinCaseForm()
    form.validate_on_submit()
    try:
        call = case_services.join_case(current_user, call_id, form.case_id.data)
    except (ValidationError, Conflict) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("calls.detail", call_id=call_id))
    db.session.commit()
    flash("Call added to the case.", "success")
    return redirect(url_for("cases.detail", case_id=call.case_id))


@bp.route("/open", methods=["GET", "POST"])
@requires(Permission.CASES_WRITE)
def open_case():
    """Open a case for a person (from their page, or from a linked call)."""
    clinicians = case_services.case_clinicians(current_user.agency_id)
    source = request.form if request.method == "POST" else request.args
    form = OpenCaseForm(clinicians=clinicians, data={"person_id": source.get("person_id", ""),
                                                     "call_id": source.get("call_id", ""),
                                                     "assignee_id": current_user.id})
    error, person, open_cases = None, None, []
    if form.validate_on_submit():
        try:
            case = case_services.open_case(current_user, form.person_id.data, call_id=form.call_id.data or None,
                                           assignee_id=form.assignee_id.data)
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            flash("Case opened.", "success")
            return redirect(url_for("cases.detail", case_id=case.id))
    person_id = form.person_id.data
    if person_id:
        try:
            person = people_services.get_person(current_user, person_id, view="open_case")
            open_cases = case_services.open_cases_of(current_user, person.id)
        except NotFound:
            person = None
            error = error or case_services.OTHER_AGENCY_PERSON
    db.session.commit()
    failed = request.method == "POST" or (person_id and person is None)
    return render_template("cases/open_case.html", form=form, person=person, open_cases=open_cases,
                           error=error), (400 if failed else 200)


# --- the case page and list ------------------------------------------------------------------

@bp.get("/<case_id>")
@requires(Permission.CASES_READ)
def detail(case_id):
    page = case_services.case_page(current_user, case_id)
    # Not through break-the-glass: the case, so its person, is in the user's scope.
    plans = response_plans.plans_for(current_user, page.person.id, person=page.person) if page.grant_id is None else []
    # The audited reads are kept; what was read stays loaded for the page (a plain
    # commit would make the template load the user, case and person again).
    commit_keeping_loaded(db.session)
    return render_template("cases/detail.html", page=page, case=page.case, person=page.person, plans=plans,
                           codes=codes, call_codes=call_codes)


@bp.get("/")
@requires(Permission.CASES_READ)
def index():
    supervisor = has_permission(current_user, Permission.CASES_ASSIGN)
    clinicians = case_services.case_clinicians(current_user.agency_id) if supervisor else []
    filters = CaseFilterForm(request.args, supervisor=supervisor, clinicians=clinicians)
    valid = filters.validate()
    data = case_services.CaseFilter(scope=filters.scope.data if valid else "mine",
                                    clinician_id=(filters.clinician_id.data or None) if valid and supervisor else None,
                                    status=filters.status.data or None if valid else None)
    listing = case_services.list_cases(current_user, data, page=request.args.get("page", 1, type=int))
    db.session.commit()
    return render_template("cases/index.html", filters=filters, listing=listing, filter_args=filters.active_args(),
                           codes=codes), (200 if valid else 400)


@bp.route("/<case_id>/close", methods=["GET", "POST"])
@requires(Permission.CASES_WRITE)
def close_case(case_id):
    case, _grant = case_services.get_case(current_user, case_id, view="close")
    form = CloseCaseForm()
    error = None
    if form.validate_on_submit():
        try:
            case_services.close_case(current_user, case.id, form.outcome.data)
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            flash("Case closed.", "success")
            return redirect(url_for("cases.detail", case_id=case_id))
    db.session.commit()
    failed = bool(form.errors or error)
    return render_template("cases/close_case.html", case=case, form=form, error=error), (400 if failed else 200)


@bp.route("/<case_id>/reassign", methods=["GET", "POST"])
@requires(Permission.CASES_ASSIGN)
def reassign(case_id):
    case, _grant = case_services.get_case(current_user, case_id, view="reassign")
    form = ReassignCaseForm(clinicians=case_services.case_clinicians(case.agency_id))
    error = None
    if form.validate_on_submit():
        try:
            case_services.reassign_case(current_user, case.id, form.assignee_id.data)
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        except Conflict as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            flash("Case reassigned.", "success")
            return redirect(url_for("cases.detail", case_id=case_id))
    db.session.commit()
    failed = bool(form.errors or error)
    return render_template("cases/reassign.html", case=case, form=form, error=error), (400 if failed else 200)


@bp.get("/outreach")
@requires(Permission.CASES_ASSIGN)
def outreach():
    rows = outreach_list(current_user)
    db.session.commit()
    return render_template("cases/outreach.html", rows=rows, agency=current_user.agency, codes=codes)


@bp.app_context_processor
def _case_codes():
    return {"case_codes": codes}


from . import person_links, plan_views  # noqa: E402,F401  (register the person page sections and the plan pages)
