"""The auditor's console: the audit trail, its filters and export, and chain verification."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from clinician_app.core.csv_export import csv_response
from clinician_app.core.errors import ValidationError
from clinician_app.core.policy import Permission, requires
from clinician_app.extensions import db

from . import services
from .forms import AuditFilterForm

bp = Blueprint("auditor", __name__, url_prefix="/audit")


def _read_filter(form: AuditFilterForm) -> services.AuditFilter | None:
    """The cleaned filter, or None with the problems set on the form's fields."""
    if not form.validate():
        return None
    try:
        return services.clean_filter(current_user, form.as_filter())
    except ValidationError as exc:
        for name, errors in exc.fields.items():
            getattr(form, name).errors = list(errors)
        return None


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.set_action_choices(services.known_actions(current_user))
    return form


def _cursor(name: str) -> int | None:
    """A page cursor is an event number; anything else (or beyond a 32-bit
    integer, which SQLite can't bind) just means "the newest page"."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value < 2**31 else None


def _render_trail(form, flt, page, status=200):
    return render_template("auditor/events.html", form=form, flt=flt, page=page), status


@bp.get("/")
@requires(Permission.AUDIT_READ)
def events():
    form = _filter_form()
    flt = _read_filter(form)
    if flt is None:
        return _render_trail(form, None, None, 400)
    page = services.list_events(current_user, flt, older_than=_cursor("older_than"), newer_than=_cursor("newer_than"))
    return _render_trail(form, flt, page)


@bp.get("/export.csv")
@requires(Permission.AUDIT_READ)
def export():
    form = _filter_form()
    flt = _read_filter(form)
    if flt is None:
        return _render_trail(form, None, None, 400)
    result = services.export_events(current_user, flt)
    db.session.commit()  # the export is on record before the first byte leaves
    return csv_response(result.lines, result.filename)


@bp.post("/verify")
@requires(Permission.AUDIT_READ)
def verify():
    result = services.verify_trail(current_user)
    db.session.commit()
    return render_template("auditor/verify.html", result=result), 200
