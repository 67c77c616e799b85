"""Person pages: exact-match search, add (with the duplicate offer), the person
page, edit, and merge / undo merge for supervisors.

Names and dates of birth travel only in POST bodies, never in URLs (which reach
logs, history and referrers); URLs carry opaque record ids.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.core.database import commit_keeping_loaded
from clinician_app.core.errors import ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, requires
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db

from . import services
from .codes import CODED_FIELDS, CODED_LABELS, age_band, label
from .forms import LookupForm, MergeFindForm, MergeForm, NewPersonForm, PersonForm

bp = Blueprint("people", __name__, url_prefix="/people")


def _today():
    return to_local(utcnow(), current_user.agency.timezone).date()




@bp.route("/", methods=["GET", "POST"])
@requires(Permission.PERSONS_READ)
def search():
    form = LookupForm(today=_today())
    matches = None
    if form.validate_on_submit():
        matches = services.find_matches(current_user, form.first_name.data, form.last_name.data, form.date_of_birth.data)
        # The lookup and the reads it showed are audited; the matches stay loaded for
        # the page (a plain commit would have it load each of them again).
        commit_keeping_loaded(db.session)
    status = 400 if form.errors else 200
    return render_template("people/search.html", form=form, matches=matches), status


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.PERSONS_WRITE)
def new():
    form = NewPersonForm(today=_today())
    matches, error = [], None
    if request.method == "POST" and request.form.get("prefill"):
        # Arrived from the search page with its values: show them, check nothing yet.
        return render_template("people/new.html", form=form, matches=[], error=None)
    if form.validate_on_submit():
        data = form.to_data()
        try:
            if not form.confirm_new.data:
                matches = services.find_matches(current_user, data.first_name, data.last_name, data.date_of_birth,
                                                 view="duplicate_check")
                if matches:
                    db.session.commit()  # the matches shown are audited reads
                    return render_template("people/new.html", form=form, matches=matches, error=None), 200
            person = services.create_person(current_user, data, allow_duplicate=bool(form.confirm_new.data))
        except services.PossibleDuplicate as exc:
            db.session.rollback()
            matches = services.find_matches(current_user, data.first_name, data.last_name, data.date_of_birth,
                                            view="duplicate_check")
            db.session.commit()
            error = exc.message
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Person added.", "success")
            return redirect(url_for("people.person", person_id=person.id))
    failed = bool(form.errors or error)
    return render_template("people/new.html", form=form, matches=matches, error=error), (400 if failed else 200)


@bp.get("/<person_id>")
@requires(Permission.PERSONS_READ)
def person(person_id):
    record = services.get_person(current_user, person_id)
    context = {
        "person": record,
        "survivor": services.merged_into(record),
        "sections": services.linked_records(current_user, record),
        "flags": services.flags(current_user, record),
        "merges": services.merges_of(current_user, record),
        "codes": [(CODED_LABELS[name], label(name, getattr(record, name))) for name in CODED_FIELDS],
        "age_band": age_band(record.date_of_birth, _today()),
    }
    db.session.commit()
    return render_template("people/person.html", **context)


@bp.route("/<person_id>/edit", methods=["GET", "POST"])
@requires(Permission.PERSONS_WRITE)
def edit(person_id):
    record = services.get_person(current_user, person_id, view="edit", permission=Permission.PERSONS_WRITE)
    if record.is_merged:
        db.session.commit()
        flash("That record was merged into this one; edit this record instead.", "info")
        return redirect(url_for("people.person", person_id=services.merged_into(record).id))
    if request.method == "GET":
        form = PersonForm.from_data(services.person_data(record), _today())
        db.session.commit()
        return render_template("people/edit.html", form=form, person=record, error=None)
    form = PersonForm(today=_today())
    error = None
    if form.validate_on_submit():
        try:
            services.update_person(current_user, person_id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Person updated.", "success")
            return redirect(url_for("people.person", person_id=person_id))
    else:
        db.session.commit()  # keep the audited read of the page
    return render_template("people/edit.html", form=form, person=record, error=error), 400


@bp.route("/<person_id>/merge", methods=["GET", "POST"])
@requires(Permission.PERSONS_MERGE)
def merge(person_id):
    """Step 1: find the duplicate to merge into this record."""
    survivor = services.get_person(current_user, person_id, view="merge", permission=Permission.PERSONS_MERGE)
    form = MergeFindForm(today=_today())
    matches = None
    if form.validate_on_submit():
        record_id = (form.record_id.data or "").strip()
        if record_id:
            # A pasted id goes straight to the comparison, which checks scope (404 otherwise).
            db.session.commit()
            return redirect(url_for("people.merge_confirm", person_id=survivor.id, other_id=record_id))
        matches = services.find_matches(current_user, form.first_name.data, form.last_name.data, form.date_of_birth.data,
                                        exclude_id=survivor.id, view="merge")
    db.session.commit()
    return render_template("people/merge_find.html", survivor=survivor, form=form, matches=matches), (
        400 if form.errors else 200)


@bp.route("/<person_id>/merge/<other_id>", methods=["GET", "POST"])
@requires(Permission.PERSONS_MERGE)
def merge_confirm(person_id, other_id):
    """Step 2: compare the two records side by side, give a reason, merge."""
    survivor = services.get_person(current_user, person_id, view="merge", permission=Permission.PERSONS_MERGE)
    duplicate = services.get_person(current_user, other_id, view="merge", permission=Permission.PERSONS_MERGE)
    form = MergeForm()
    error = None
    if form.validate_on_submit():
        try:
            services.merge_persons(current_user, survivor.id, duplicate.id, form.reason.data, form.note.data or "")
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
            # The rollback undid the audited reads of this page; the page shows them again, so record them again.
            survivor = services.get_person(current_user, person_id, view="merge", permission=Permission.PERSONS_MERGE)
            duplicate = services.get_person(current_user, other_id, view="merge", permission=Permission.PERSONS_MERGE)
        else:
            db.session.commit()
            flash("Records merged. The merge can be undone from this page.", "success")
            return redirect(url_for("people.person", person_id=survivor.id))
    db.session.commit()
    today = _today()
    return render_template("people/merge_confirm.html", survivor=survivor, duplicate=duplicate, form=form, error=error,
                           rows=_comparison(survivor, duplicate, today)), (400 if form.errors or error else 200)


def _comparison(survivor, duplicate, today) -> list[tuple[str, str, str]]:
    def values(p):
        return [p.first_name or "", p.last_name or "", p.date_of_birth.isoformat() if p.date_of_birth else "",
                age_band(p.date_of_birth, today), ", ".join(a.name for a in p.aliases), p.phone or "", p.address or "",
                p.identifying_notes or "", *[label(name, getattr(p, name)) for name in CODED_FIELDS]]

    labels = ["First name", "Last name", "Date of birth", "Age band", "Other names", "Phone", "Address",
              "Identifying notes", *[CODED_LABELS[name] for name in CODED_FIELDS]]
    return list(zip(labels, values(survivor), values(duplicate), strict=True))


@bp.post("/merges/<merge_id>/undo")
@requires(Permission.PERSONS_MERGE)
def unmerge(merge_id):
    merge_record = services.unmerge_persons(current_user, merge_id)
    db.session.commit()
    flash("Merge undone: the two records are separate again.", "success")
    return redirect(url_for("people.person", person_id=merge_record.survivor_id))
