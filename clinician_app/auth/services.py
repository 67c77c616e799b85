"""Sign-in, MFA, passwords and account administration: the only code that changes users."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from clinician_app.agencies.models import Agency
from clinician_app.core import audit
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.core.policy import Permission, Role, require
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db

from . import mfa, passwords, sessions
from .models import API_SCOPES, ApiClient, RecoveryCode, SignInFailure, User, UserRole

GENERIC_FAILURE = "The username or password is incorrect."
LOCKED_MESSAGE = (
    "This account is locked after repeated failed sign-ins. "
    "Ask your administrator to unlock it."
)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")


class SignInRefused(Exception):
    def __init__(self, message: str, *, locked: bool = False):
        super().__init__(message)
        self.message = message
        self.locked = locked


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()[:80]


def find_user(username: str) -> User | None:
    return db.session.execute(select(User).where(User.username == normalise_username(username))).scalar_one_or_none()


# --- sign-in ------------------------------------------------------------------

def _recent_failures(username_key: str) -> int:
    window = timedelta(minutes=current_app.config["LOCKOUT_WINDOW_MINUTES"])
    return db.session.execute(
        select(func.count()).select_from(SignInFailure).where(
            SignInFailure.username_key == username_key, SignInFailure.failed_at > utcnow() - window
        )
    ).scalar_one()


def _is_locked(username_key: str, user: User | None) -> bool:
    if user is not None and user.locked_at is not None:
        return True
    return _recent_failures(username_key) >= current_app.config["LOCKOUT_THRESHOLD"]


def _record_failure(username_key: str, user: User | None, remote_addr: str | None, stage: str) -> bool:
    """Count a failure; lock the account at the threshold. Returns True if now locked."""
    db.session.add(SignInFailure(username_key=username_key, remote_addr=remote_addr, stage=stage))
    db.session.flush()
    locked_now = _recent_failures(username_key) >= current_app.config["LOCKOUT_THRESHOLD"]
    audit.record(
        "auth.signin_failed", actor=user, actor_username=username_key if user else None,
        outcome="failure", details={"stage": stage, "known_user": user is not None},
    )
    if locked_now and user is not None and user.locked_at is None:
        user.locked_at = utcnow()
        sessions.revoke_all(user.id, "locked")
        audit.record("auth.account_locked", actor=user, record_type="user", record_id=user.id, outcome="failure")
    return locked_now


def check_password_step(username: str, password: str, remote_addr: str | None) -> User:
    """First factor. The reply is the same whether or not the user exists."""
    key = normalise_username(username)
    user = find_user(key)
    if _is_locked(key, user):
        passwords.verify_password(None, password)  # same work as a real check
        raise SignInRefused(LOCKED_MESSAGE, locked=True)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        locked = _record_failure(key, user, remote_addr, "password")
        raise SignInRefused(LOCKED_MESSAGE if locked else GENERIC_FAILURE, locked=locked)
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        audit.record("auth.password_rehashed", actor=user, record_type="user", record_id=user.id)
    return user


def check_second_factor(user: User, code: str, remote_addr: str | None) -> None:
    """TOTP code or a single-use recovery code; failures count towards the lockout."""
    if _is_locked(user.username, user) or not user.is_active:
        raise SignInRefused(LOCKED_MESSAGE, locked=True)
    secret = _totp_secret(user)
    counter = mfa.match_totp(secret, code, user.totp_last_counter) if secret else None
    if counter is not None:
        user.totp_last_counter = counter
        return
    looks_like_totp = (code or "").strip().isdigit() and len((code or "").strip()) == 6
    if code and not looks_like_totp:
        recovery = db.session.execute(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == mfa.hash_recovery_code(code),
                RecoveryCode.used_at.is_(None),
            )
        ).scalar_one_or_none()
        if recovery is not None:
            recovery.used_at = utcnow()
            audit.record("auth.recovery_code_used", actor=user, record_type="user", record_id=user.id)
            return
    locked = _record_failure(user.username, user, remote_addr, "totp")
    raise SignInRefused(LOCKED_MESSAGE if locked else "That code is not valid. Enter the current 6-digit code.", locked=locked)


def complete_sign_in(user: User, remote_addr: str | None) -> str:
    """Both factors passed: start a fresh server-side session (a new id every sign-in)."""
    db.session.execute(delete(SignInFailure).where(SignInFailure.username_key == user.username))
    user.last_sign_in_at = utcnow()
    token = sessions.start_session(user, remote_addr)
    audit.record("auth.signin", actor=user, record_type="user", record_id=user.id)
    return token


def sign_out(user: User, session_record, everywhere: bool = False) -> None:
    if everywhere:
        count = sessions.revoke_all(user.id, "signout_all")
        audit.record("auth.signout_all", actor=user, record_type="user", record_id=user.id, details={"sessions": count})
    elif session_record is not None:
        sessions.revoke(session_record, "signout")
        audit.record("auth.signout", actor=user, record_type="user", record_id=user.id)


# --- MFA enrolment --------------------------------------------------------------

def _totp_secret(user: User) -> str | None:
    return user.totp_secret or None


def _set_totp_secret(user: User, secret: str | None) -> None:
    user.totp_secret = secret or None


def pending_enrolment_secret(user: User) -> str:
    """The unconfirmed secret shown at enrolment, created on first visit."""
    if user.mfa_enrolled:
        raise Conflict("Two-step verification is already set up for this account.")
    secret = _totp_secret(user)
    if secret is None:
        secret = mfa.new_secret()
        _set_totp_secret(user, secret)
        db.session.flush()
    return secret


def confirm_enrolment(user: User, code: str) -> list[str]:
    secret = pending_enrolment_secret(user)
    counter = mfa.match_totp(secret, code, user.totp_last_counter)
    if counter is None:
        raise ValidationError("That code does not match. Check your device's clock and try the current code.",
                              fields={"code": ["That code does not match."]})
    user.totp_last_counter = counter
    user.totp_confirmed_at = utcnow()
    codes = _replace_recovery_codes(user)
    audit.record("auth.mfa_enrolled", actor=user, record_type="user", record_id=user.id)
    return codes


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = mfa.new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=mfa.hash_recovery_code(c)) for c in codes)
    db.session.flush()
    return codes


def remaining_recovery_codes(user: User) -> int:
    return db.session.execute(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).scalar_one()


# --- passwords -----------------------------------------------------------------

def _check_new_password(user_or_name, new_password: str, confirm: str | None = None) -> None:
    username = getattr(user_or_name, "username", user_or_name)
    problems = passwords.password_problems(new_password, username)
    if confirm is not None and confirm != new_password:
        problems.append("The two passwords do not match.")
    if problems:
        raise ValidationError("Choose a different password.", fields={"new_password": problems})


def change_password(user: User, current: str, new_password: str, confirm: str) -> None:
    """Changing the password ends every session of the user, this one included."""
    if not passwords.verify_password(user.password_hash, current):
        raise ValidationError("Your current password is not correct.", fields={"current_password": ["Not correct."]})
    _check_new_password(user, new_password, confirm)
    if passwords.verify_password(user.password_hash, new_password):
        raise ValidationError("Choose a password you are not using now.", fields={"new_password": ["Same as the current password."]})
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    user.must_change_password = False
    sessions.revoke_all(user.id, "password_changed")
    audit.record("auth.password_changed", actor=user, record_type="user", record_id=user.id)


# --- administration (admin role; scoped to the admin's agency) --------------------

@dataclass
class NewUser:
    username: str
    display_name: str
    email: str | None
    agency_id: str
    roles: list[str]
    password: str | None = None  # None: generate a temporary one


def _admin_scope(actor: User, target: User) -> None:
    require(actor, Permission.ADMIN_USERS)
    if target.agency_id != actor.agency_id and not actor.agency.is_bhu:
        raise NotFound("That user was not found.")


def visible_users_query(actor: User):
    require(actor, Permission.ADMIN_USERS)
    stmt = select(User).order_by(User.username)
    if not actor.agency.is_bhu:
        stmt = stmt.where(User.agency_id == actor.agency_id)
    return stmt


USER_STATUSES = {"active": "Active", "disabled": "Disabled", "locked": "Locked"}


def find_users_for_admin(actor: User, *, search: str | None = None, role: str | None = None,
                         status: str | None = None):
    """The users an admin may manage, narrowed by the console's filters (empty means any)."""
    stmt = visible_users_query(actor)
    term = (search or "").strip()
    if term:
        stmt = stmt.where(User.username.icontains(term, autoescape=True) | User.display_name.icontains(term, autoescape=True))
    if role:
        if role not in {r.value for r in Role}:
            raise ValidationError("Unknown role.", fields={"role": ["Unknown role."]})
        stmt = stmt.where(User.role_rows.any(UserRole.role == role))
    if status == "active":
        stmt = stmt.where(User.disabled_at.is_(None), User.locked_at.is_(None))
    elif status == "disabled":
        stmt = stmt.where(User.disabled_at.is_not(None))
    elif status == "locked":
        stmt = stmt.where(User.locked_at.is_not(None))
    elif status:
        raise ValidationError("Unknown status.", fields={"status": ["Unknown status."]})
    return stmt


def get_user_for_admin(actor: User, user_id: str) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("That user was not found.")
    _admin_scope(actor, user)
    return user


def _validate_roles(roles) -> list[str]:
    valid = {r.value for r in Role}
    chosen = sorted(set(roles or []))
    if not chosen:
        raise ValidationError("Choose at least one role.", fields={"roles": ["Choose at least one role."]})
    bad = [r for r in chosen if r not in valid]
    if bad:
        raise ValidationError("Unknown role.", fields={"roles": ["Unknown role."]})
    return chosen


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(actor: User | None, data: NewUser) -> tuple[User, str]:
    """Create an account (actor None only for the CLI run by the operator)."""
    errors: dict[str, list[str]] = {}
    username = normalise_username(data.username)
    if not USERNAME_RE.match(username):
        errors["username"] = ["Use 3-80 lowercase letters, digits, dots, dashes or underscores."]
    elif find_user(username) is not None:
        errors["username"] = ["That username is taken."]
    if not (data.display_name or "").strip():
        errors["display_name"] = ["Enter the person's name as colleagues know it."]
    agency = db.session.get(Agency, data.agency_id) if data.agency_id else None
    if agency is None:
        errors["agency_id"] = ["Choose an agency."]
    if actor is not None:
        require(actor, Permission.ADMIN_USERS)
        if agency is not None and agency.id != actor.agency_id and not actor.agency.is_bhu:
            errors["agency_id"] = ["You may add users to your own agency only."]
    try:
        roles = _validate_roles(data.roles)
    except ValidationError as exc:
        errors.update(exc.fields)
        roles = []
    password = data.password or temporary_password()
    if data.password:
        problems = passwords.password_problems(password, username)
        if problems:
            errors["password"] = problems
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)
    user = User(
        username=username,
        display_name=data.display_name.strip(),
        email=(data.email or "").strip() or None,
        agency_id=agency.id,
        password_hash=passwords.hash_password(password),
        must_change_password=data.password is None,
        role_rows=[UserRole(role=r) for r in roles],
    )
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", actor=actor, agency_id=agency.id, record_type="user", record_id=user.id,
                 details={"roles": roles}, actor_username=None if actor else "cli")
    return user, password


def set_roles(actor: User, user: User, roles) -> None:
    _admin_scope(actor, user)
    chosen = _validate_roles(roles)
    if user.id == actor.id and Role.ADMIN.value not in chosen:
        raise ValidationError("You cannot remove your own administrator role.", fields={"roles": ["Keep your admin role."]})
    before = user.roles
    user.role_rows = [UserRole(role=r) for r in chosen]
    db.session.flush()
    audit.record("user.roles_changed", actor=actor, agency_id=user.agency_id, record_type="user", record_id=user.id,
                 details={"before": before, "after": chosen})


def update_profile(actor: User, user: User, display_name: str, email: str | None) -> None:
    _admin_scope(actor, user)
    if not (display_name or "").strip():
        raise ValidationError("Enter a name.", fields={"display_name": ["Enter a name."]})
    user.display_name = display_name.strip()
    user.email = (email or "").strip() or None
    audit.record("user.updated", actor=actor, agency_id=user.agency_id, record_type="user", record_id=user.id)


def disable_user(actor: User, user: User, reason: str) -> None:
    _admin_scope(actor, user)
    if user.id == actor.id:
        raise Conflict("You cannot disable your own account.")
    if not (reason or "").strip():
        raise ValidationError("Give a reason.", fields={"reason": ["Give a reason for disabling the account."]})
    user.disabled_at = utcnow()
    user.disabled_reason = reason.strip()[:200]
    sessions.revoke_all(user.id, "disabled")
    audit.record("user.disabled", actor=actor, agency_id=user.agency_id, record_type="user", record_id=user.id)


def enable_user(actor: User, user: User) -> None:
    _admin_scope(actor, user)
    user.disabled_at = None
    user.disabled_reason = None
    audit.record("user.enabled", actor=actor, agency_id=user.agency_id, record_type="user", record_id=user.id)


def unlock_user(actor: User, user: User) -> None:
    _admin_scope(actor, user)
    user.locked_at = None
    db.session.execute(delete(SignInFailure).where(SignInFailure.username_key == user.username))
    audit.record("user.unlocked", actor=actor, agency_id=user.agency_id, record_type="user", record_id=user.id)


def reset_mfa(actor: User, user: User) -> None:
    """The user enrols a new device at next sign-in; their sessions end now."""
    _admin_scope(actor, user)
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_counter = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    sessions.revoke_all(user.id, "mfa_reset")
    audit.record("user.mfa_reset", actor=actor, agency_id=user.agency_id, record_type="user", record_id=user.id)


def force_password_change(actor: User, user: User) -> str:
    """Issue a temporary password (shown once) that must be changed at next sign-in."""
    _admin_scope(actor, user)
    temp = temporary_password()
    user.password_hash = passwords.hash_password(temp)
    user.must_change_password = True
    sessions.revoke_all(user.id, "password_reset")
    audit.record("user.password_reset", actor=actor, agency_id=user.agency_id, record_type="user", record_id=user.id)
    return temp


def disable_inactive_accounts(days: int | None = None) -> list[str]:
    """Disable accounts unused for ``days`` (default INACTIVE_ACCOUNT_DAYS); returns their ids."""
    days = days or current_app.config["INACTIVE_ACCOUNT_DAYS"]
    cutoff = utcnow() - timedelta(days=days)
    users = db.session.execute(select(User).where(User.disabled_at.is_(None))).scalars()
    disabled = []
    for user in users:
        last = as_utc(user.last_sign_in_at or user.created_at)
        if last < cutoff:
            user.disabled_at = utcnow()
            user.disabled_reason = f"unused for {days} days"
            sessions.revoke_all(user.id, "inactive")
            audit.record("user.disabled_inactive", agency_id=user.agency_id, record_type="user", record_id=user.id,
                         actor_username="system")
            disabled.append(user.id)
    return disabled


# --- API clients ----------------------------------------------------------------

TOKEN_PREFIX = "cat_"  # noqa: S105 - a public marker, not a secret


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def visible_api_clients_query(actor: User):
    require(actor, Permission.ADMIN_API_CLIENTS)
    return select(ApiClient).where(ApiClient.agency_id == actor.agency_id).order_by(ApiClient.created_at.desc())


def create_api_client(actor: User | None, name: str, scopes, expires_in_days: int | None,
                      agency_id: str | None = None, token: str | None = None) -> tuple[ApiClient, str]:
    """The token is returned once, here; only its hash is kept.

    ``token`` is for the demo seed only (no actor), which derives its demo
    tokens from the install's secret key so re-runs print the same ones."""
    if actor is not None:
        require(actor, Permission.ADMIN_API_CLIENTS)
        agency_id = actor.agency_id
    if token is not None and (actor is not None or not token.startswith(TOKEN_PREFIX) or len(token) < 40):
        raise ValueError("a given token is for the demo seed: no actor, and a long 'cat_' token")
    errors = {}
    if not (name or "").strip():
        errors["name"] = ["Name the system that will use this key (e.g. 'CAD production')."]
    chosen = sorted(set(scopes or []))
    if not chosen or any(s not in API_SCOPES for s in chosen):
        errors["scopes"] = ["Choose at least one permitted action."]
    if expires_in_days is not None and not (1 <= expires_in_days <= 730):
        errors["expires_in_days"] = ["Choose between 1 and 730 days."]
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)
    token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name.strip(), agency_id=agency_id, token_prefix=token[:12], token_hash=_token_hash(token),
        scopes=" ".join(chosen), created_by_id=getattr(actor, "id", None),
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(client)
    db.session.flush()
    audit.record("api_client.create", actor=actor, agency_id=agency_id, record_type="api_client", record_id=client.id,
                 details={"scopes": chosen}, actor_username=None if actor else "cli")
    return client, token


def get_api_client_for_admin(actor: User, client_id: str) -> ApiClient:
    require(actor, Permission.ADMIN_API_CLIENTS)
    client = db.session.get(ApiClient, client_id)
    if client is None or client.agency_id != actor.agency_id:
        raise NotFound("That API client was not found.")
    return client


def revoke_api_client(actor: User, client: ApiClient) -> None:
    if client.agency_id != actor.agency_id:
        raise PermissionDenied("Not your agency's client.")
    if client.revoked_at is None:
        client.revoked_at = utcnow()
        audit.record("api_client.revoke", actor=actor, record_type="api_client", record_id=client.id)


def authenticate_api_token(token: str | None) -> ApiClient | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    client = db.session.execute(select(ApiClient).where(ApiClient.token_hash == _token_hash(token))).scalar_one_or_none()
    if client is None or not client.is_usable(utcnow()):
        return None
    return client
