"""Recording pages (on the engagement blueprint): the forms for visits, events,
partnerships, posts and youth programs and sessions, a visit's page (its notes
read is audited) and a youth program's page."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.core.policy import Permission, requires
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db

from .checks import agency_officers
from .events import record_event
from .forms import EventForm, PartnershipForm, PostForm, ProgramForm, SessionForm, VisitForm
from .partnerships import partner_agency_choices, record_partnership
from .places import place_choices
from .posts import record_post
from .views import agency_tz, bp, context, form_page, form_status, save
from .visits import read_visit, record_visit
from .youth import create_youth_program, get_youth_program, record_youth_session


def _local_now():
    return to_local(utcnow(), agency_tz()).replace(second=0, microsecond=0, tzinfo=None)


@bp.route("/visits/new", methods=["GET", "POST"])
@requires(Permission.ENGAGEMENT_WRITE)
def new_visit():
    officers = agency_officers(current_user.agency_id)
    places = place_choices(current_user.agency_id)
    defaults = {}
    if request.method == "GET":
        defaults = {"started_at": _local_now(),
                    "officer_ids": [current_user.id] if current_user.id in {u.id for u in officers} else []}
        if request.args.get("place_id") in {p.id for p in places}:
            defaults["place_id"] = request.args["place_id"]
    form = VisitForm(timezone=agency_tz(), places=places, officers=officers, **defaults)
    visit, error = save(form, record_visit)
    if visit is not None:
        flash(f"Visit at {visit.where} recorded.", "success")
        return redirect(url_for("engagement.visit", visit_id=visit.id), 303)
    return form_page(form, title="Record a community visit", action=url_for("engagement.new_visit"),
                     submit="Record the visit", back=url_for("engagement.visits"), error=error, hints={
                         "place_id": "A school, daycare, business, neighbourhood or park in the town's list.",
                         "started_at": "Local time.",
                         "purpose": "For example: walk-through at dismissal; meet the new manager. No names.",
                         "notes": "Optional. Kept encrypted."})


@bp.get("/visits/<visit_id>")
@requires(Permission.ENGAGEMENT_READ)
def visit(visit_id):
    record, notes = read_visit(current_user, visit_id)
    db.session.commit()  # the audited read is kept
    return render_template("engagement/visit.html", **context(visit=record, notes=notes))


@bp.route("/events/new", methods=["GET", "POST"])
@requires(Permission.ENGAGEMENT_MANAGE)
def new_event():
    form = EventForm(places=place_choices(current_user.agency_id),
                     officers=agency_officers(current_user.agency_id))
    event, error = save(form, record_event)
    if event is not None:
        flash(f"{event.title} recorded.", "success")
        return redirect(url_for("engagement.events"), 303)
    return form_page(form, title="Record an event or seminar", action=url_for("engagement.new_event"),
                     submit="Record the event", back=url_for("engagement.events"), error=error, hints={
                         "partners": "For example: Town of Chelmsford; Chelmsford Public Schools.",
                         "attendance": "How many people came, if counted.",
                         "materials": "Handouts, slides or kits used."})


@bp.route("/partnerships/new", methods=["GET", "POST"])
@requires(Permission.ENGAGEMENT_MANAGE)
def new_partnership():
    form = PartnershipForm(agencies=partner_agency_choices(current_user))
    partnership, error = save(form, record_partnership)
    if partnership is not None:
        flash(f"{partnership.title} recorded.", "success")
        return redirect(url_for("engagement.partnerships"), 303)
    return form_page(form, title="Record a regional partnership", action=url_for("engagement.new_partnership"),
                     submit="Record the partnership", back=url_for("engagement.partnerships"), error=error,
                     lede="The partner agencies you choose see this partnership (they can't change it).",
                     hints={"other_partners": "Agencies not in this system, like the District Attorney's office.",
                             "description": "What the work is. No names of people.",
                             "outcomes": "What came of it so far."})


@bp.route("/posts/new", methods=["GET", "POST"])
@requires(Permission.ENGAGEMENT_MANAGE)
def new_post():
    form = PostForm()
    post, error = save(form, record_post)
    if post is not None:
        flash("Post recorded.", "success")
        return redirect(url_for("engagement.posts"), 303)
    return form_page(form, title="Record an awareness post", action=url_for("engagement.new_post"),
                     submit="Record the post", back=url_for("engagement.posts"), error=error, hints={
                         "url": "The post's full web address, like https://www.facebook.com/ChelmsfordPD/posts/123.",
                         "reach": "Views or people reached, as the platform reports it."})


@bp.route("/youth/new", methods=["GET", "POST"])
@requires(Permission.ENGAGEMENT_MANAGE)
def new_youth_program():
    form = ProgramForm()
    program, error = save(form, create_youth_program)
    if program is not None:
        flash(f"{program.title} added. Record its sessions below.", "success")
        return redirect(url_for("engagement.youth_program", program_id=program.id), 303)
    return form_page(form, title="Add a youth program", action=url_for("engagement.new_youth_program"),
                     submit="Add the program", back=url_for("engagement.youth"), error=error,
                     lede="Participants are counted by age band per session. Never record a child's name or details.")


def _program_page(program_id, form=None, error=None):
    program = get_youth_program(current_user, program_id)
    form = form or SessionForm(places=place_choices(current_user.agency_id),
                               officers=agency_officers(current_user.agency_id))
    return render_template("engagement/youth_program.html", **context(
        program=program, form=form, error=error)), form_status(form, error)


@bp.get("/youth/<program_id>")
@requires(Permission.ENGAGEMENT_READ)
def youth_program(program_id):
    return _program_page(program_id)


@bp.post("/youth/<program_id>/sessions")
@requires(Permission.ENGAGEMENT_MANAGE)
def new_youth_session(program_id):
    program = get_youth_program(current_user, program_id)  # another agency's: 404 first
    form = SessionForm(places=place_choices(current_user.agency_id),
                       officers=agency_officers(current_user.agency_id))
    session, error = save(form, record_youth_session, program.id)
    if session is not None:
        flash("Session recorded.", "success")
        return redirect(url_for("engagement.youth_program", program_id=program.id), 303)
    return _program_page(program.id, form=form, error=error)
