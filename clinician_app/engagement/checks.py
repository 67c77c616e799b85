"""Checks of what was typed into the engagement forms, shared by every kind of
record: each check puts its message under the field's name in ``errors``, and
``raise_if`` turns them into one ``ValidationError``. Also who may be named as
officers on a visit, event or session."""
from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clinician_app.auth.models import User, UserRole
from clinician_app.core.errors import ValidationError
from clinician_app.core.policy import Role
from clinician_app.core.text import clean_text, has_control_characters
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from .models import MAX_COUNT, URL_MAX

EARLIEST = date(2000, 1, 1)
LATEST_AHEAD = timedelta(days=3 * 366)  # events and sessions may be planned ahead
OFFICER_ROLES = (Role.OFFICER.value, Role.ENGAGEMENT.value)


def text(value, limit: int, name: str, errors: dict, *, required: str | None = None,
         multiline: bool = False) -> str | None:
    """``clean_text``, but single-line unless asked, and a blank is None (stored as NULL)."""
    return clean_text(value, limit, name, errors, required=required, multiline=multiline) or None


def code(value, choices: dict, name: str, errors: dict, message: str) -> str:
    if value not in choices:
        errors[name] = [message]
    return value or ""


def count(value, name: str, errors: dict, *, what: str) -> int | None:
    """A whole number of people (or reach), if given: none below zero."""
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = [f"Enter the {what} as a whole number, like 25."]
        return None
    if number < 0:
        errors[name] = [f"The {what} can't be below zero."]
    elif number > MAX_COUNT:
        errors[name] = [f"Enter a {what} of at most {MAX_COUNT:,}."]
    return number


def day(value, name: str, errors: dict, *, required: str, today: date | None = None,
        not_future: bool = False) -> date | None:
    if not isinstance(value, date):
        errors[name] = [required]
        return None
    if value < EARLIEST:
        errors[name] = ["Enter a date after the year 2000."]
    elif today is not None and not_future and value > today:
        errors[name] = ["That date is in the future."]
    elif today is not None and value > today + LATEST_AHEAD:
        errors[name] = ["Enter a date within the next three years."]
    return value


def web_link(value, name: str, errors: dict) -> str | None:
    typed = value.strip() if isinstance(value, str) else ""
    if not typed:
        return None
    message = "Enter a full web address starting with https://, like https://www.facebook.com/ChelmsfordPD."
    if len(typed) > URL_MAX:
        errors[name] = [f"Use at most {URL_MAX} characters."]
        return typed
    try:
        parts = urlsplit(typed)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if (parts is None or parts.scheme not in ("http", "https") or "." not in host or any(c.isspace() for c in typed)
            or has_control_characters(typed) or parts.username or parts.password):
        errors[name] = [message]
    return typed


def agency_today(actor) -> date:
    return utcnow().astimezone(ZoneInfo(actor.agency.timezone)).date()


def raise_if(errors: dict) -> None:
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)


def agency_officers(agency_id: str) -> list[User]:
    """Who may be named on a visit, event or session: the agency's active officers
    and engagement staff, by name."""
    stmt = (select(User).join(UserRole, UserRole.user_id == User.id)
            .where(User.agency_id == agency_id, User.disabled_at.is_(None), UserRole.role.in_(OFFICER_ROLES))
            .order_by(User.display_name))
    return list(db.session.execute(stmt).scalars().unique())


def chosen_officers(agency_id: str, ids, errors: dict, *, required: bool) -> list[User]:
    eligible = {u.id: u for u in agency_officers(agency_id)}
    chosen = [eligible[i] for i in dict.fromkeys(ids or []) if i in eligible]
    if len(chosen) != len(set(ids or [])):
        errors["officer_ids"] = ["Choose officers of your agency from the list."]
    elif required and not chosen:
        errors["officer_ids"] = ["Choose at least one officer."]
    return chosen
