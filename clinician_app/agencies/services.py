"""Agency records: the only code that changes them."""
from zoneinfo import available_timezones

from sqlalchemy import func, select

from clinician_app.core import audit
from clinician_app.core.errors import Conflict, PermissionDenied, ValidationError
from clinician_app.core.policy import Permission, require
from clinician_app.extensions import db

from .models import AGENCY_KINDS, Agency
from .policies import may_create_agency, may_edit_agency


def list_agencies() -> list[Agency]:
    return list(db.session.execute(select(Agency).order_by(Agency.kind.desc(), Agency.name)).scalars())


def _validate(data: dict) -> dict:
    errors = {}
    name = (data.get("name") or "").strip()
    code = (data.get("code") or "").strip().upper()
    tz = (data.get("timezone") or "").strip()
    kind = data.get("kind") or "town"
    if not name:
        errors["name"] = ["Enter the agency's name."]
    if not code or not code.isalnum() or len(code) > 12:
        errors["code"] = ["Enter a short code of letters and digits (up to 12)."]
    if tz not in available_timezones():
        errors["timezone"] = ["Choose a time zone from the list (for example America/New_York)."]
    if kind not in AGENCY_KINDS:
        errors["kind"] = ["Choose a kind of agency."]
    settings = _validate_settings(data, errors)
    if errors:
        raise ValidationError("Please correct the highlighted fields.", fields=errors)
    return {"name": name, "code": code, "timezone": tz, "kind": kind, **settings}


# Working settings an admin tunes per agency: (lowest, highest, what the number means).
SETTING_RANGES = {
    "target_now_minutes": (1, 1440, "minutes"),
    "target_same_day_minutes": (1, 2880, "minutes"),
    "target_follow_up_minutes": (1, 43200, "minutes"),
    "repeat_contact_calls": (2, 50, "calls"),
    "repeat_contact_days": (7, 365, "days"),
}


def _validate_settings(data: dict, errors: dict) -> dict:
    """Queue targets and the repeat-contact rule; absent values keep their defaults."""
    settings = {}
    for name, (low, high, unit) in SETTING_RANGES.items():
        raw = data.get(name)
        if raw is None or raw == "":
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[name] = [f"Enter a whole number of {unit}."]
            continue
        if not low <= value <= high:
            errors[name] = [f"Choose between {low} and {high} {unit}."]
            continue
        settings[name] = value
    return settings


def _check_unique(values: dict, exclude_id: str | None = None) -> None:
    for column in ("name", "code"):
        stmt = select(func.count()).select_from(Agency).where(
            func.lower(getattr(Agency, column)) == values[column].lower()
        )
        if exclude_id:
            stmt = stmt.where(Agency.id != exclude_id)
        if db.session.execute(stmt).scalar():
            raise Conflict(f"An agency with that {column} already exists.", fields={column: [f"Another agency has this {column}."]})


def create_agency(actor, data: dict) -> Agency:
    require(actor, Permission.ADMIN_AGENCIES)
    # Agencies are regional settings: only the administrators of the BHU, which
    # hosts the regional deployment, add partner agencies.
    if not may_create_agency(actor):
        raise PermissionDenied("Only the regional BHU's administrators add agencies.")
    values = _validate(data)
    _check_unique(values)
    agency = Agency(**values)
    db.session.add(agency)
    db.session.flush()
    audit.record("agency.create", actor=actor, record_type="agency", record_id=agency.id, details={"code": agency.code})
    return agency


def update_agency(actor, agency: Agency, data: dict) -> Agency:
    require(actor, Permission.ADMIN_AGENCIES)
    if not may_edit_agency(actor, agency):
        raise PermissionDenied("You may change only your own agency.")
    values = _validate({**data, "kind": agency.kind})
    _check_unique(values, exclude_id=agency.id)
    changed = sorted(k for k, v in values.items() if getattr(agency, k) != v)
    for key, value in values.items():
        setattr(agency, key, value)
    db.session.flush()
    audit.record("agency.update", actor=actor, record_type="agency", record_id=agency.id, details={"changed": changed})
    return agency
