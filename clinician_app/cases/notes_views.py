"""Case note pages: the case's notes (no bodies), a note with its addenda (an
audited read), writing a note and adding an addendum. There is deliberately no
edit or delete route: notes are append-only."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from clinician_app.core.errors import ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, requires
from clinician_app.extensions import db

from . import notes, policies
from .note_forms import AddendumForm, NoteForm
from .note_models import NOTE_KINDS, SENSITIVITIES

bp = Blueprint("notes", __name__, url_prefix="/cases")


def case_url(case_id: str) -> str:
    """The case page (which honours break-the-glass grants too), else the case's notes."""
    if "cases.detail" in current_app.view_functions:
        return url_for("cases.detail", case_id=case_id)
    return url_for("notes.index", case_id=case_id)


def _context(**values):
    return {"NOTE_KINDS": NOTE_KINDS, "SENSITIVITIES": SENSITIVITIES, "case_url": case_url,
            "restricted_label": notes.RESTRICTED_LABEL, **values}


@bp.get("/<case_id>/notes")
@requires(Permission.CASE_NOTES_READ)
def index(case_id):
    case, via_grant = notes.case_access(current_user, case_id)
    rows = notes.list_notes(current_user, case, via_grant)
    db.session.commit()
    return render_template("cases/notes/index.html", **_context(case=case, rows=rows, via_grant=via_grant))


@bp.route("/<case_id>/notes/new", methods=["GET", "POST"])
@requires(Permission.CASE_NOTES_WRITE)
def new(case_id):
    case = notes.case_for_writing(current_user, case_id)
    form = NoteForm()
    error = None
    if form.validate_on_submit():
        try:
            note = notes.write_note(current_user, case.id, notes.NewNote(
                kind=form.kind.data or "", sensitivity=form.sensitivity.data or "", body=form.body.data or ""))
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Note saved.", "success")
            return redirect(url_for("notes.detail", note_id=note.id))
    failed = bool(form.errors or error)
    return render_template("cases/notes/new.html", **_context(case=case, form=form, error=error)), \
        (400 if failed else 200)


@bp.get("/notes/<note_id>")
@requires(Permission.CASE_NOTES_READ)
def detail(note_id):
    try:
        shown = notes.read_note(current_user, note_id)
    except notes.RestrictedNote as exc:
        db.session.commit()  # the refused read is recorded too
        return render_template("cases/notes/restricted.html", **_context(note=exc.note, case=exc.case,
                                                                          message=exc.message)), 403
    case, via_grant = notes.case_access(current_user, shown.note.case_id)
    may_write = not via_grant and policies.may_write_note(current_user, case)
    db.session.commit()
    return render_template("cases/notes/detail.html", **_context(shown=shown, case=case, via_grant=via_grant,
                                                                 may_write=may_write))


@bp.route("/notes/<note_id>/addendum", methods=["GET", "POST"])
@requires(Permission.CASE_NOTES_WRITE)
def addendum(note_id):
    note, case = notes.note_for_addendum(current_user, note_id)
    form = AddendumForm()
    error = None
    if form.validate_on_submit():
        try:
            notes.add_addendum(current_user, note.id, form.body.data or "", bool(form.part2.data))
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Addendum saved.", "success")
            return redirect(url_for("notes.detail", note_id=note.id))
    failed = bool(form.errors or error)
    return render_template("cases/notes/addendum.html", **_context(note=note, case=case, form=form, error=error)), \
        (400 if failed else 200)
