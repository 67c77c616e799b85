"""Sign-in (password, then TOTP), enrolment, sign-out and password change."""
import time

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from clinician_app.core.errors import ValidationError
from clinician_app.core.policy import Permission, public, requires
from clinician_app.extensions import db, limiter

from . import mfa, services
from .forms import ChangePasswordForm, CodeForm, LoginForm
from .models import User

bp = Blueprint("auth", __name__, url_prefix="/auth")

PENDING_SECONDS = 300
SESSION_END_NOTICES = {
    "idle": "You were signed out after a period without activity.",
    "expired": "Your session reached its maximum length. Sign in again.",
    "revoked": "Your session has ended. Sign in again.",
    "disabled": "Your session has ended. Sign in again.",
}


def _signin_limit() -> str:
    return current_app.config["RATELIMIT_SIGNIN"]


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _pending_user() -> User | None:
    user_id = session.get("pending_user")
    started = session.get("pending_at", 0)
    if not user_id or time.time() - started > PENDING_SECONDS:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active else None


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(_signin_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    next_url = _safe_next(request.args.get("next"))
    notice = SESSION_END_NOTICES.get(g.get("session_end_reason") or request.args.get("ended", ""))
    error = None
    if form.validate_on_submit():
        try:
            user = services.check_password_step(form.username.data, form.password.data, request.remote_addr)
        except services.SignInRefused as refused:
            db.session.commit()  # failures and lockouts are kept
            error = refused.message
        else:
            db.session.commit()
            session.clear()
            session["pending_user"] = user.id
            session["pending_at"] = time.time()
            session["pending_next"] = next_url
            return redirect(url_for("auth.verify" if user.mfa_enrolled else "auth.enrol"))
    status = 200 if error is None and not form.errors else 400 if form.errors else 401
    return render_template("auth/login.html", form=form, next=next_url, error=error, notice=notice), status


@bp.route("/verify", methods=["GET", "POST"])
@public
@limiter.limit(_signin_limit, methods=["POST"])
def verify():
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if not user.mfa_enrolled:
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            services.check_second_factor(user, form.code.data, request.remote_addr)
        except services.SignInRefused as refused:
            db.session.commit()
            if refused.locked:
                session.clear()
                return render_template("auth/login.html", form=LoginForm(formdata=None), next=None,
                                       error=refused.message, notice=None), 401
            error = refused.message
        else:
            return _finish_sign_in(user)
    return render_template("auth/verify.html", form=form, error=error), (401 if error else 200)


def _finish_sign_in(user: User):
    next_url = session.get("pending_next")
    token = services.complete_sign_in(user, request.remote_addr)
    db.session.commit()
    session.clear()  # a fresh session id at every sign-in
    session["sid"] = token
    return redirect(next_url or url_for("home.index"))


@bp.route("/enrol", methods=["GET", "POST"])
@public
@limiter.limit(_signin_limit, methods=["POST"])
def enrol():
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if user.mfa_enrolled:
        return redirect(url_for("auth.verify"))
    secret = services.pending_enrolment_secret(user)
    db.session.commit()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = services.confirm_enrolment(user, form.code.data)
        except ValidationError as exc:
            db.session.rollback()
            form.code.errors = list(exc.fields.get("code", [exc.message]))
        else:
            next_url = session.get("pending_next")
            token = services.complete_sign_in(user, request.remote_addr)
            db.session.commit()
            session.clear()
            session["sid"] = token
            return render_template("auth/recovery_codes.html", codes=codes, next_url=next_url or url_for("home.index"))
    uri = mfa.provisioning_uri(secret, user.username)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("auth/enrol.html", form=form, qr=mfa.qr_svg(uri), secret_grouped=grouped), (
        400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
@requires(Permission.SIGNED_IN)
def logout():
    services.sign_out(current_user, g.get("user_session"))
    db.session.commit()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/logout-everywhere", methods=["POST"])
@requires(Permission.SIGNED_IN)
def logout_everywhere():
    services.sign_out(current_user, g.get("user_session"), everywhere=True)
    db.session.commit()
    session.clear()
    flash("You have signed out on every device.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@requires(Permission.SIGNED_IN)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data, form.confirm.data)
        except ValidationError as exc:
            db.session.rollback()
            for name, errors in exc.fields.items():
                getattr(form, name).errors = list(errors)
        else:
            db.session.commit()
            session.clear()
            flash("Password changed. Sign in again with your new password.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/change_password.html", form=form), (400 if form.errors else 200)


@bp.route("/account")
@requires(Permission.SIGNED_IN)
def account():
    return render_template("auth/account.html", recovery_left=services.remaining_recovery_codes(current_user))
