"""Break the glass: ask for time-limited access to a case outside one's scope,
giving a reason; the owning agency's supervisors review each use."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from clinician_app.core.errors import ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, requires
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from . import break_glass, policies
from .break_glass_models import BREAK_GLASS_REASONS, REVIEW_OUTCOMES
from .note_forms import BreakGlassForm, ReviewForm
from .notes_views import case_url

bp = Blueprint("break_glass", __name__, url_prefix="/break-glass")


@bp.route("/cases/<case_id>", methods=["GET", "POST"])
@requires(Permission.BREAK_GLASS)
def request_access(case_id):
    case = break_glass.case_for_break_glass(current_user, case_id)
    if not policies.may_break_glass(current_user, case):
        return redirect(case_url(case.id))  # in scope already: no glass to break
    if break_glass.active_grant(current_user, case.id):
        return redirect(case_url(case.id))
    form = BreakGlassForm()
    error = None
    if form.validate_on_submit():
        try:
            grant = break_glass.break_glass(current_user, case.id, form.reason_code.data or "",
                                            form.reason_text.data or "")
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(f"Access granted for {break_glass.grant_minutes()} minutes. This use is recorded and will be "
                  "reviewed by a supervisor of the agency that owns the record.", "warning")
            return redirect(case_url(grant.case_id))
    failed = bool(form.errors or error)
    return render_template("break_glass/request.html", case=case, form=form, error=error,
                           minutes=break_glass.grant_minutes()), (400 if failed else 200)


@bp.get("/review")
@requires(Permission.BREAK_GLASS_REVIEW)
def review_list():
    rows = break_glass.review_list(current_user)
    return render_template("break_glass/review_list.html", rows=rows, reasons=BREAK_GLASS_REASONS,
                           outcomes=REVIEW_OUTCOMES)


@bp.route("/review/<grant_id>", methods=["GET", "POST"])
@requires(Permission.BREAK_GLASS_REVIEW)
def review(grant_id):
    grant = break_glass.grant_for_review(current_user, grant_id)
    form = ReviewForm()
    error = None
    if form.validate_on_submit():
        try:
            break_glass.review(current_user, grant.id, form.outcome.data or "", form.comment.data or "")
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Review recorded.", "success")
            return redirect(url_for("break_glass.review_list"))
    grant = break_glass.grant_for_review(current_user, grant_id)  # reloaded after a rollback
    reason_text = break_glass.read_reason(current_user, grant)
    review_comment = grant.review_comment if grant.reviewed_at else None
    db.session.commit()
    failed = bool(form.errors or error)
    return render_template("break_glass/review.html", grant=grant, form=form, error=error, reason_text=reason_text,
                           review_comment=review_comment, reasons=BREAK_GLASS_REASONS, outcomes=REVIEW_OUTCOMES,
                           may_review=policies.may_review_grant(current_user, grant), now=utcnow()), \
        (400 if failed else 200)
