"""Roster pages: the week view with who is on duty now, and (supervisors) adding
and removing shifts. Times are entered and shown in the agency's time zone."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TimeField

from clinician_app.core.errors import ValidationError
from clinician_app.core.policy import Permission, has_permission, requires
from clinician_app.extensions import db

from . import roster

bp = Blueprint("roster", __name__, url_prefix="/roster")


class ShiftForm(FlaskForm):
    user_id = SelectField("Clinician", choices=[], validate_choice=False)
    day = DateField("Date", description="The day the shift starts.")
    starts_at = TimeField("Starts")
    ends_at = TimeField("Ends", description="An end at or before the start means the next day.")


def _week_arg() -> tuple[date | None, str | None]:
    raw = request.args.get("week", "")
    if not raw:
        return None, None
    try:
        return date.fromisoformat(raw[:10]), None
    except ValueError:
        return None, "That week is not a date like 2025-03-31; showing this week."


def _render(form=None, error=None, day=None, status=200):
    week = roster.roster_week(current_user, day)
    editing = has_permission(current_user, Permission.ROSTER_EDIT)
    if editing and form is None:
        form = ShiftForm()
        form.day.data = week.start if day else datetime.now().date()
    if form is not None:
        form.user_id.choices = [("", "- Choose -")] + [
            (u.id, u.display_name) for u in roster.rosterable_users(week.agency)]
    return render_template("roster/week.html", week=week, form=form, error=error, editing=editing), status


@bp.get("")
@requires(Permission.ROSTER_VIEW)
def week():
    day, problem = _week_arg()
    if problem:
        flash(problem, "warning")
    return _render(day=day)


@bp.post("/shifts")
@requires(Permission.ROSTER_EDIT)
def add_shift():
    form = ShiftForm()
    error = None
    if form.validate_on_submit():
        tz = current_user.agency.timezone
        try:
            starts = roster.local_to_utc(form.day.data, form.starts_at.data, tz, "starts_at")
            end_day = form.day.data + timedelta(days=1) if form.ends_at.data <= form.starts_at.data else form.day.data
            ends = roster.local_to_utc(end_day, form.ends_at.data, tz, "ends_at")
            roster.add_shift(current_user, {"user_id": form.user_id.data, "starts_at": starts, "ends_at": ends})
        except ValidationError as exc:
            db.session.rollback()
            for name, messages in exc.fields.items():
                if name in form:
                    form[name].errors = [*form[name].errors, *messages]
            error = exc.message
        else:
            db.session.commit()
            flash("Shift added.", "success")
            return redirect(url_for("roster.week", week=form.day.data.isoformat()), 303)
    else:
        for name, label in (("day", "Enter the date."), ("starts_at", "Enter a time."), ("ends_at", "Enter a time.")):
            if form[name].data is None and not form[name].errors:
                form[name].errors = [label]
    return _render(form=form, error=error, day=form.day.data, status=400)


@bp.post("/shifts/<shift_id>/delete")
@requires(Permission.ROSTER_EDIT)
def delete_shift(shift_id):
    roster.delete_shift(current_user, shift_id)
    db.session.commit()
    flash("Shift removed.", "success")
    week = request.form.get("week", "")[:10]
    try:
        date.fromisoformat(week)
    except ValueError:
        week = None
    return redirect(url_for("roster.week", week=week) if week else url_for("roster.week"), 303)
