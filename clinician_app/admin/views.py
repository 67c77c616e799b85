"""The admin console: users, agencies and API clients (no clinical content).

Separation of duties (SECURITY.md promise 2): nothing here reads a clinical
table. Temporary passwords and API tokens are rendered straight into the
response that created them, never flashed (the flash lives in the cookie) and
never stored in plain text, so each is seen exactly once.
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.agencies import services as agency_services
from clinician_app.agencies.models import AGENCY_KINDS, Agency
from clinician_app.agencies.policies import may_create_agency, may_edit_agency
from clinician_app.auth import services as auth_services
from clinician_app.auth.models import API_SCOPES
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, requires
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db

from . import forms

bp = Blueprint("admin", __name__, url_prefix="/admin")

USERS_PER_PAGE = 20




# --- users ----------------------------------------------------------------------

@bp.get("/users")
@requires(Permission.ADMIN_USERS)
def users():
    filters = forms.UserFilterForm(request.args)
    filters.validate()
    # A list page ignores a filter value it doesn't know rather than refusing the page.
    chosen = {name: ("" if filters[name].errors else (filters[name].data or "").strip()) for name in ("q", "role", "status")}
    stmt = auth_services.find_users_for_admin(current_user, search=chosen["q"], role=chosen["role"], status=chosen["status"])
    page = db.paginate(stmt, page=request.args.get("page", 1, type=int), per_page=USERS_PER_PAGE, error_out=False)
    return render_template("admin/users.html", filters=filters, page=page,
                           filter_args={k: v for k, v in chosen.items() if v},
                           show_agency=current_user.agency.is_bhu)


def _agency_choices() -> list[tuple[str, str]]:
    # Town administrators add users to their own department only; the BHU's to any agency.
    if current_user.agency.is_bhu:
        return [(a.id, a.name) for a in agency_services.list_agencies()]
    return [(current_user.agency_id, current_user.agency.name)]


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.ADMIN_USERS)
def new_user():
    form = forms.NewUserForm(agency_id=current_user.agency_id)
    form.agency_id.choices = _agency_choices()
    error = None
    if form.validate_on_submit():
        data = auth_services.NewUser(username=form.username.data, display_name=form.display_name.data,
                                     email=form.email.data, agency_id=form.agency_id.data, roles=form.roles.data)
        try:
            user, temporary = auth_services.create_user(current_user, data)
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            return render_template(
                "admin/secret.html", heading="User added",
                intro=f"The account {user.username} is ready. Give this temporary password to its holder in person or by phone; "
                      "they choose their own and set up two-step verification at first sign-in.",
                label="Temporary password", value=temporary,
                warning="This password is shown only now. If it is lost, issue a new one from the user's page.",
                next_url=url_for("admin.user", user_id=user.id), next_label="Go to the user's page",
            )
    failed = bool(form.errors or error)
    return render_template("admin/user_new.html", form=form, error=error), (400 if failed else 200)


def _user_page(target, status: int = 200, *, roles_form=None, profile_form=None, disable_form=None, error=None):
    """The user page; a failed action re-renders it with its own form's errors."""
    return render_template(
        "admin/user.html",
        user=target,
        roles_form=roles_form or forms.RolesForm(formdata=None, roles=target.roles),
        profile_form=profile_form or forms.ProfileForm(formdata=None, obj=target),
        disable_form=disable_form or forms.DisableForm(formdata=None),
        error=error,
    ), status


@bp.get("/users/<user_id>")
@requires(Permission.ADMIN_USERS)
def user(user_id):
    return _user_page(auth_services.get_user_for_admin(current_user, user_id))


def _done(target, message: str):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.user", user_id=target.id))


@bp.post("/users/<user_id>/roles")
@requires(Permission.ADMIN_USERS)
def user_roles(user_id):
    target = auth_services.get_user_for_admin(current_user, user_id)
    form = forms.RolesForm()
    error = None
    if form.validate_on_submit():
        try:
            auth_services.set_roles(current_user, target, form.roles.data)
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            return _done(target, "Roles saved.")
    return _user_page(target, 400, roles_form=form, error=error)


@bp.post("/users/<user_id>/profile")
@requires(Permission.ADMIN_USERS)
def user_profile(user_id):
    target = auth_services.get_user_for_admin(current_user, user_id)
    form = forms.ProfileForm()
    error = None
    if form.validate_on_submit():
        try:
            auth_services.update_profile(current_user, target, form.display_name.data, form.email.data)
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            return _done(target, "Name and email saved.")
    return _user_page(target, 400, profile_form=form, error=error)


@bp.post("/users/<user_id>/disable")
@requires(Permission.ADMIN_USERS)
def user_disable(user_id):
    target = auth_services.get_user_for_admin(current_user, user_id)
    form = forms.DisableForm()
    error, status = None, 400
    if form.validate_on_submit():
        try:
            auth_services.disable_user(current_user, target, form.reason.data)
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        except Conflict as exc:
            db.session.rollback()
            error, status = exc.message, 409
        else:
            return _done(target, "Account disabled. Its sessions have ended.")
    return _user_page(target, status, disable_form=form, error=error)


@bp.post("/users/<user_id>/enable")
@requires(Permission.ADMIN_USERS)
def user_enable(user_id):
    target = auth_services.get_user_for_admin(current_user, user_id)
    auth_services.enable_user(current_user, target)
    return _done(target, "Account enabled.")


@bp.post("/users/<user_id>/unlock")
@requires(Permission.ADMIN_USERS)
def user_unlock(user_id):
    target = auth_services.get_user_for_admin(current_user, user_id)
    auth_services.unlock_user(current_user, target)
    return _done(target, "Account unlocked.")


@bp.post("/users/<user_id>/reset-mfa")
@requires(Permission.ADMIN_USERS)
def user_reset_mfa(user_id):
    target = auth_services.get_user_for_admin(current_user, user_id)
    auth_services.reset_mfa(current_user, target)
    return _done(target, "Two-step verification reset. The user sets it up again at next sign-in.")


@bp.post("/users/<user_id>/reset-password")
@requires(Permission.ADMIN_USERS)
def user_reset_password(user_id):
    target = auth_services.get_user_for_admin(current_user, user_id)
    temporary = auth_services.force_password_change(current_user, target)
    db.session.commit()
    return render_template(
        "admin/secret.html", heading="Temporary password issued",
        intro=f"{target.username} is signed out everywhere and must choose a new password at next sign-in. "
              "Give them this temporary password in person or by phone.",
        label="Temporary password", value=temporary,
        warning="This password is shown only now. If it is lost, issue another one.",
        next_url=url_for("admin.user", user_id=target.id), next_label="Back to the user's page",
    )


# --- agencies -------------------------------------------------------------------

@bp.get("/agencies")
@requires(Permission.ADMIN_AGENCIES)
def agencies():
    items = agency_services.list_agencies()
    return render_template("admin/agencies.html", agencies=items, kinds=AGENCY_KINDS,
                           editable={a.id for a in items if may_edit_agency(current_user, a)},
                           may_create=may_create_agency(current_user))


def _agency_values(form) -> dict:
    values = {"name": form.name.data, "code": form.code.data, "timezone": form.timezone.data}
    values.update({name: form[name].data for name in agency_services.SETTING_RANGES if name in form})
    if "kind" in form:
        values["kind"] = form.kind.data
    return values


@bp.route("/agencies/new", methods=["GET", "POST"])
@requires(Permission.ADMIN_AGENCIES)
def new_agency():
    if not current_user.agency.is_bhu:
        raise PermissionDenied("Only the regional BHU's administrators add agencies.")
    form = forms.NewAgencyForm(timezone="America/New_York")
    error = None
    if form.validate_on_submit():
        try:
            agency = agency_services.create_agency(current_user, _agency_values(form))
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash(f"{agency.name} added.", "success")
            return redirect(url_for("admin.agencies"))
    failed = bool(form.errors or error)
    return render_template("admin/agency_form.html", form=form, agency=None, kinds=AGENCY_KINDS,
                           error=error), (400 if failed else 200)


@bp.route("/agencies/<agency_id>/edit", methods=["GET", "POST"])
@requires(Permission.ADMIN_AGENCIES)
def edit_agency(agency_id):
    agency = db.session.get(Agency, agency_id)
    if agency is None or not may_edit_agency(current_user, agency):
        raise NotFound("That agency was not found.")
    form = forms.AgencyForm(obj=agency)
    error = None
    if form.validate_on_submit():
        try:
            agency_services.update_agency(current_user, agency, _agency_values(form))
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Agency saved.", "success")
            return redirect(url_for("admin.agencies"))
    failed = bool(form.errors or error)
    return render_template("admin/agency_form.html", form=form, agency=agency, kinds=AGENCY_KINDS,
                           error=error), (400 if failed else 200)


# --- API clients ----------------------------------------------------------------

def _client_status(client, now) -> str:
    if client.revoked_at is not None:
        return "revoked"
    if client.expires_at is not None and as_utc(client.expires_at) <= now:
        return "expired"
    return "active"


@bp.get("/api-clients")
@requires(Permission.ADMIN_API_CLIENTS)
def api_clients():
    now = utcnow()
    clients = db.session.execute(auth_services.visible_api_clients_query(current_user)).scalars().all()
    return render_template("admin/api_clients.html", rows=[(c, _client_status(c, now)) for c in clients],
                           scope_labels=API_SCOPES)


@bp.route("/api-clients/new", methods=["GET", "POST"])
@requires(Permission.ADMIN_API_CLIENTS)
def new_api_client():
    form = forms.ApiClientForm()
    error = None
    if form.validate_on_submit():
        try:
            client, token = auth_services.create_api_client(current_user, form.name.data, form.scopes.data,
                                                            form.expires_in_days.data)
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            return render_template(
                "admin/secret.html", heading="API client created",
                intro=f"Enter this key in the settings of {client.name}. It acts for your agency only, and may:",
                items=[API_SCOPES[s] for s in client.scope_list],
                label="API key", value=token,
                warning="Copy the key now: it is shown only once. The app keeps only a fingerprint of it and cannot show "
                        "it again. If it is lost, revoke this client and create a new one.",
                next_url=url_for("admin.api_clients"), next_label="Back to API clients",
            )
    failed = bool(form.errors or error)
    return render_template("admin/api_client_new.html", form=form, error=error), (400 if failed else 200)


@bp.post("/api-clients/<client_id>/revoke")
@requires(Permission.ADMIN_API_CLIENTS)
def revoke_api_client(client_id):
    client = auth_services.get_api_client_for_admin(current_user, client_id)
    auth_services.revoke_api_client(current_user, client)
    db.session.commit()
    flash(f"API client {client.name} revoked. Its key no longer works.", "success")
    return redirect(url_for("admin.api_clients"))
