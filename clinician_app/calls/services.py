"""Calls: create (from the dispatch form or CAD), list, read, prior calls at an
address, and what changed since a CAD system last polled.

The acting ``actor`` is a signed-in ``User`` or an ``ApiClient`` (a CAD system);
both carry ``agency_id``. A user's permissions come from their roles; a client's
from its scopes, which use the same names (``calls:create``, ``calls:read``).
A client never holds ``calls:read_clinical``.

For the API::

    from clinician_app.calls.services import NewCall, DuplicateIncidentNumber, create_call
    try:
        call = create_call(client, NewCall(incident_number="25-001234", received_at=aware_dt,
                                           address="12 Main St", call_type="well_being_check",
                                           caller_relation="family", co_response=True, urgency="now"))
    except DuplicateIncidentNumber as exc:
        existing = get_call(client, exc.call_id)  # a retry of a call already posted

Services flush, never commit; each writes its audit event in the caller's
transaction. Audit details carry ids and codes, never the narrative, notes or address.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from clinician_app.core import audit, policy
from clinician_app.core.direct_insert import insert_as_stored
from clinician_app.core.errors import PermissionDenied, ValidationError
from clinician_app.core.pagination import Page, paginate
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text, has_control_characters
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db

from .addresses import normalise_address
from .codes import (
    CALL_TYPES,
    CALLER_RELATIONS,
    INDICATORS,
    RECEIVED_VIA,
    STATUS_FLAGGED,
    STATUS_RECORDED,
    STATUSES,
    URGENCIES,
)
from .models import (
    ADDRESS_MAX,
    CAUTION_NOTES_MAX,
    INCIDENT_NUMBER_MAX,
    NARRATIVE_MAX,
    Call,
    indicator_column,
)

PER_PAGE = 25
PRIOR_CALL_DAYS = 90
PRIOR_DATES_SHOWN = 10
MIN_ADDRESS_KEY = 3  # shorter input matches too much to be worth showing
FUTURE_TOLERANCE = timedelta(minutes=5)  # clock drift between CAD and us
EARLIEST_RECEIVED = datetime(2000, 1, 1, tzinfo=UTC)
PLACE_ID_MAX = 36
API_ACTOR_NAME_MAX = 80


@dataclass
class NewCall:
    """A call as plain values: what the dispatch form, the API and the demo seed hand in.

    * ``incident_number``: the CAD incident number, unique within the agency;
      stored upper-cased with spaces removed at the ends.
    * ``received_at``: a timezone-aware datetime (any zone; stored in UTC).
    * ``address``: the location as typed; ``place_id`` an optional place record id;
      ``latitude``/``longitude`` both or neither (Decimal, float or numeric str).
    * ``call_type``, ``caller_relation``: codes from ``calls.codes``; ``received_via``
      a code from ``codes.RECEIVED_VIA`` or None when the source doesn't say.
    * ``indicators``: codes from ``codes.INDICATORS``.
    * ``caution_weapon``/``caution_violence``/``caution_hazards`` and ``caution_notes``:
      safety cautions, shown to officers and dispatchers.
    * ``narrative``: clinical, encrypted; readable by clinicians and supervisors only.
    * ``co_response`` and ``urgency`` (``now``/``same_day``/``follow_up``, required when
      flagged, ignored when not).

    The agency, status, step times and source are never taken from here: they
    follow from the actor and the rules.
    """

    incident_number: str = ""
    received_at: datetime | None = None
    address: str = ""
    call_type: str = ""
    caller_relation: str = ""
    received_via: str | None = None
    indicators: list[str] = field(default_factory=list)
    caution_weapon: bool = False
    caution_violence: bool = False
    caution_hazards: bool = False
    caution_notes: str = ""
    narrative: str = ""
    co_response: bool = True
    urgency: str | None = None
    place_id: str | None = None
    latitude: Decimal | float | str | None = None
    longitude: Decimal | float | str | None = None


class DuplicateIncidentNumber(ValidationError):
    """The agency already holds a call with this incident number (``call_id`` names it)."""

    def __init__(self, incident_number: str, call_id: str | None):
        message = f"Incident number {incident_number} already exists in your agency."
        super().__init__(message, fields={"incident_number": [message]})
        self.call_id = call_id


@dataclass
class CallFilter:
    status: str = ""
    call_type: str = ""
    date_from: date | None = None  # in the agency's time zone, inclusive
    date_to: date | None = None


@dataclass
class PriorCalls:
    """Earlier calls at one address: a count and dates, nothing else."""

    searched: bool
    count: int = 0
    dates: list[datetime] = field(default_factory=list)
    days: int = PRIOR_CALL_DAYS


# --- actors ------------------------------------------------------------------------

def _is_api_client(actor) -> bool:
    from clinician_app.auth.models import ApiClient

    return isinstance(actor, ApiClient)


def require(actor, permission: Permission) -> None:
    """A user needs the permission through a role; an API client needs it as a scope."""
    if _is_api_client(actor):
        if permission.value not in actor.scope_list:
            raise PermissionDenied("This API client does not have that scope.")
        return
    policy.require(actor, permission)


def _audit_actor(actor) -> dict:
    if _is_api_client(actor):
        return {"actor": actor, "actor_username": f"api:{actor.name}"[:API_ACTOR_NAME_MAX]}
    return {"actor": actor}


# --- validation -------------------------------------------------------------------------

def normalise_incident_number(value: str | None) -> str:
    return (value or "").strip().upper()


def incident_number_problem(value: str) -> str | None:
    if not value:
        return "Enter the incident number."
    if len(value) > INCIDENT_NUMBER_MAX:
        return f"Use at most {INCIDENT_NUMBER_MAX} characters."
    if not value[0].isascii() or not value[0].isalnum() or any(
            not (c.isascii() and (c.isalnum() or c in "-/._")) for c in value):
        return "Use letters, digits and - / . _ only, starting with a letter or digit."
    return None


def _coordinate(value, low: int, high: int, name: str, errors: dict) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not low <= number <= high:
        errors[name] = [f"Enter a number from {low} to {high}, for example {'42.599' if high == 90 else '-71.367'}."]
        return None
    return number.quantize(Decimal("0.000001"))


def clean_new_call(data: NewCall, now: datetime) -> dict:
    """The call's column values, or ValidationError naming each field that is wrong."""
    errors: dict[str, list[str]] = {}

    def text(name: str, limit: int, *, required: str | None = None, multiline: bool = False) -> str:
        return clean_text(getattr(data, name), limit, name, errors, required=required, multiline=multiline,
                          not_text="Enter text.")

    def code(name: str, codes: dict, missing: str) -> str:
        value = getattr(data, name)
        if value not in codes:
            errors[name] = [missing]
        return value

    number = normalise_incident_number(data.incident_number if isinstance(data.incident_number, str) else "")
    if problem := incident_number_problem(number):
        errors["incident_number"] = [problem]

    received = data.received_at
    if received is None:
        errors["received_at"] = ["Enter the date and time the call was received."]
    elif not isinstance(received, datetime) or received.tzinfo is None:
        errors["received_at"] = ["Give the received time with its time zone."]
    elif received > now + FUTURE_TOLERANCE:
        errors["received_at"] = ["The received time can't be in the future."]
    elif received < EARLIEST_RECEIVED:
        errors["received_at"] = ["Enter a received time after the year 2000."]

    address = text("address", ADDRESS_MAX, required="Enter the address or location.")
    if "address" not in errors and not normalise_address(address):
        errors["address"] = ["Enter the address or location."]
    call_type = code("call_type", CALL_TYPES, "Choose the call type.")
    caller_relation = code("caller_relation", CALLER_RELATIONS, "Choose who called.")
    received_via = data.received_via or None
    if received_via is not None and received_via not in RECEIVED_VIA:
        errors["received_via"] = ["Choose how the call came in."]

    indicators = data.indicators or []
    if not isinstance(indicators, list | tuple | set) or any(i not in INDICATORS for i in indicators):
        errors["indicators"] = ["Choose indicators from the list."]
        indicators = []

    caution_notes = text("caution_notes", CAUTION_NOTES_MAX, multiline=True)
    narrative = text("narrative", NARRATIVE_MAX, multiline=True)

    co_response = bool(data.co_response)
    urgency = None
    if co_response:
        urgency = data.urgency
        if urgency not in URGENCIES:
            errors["urgency"] = ["Choose how soon the co-responder is needed."]

    latitude = _coordinate(data.latitude, -90, 90, "latitude", errors)
    longitude = _coordinate(data.longitude, -180, 180, "longitude", errors)
    if "latitude" not in errors and "longitude" not in errors and (latitude is None) != (longitude is None):
        errors["latitude" if latitude is None else "longitude"] = ["Give both latitude and longitude, or neither."]

    place_id = data.place_id.strip() or None if isinstance(data.place_id, str) else None
    if data.place_id is not None and not isinstance(data.place_id, str) or place_id is not None and (
            len(place_id) > PLACE_ID_MAX or has_control_characters(place_id)):
        errors["place_id"] = ["That place reference is not valid."]

    if errors:
        raise ValidationError("Some of the call's details need correcting.", fields=errors)
    return {
        "incident_number": number,
        "received_at": received.astimezone(UTC),
        "address": address,
        "address_key": normalise_address(address),
        "place_id": place_id,
        "latitude": latitude,
        "longitude": longitude,
        "call_type": call_type,
        "caller_relation": caller_relation,
        "received_via": received_via,
        "indicators": set(indicators),
        "caution_weapon": bool(data.caution_weapon),
        "caution_violence": bool(data.caution_violence),
        "caution_hazards": bool(data.caution_hazards),
        "caution_notes": caution_notes or None,
        "narrative": narrative or None,
        "co_response": co_response,
        "urgency": urgency,
    }


# --- create --------------------------------------------------------------------------

def find_call_by_incident(agency_id: str, incident_number: str) -> Call | None:
    """The agency's call with this incident number (compared as stored: upper-cased, trimmed)."""
    number = normalise_incident_number(incident_number)
    if not number:
        return None
    return db.session.execute(
        select(Call).where(Call.agency_id == agency_id, Call.incident_number == number)
    ).scalar_one_or_none()


def create_call(actor, data: NewCall) -> Call:
    """Record a call in the actor's agency; flagged for co-response when asked.

    A duplicate incident number in the agency raises ``DuplicateIncidentNumber``
    and leaves the transaction usable. The unique (agency, incident number)
    constraint decides, rather than a look-up first: the insert skips a
    conflicting row (``core.direct_insert``), which costs no query on a new call
    (CAD ingest's hot path) and no savepoint, and the constraint must decide
    concurrent inserts anyway."""
    require(actor, Permission.CALLS_CREATE)
    now = utcnow()
    values = clean_new_call(data, now)

    from_cad = _is_api_client(actor)
    indicators = values.pop("indicators")
    caution_notes = values.pop("caution_notes")
    narrative = values.pop("narrative")
    call = Call(
        agency_id=actor.agency_id,
        status=STATUS_FLAGGED if values["co_response"] else STATUS_RECORDED,
        flagged_at=now if values["co_response"] else None,
        source="cad" if from_cad else "form",
        created_by_id=None if from_cad else actor.id,
        api_client_id=actor.id if from_cad else None,
        created_at=now,
        updated_at=now,
        **values,
        **{indicator_column(code): code in indicators for code in INDICATORS},
    )
    call.caution_notes = caution_notes  # encrypted, bound to this row's id
    call.narrative = narrative
    if not insert_as_stored(db.session, call, skip_conflicts=True):
        existing = find_call_by_incident(actor.agency_id, values["incident_number"])
        if existing is None:  # pragma: no cover - skipped, so a committed call holds the number
            raise RuntimeError("a call was skipped as a duplicate, but no call holds its incident number")
        raise DuplicateIncidentNumber(values["incident_number"], existing.id)
    # At commit: the chain lock is then held for the commit alone, not for what the
    # caller writes after the call (CAD ingest: its idempotency record).
    audit.record_at_commit("call.create", **_audit_actor(actor), record_type="call", record_id=call.id,
                           details={"source": call.source, "co_response": call.co_response})
    return call


# --- read ----------------------------------------------------------------------------

def _timezone(actor) -> ZoneInfo:
    return ZoneInfo(actor.agency.timezone)


def local_day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def list_calls(actor, filters: CallFilter | None = None, page: int = 1, per_page: int = PER_PAGE) -> Page[Call]:
    """The calls the actor may see, newest first, narrowed by status, type and
    received date (days in the agency's time zone)."""
    require(actor, Permission.CALLS_READ)
    filters = filters or CallFilter()
    stmt = policy.visible(select(Call), actor, Call)
    if filters.status in STATUSES:
        stmt = stmt.where(Call.status == filters.status)
    if filters.call_type in CALL_TYPES:
        stmt = stmt.where(Call.call_type == filters.call_type)
    tz = _timezone(actor)
    if filters.date_from is not None:
        stmt = stmt.where(Call.received_at >= local_day_start(filters.date_from, tz))
    if filters.date_to is not None:
        stmt = stmt.where(Call.received_at < local_day_start(filters.date_to + timedelta(days=1), tz))
    return paginate(stmt.order_by(Call.received_at.desc(), Call.id), page, per_page)


def get_call(actor, call_id: str) -> Call:
    """One call the actor may see; another agency's call is a plain NotFound."""
    require(actor, Permission.CALLS_READ)
    return policy.get_visible(db.session, Call, call_id, actor)


def get_call_narrative(actor, call: Call) -> str | None:
    """The narrative is clinical: only clinicians and supervisors read it, and
    every read is audited (SECURITY.md promise 13)."""
    require(actor, Permission.CALLS_READ_CLINICAL)
    if call.agency_id != actor.agency_id:
        get_call(actor, call.id)  # scope rules beyond the agency decide, or NotFound
    narrative = call.narrative
    audit.record_at_commit("call.narrative_read", **_audit_actor(actor), record_type="call", record_id=call.id)
    return narrative


def prior_calls_at(actor, address: str | None, days: int = PRIOR_CALL_DAYS,
                   exclude_call_id: str | None = None) -> PriorCalls:
    """How many of the agency's calls were at this address in the last ``days``
    days, and when: no other field of those calls."""
    require(actor, Permission.CALLS_READ)
    key = normalise_address(address)
    if len(key) < MIN_ADDRESS_KEY:
        return PriorCalls(searched=False, days=days)
    stmt = policy.visible(select(Call.received_at), actor, Call).where(
        Call.address_key == key, Call.received_at >= utcnow() - timedelta(days=days))
    if exclude_call_id:
        stmt = stmt.where(Call.id != exclude_call_id)
    count = db.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    dates = db.session.execute(stmt.order_by(Call.received_at.desc()).limit(PRIOR_DATES_SHOWN)).scalars().all()
    return PriorCalls(searched=True, count=count, dates=[as_utc(d) for d in dates], days=days)


def status_changes_since(agency_id: str, since: datetime | None, limit: int = 100) -> list[Call]:
    """The agency's calls changed after ``since`` (exclusive), oldest change first,
    for CAD to poll. The caller checks the client's scope and agency."""
    stmt = select(Call).where(Call.agency_id == agency_id)
    if since is not None:
        stmt = stmt.where(Call.updated_at > as_utc(since))
    return list(db.session.execute(stmt.order_by(Call.updated_at, Call.id).limit(limit)).scalars())


@dataclass
class CallCounts:
    last_7_days: int
    awaiting_triage: int
    total: int


def call_counts(actor) -> CallCounts:
    """Counts for the dispatcher's and officer's home page."""
    require(actor, Permission.CALLS_READ)
    base = policy.visible(select(func.count()).select_from(Call), actor, Call)
    return CallCounts(
        last_7_days=db.session.execute(base.where(Call.received_at >= utcnow() - timedelta(days=7))).scalar_one(),
        awaiting_triage=db.session.execute(base.where(Call.status == STATUS_FLAGGED)).scalar_one(),
        total=db.session.execute(base).scalar_one(),
    )
