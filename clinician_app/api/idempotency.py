"""Idempotent call ingestion (SECURITY.md promise 17; the IETF
Idempotency-Key draft).

With an ``Idempotency-Key`` header, everything happens in the request's one
transaction: on PostgreSQL a transaction-level advisory lock on (client, key)
is tried, without waiting, in the statement that looks up the key's stored
reply, so of several concurrent retries one goes on and the others are told
the first is still in flight; if there is no reply the call is created and the
reply stored with it. What later requests with that key get:

* the same body, first one finished: the stored reply, with 200;
* the same body, first one still running: 409 ``request_in_flight``;
* another body: 422 ``idempotency_key_reused``.

A request that fails rolls back with nothing stored and its lock released, so
its retry proceeds: no claim can outlive the request that made it. SQLite has
no advisory locks, but it has one writer at a time: a concurrent retry there
waits for the first and then finds its reply. A retry that looked before the
first stored its reply (on SQLite, or on PostgreSQL when the first committed
between the look-up's snapshot and the lock) finds the unique (client, key)
constraint skipping its own copy, rolls back and returns the first's reply.

Without the header, the agency's incident number is the key: a call already
holding it is returned with 200 when the retry describes the same call, and is
a 409 ``incident_conflict`` when it does not. The unique (agency, incident
number) constraint settles concurrent first attempts (``calls.services``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from clinician_app.calls.models import Call
from clinician_app.calls.services import DuplicateIncidentNumber, NewCall, clean_new_call, create_call, find_call_by_incident
from clinician_app.core.direct_insert import insert_as_stored
from clinician_app.core.errors import Conflict, ValidationError
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db

from .models import DONE, IdempotencyRecord
from .schemas import CallStatus

# What makes two posts "the same call": the structured fields. The narrative and
# caution notes are encrypted and clinical; they are not decrypted to compare.
MATERIAL_FIELDS = ("received_at", "address", "call_type", "caller_relation", "received_via", "co_response", "urgency",
                   "latitude", "longitude", "caution_weapon", "caution_violence", "caution_hazards")


CALL_STATUS = CallStatus()


class KeyReused(ValidationError):
    code = "idempotency_key_reused"


class RequestInFlight(Conflict):
    code = "request_in_flight"


class IncidentConflict(Conflict):
    code = "incident_conflict"


@dataclass
class Reply:
    status: int
    body: dict  # CallStatus, dumped before the commit
    replayed: bool = False


def request_fingerprint(payload) -> str:
    """SHA-256 of the body's canonical JSON: key order and spacing don't matter."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ingest_call(client, data: NewCall, key: str | None, fingerprint: str) -> Reply:
    """Create the call once, however often CAD sends it; commits."""
    if key is not None:
        stored = _claim_key(client, key, fingerprint)
        if stored is not None:
            return stored
    status, call = _create_or_find(client, data)
    reply = Reply(status, CALL_STATUS.dump(call))
    if key is not None:
        record = IdempotencyRecord(client_id=client.id, key=key, request_hash=fingerprint, status=DONE,
                                   response_status=status, response_body=reply.body, call_id=call.id,
                                   completed_at=utcnow())
        if not insert_as_stored(db.session, record, skip_conflicts=True):
            # A concurrent retry stored this key after our look-up: on SQLite,
            # which has no advisory locks; on PostgreSQL, when the first committed
            # (and let go of the lock) after our look-up's snapshot was taken but
            # before we tried the lock. Its reply is the one to give.
            db.session.rollback()
            stored = _stored_reply(client, key, fingerprint)
            if stored is None:  # pragma: no cover - skipped, so a committed record holds the key
                raise RuntimeError("an idempotency record was skipped, but none holds its key")
            return stored
    _commit()
    return reply


def lock_id(client_id: str, key: str) -> int:
    """The advisory lock's 64-bit number for one client's key."""
    digest = hashlib.sha256(f"api-idempotency:{client_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# Built once and run on the session's connection: they run on every post.
_KEYS = IdempotencyRecord.__table__
_KEY_IS = (_KEYS.c.client_id == bindparam("client_id")) & (_KEYS.c.key == bindparam("key"))
_STORED = select(_KEYS.c.request_hash, _KEYS.c.response_body).where(_KEY_IS)
# PostgreSQL: the key's lock tried and its stored reply looked up in one round trip.
_lock = select(func.pg_try_advisory_xact_lock(bindparam("lock_id")).label("locked")).subquery("key_lock")
_LOCK_AND_LOOK = (select(_lock.c.locked, _KEYS.c.request_hash, _KEYS.c.response_body)
                  .select_from(_lock.outerjoin(_KEYS, _KEY_IS)))


def _claim_key(client, key: str, fingerprint: str) -> Reply | None:
    """Hold the key for this request (PostgreSQL: its advisory lock, or 409 if a
    request holding it is in flight) and return the reply stored under it, if any."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return _stored_reply(client, key, fingerprint)
    row = connection.execute(_LOCK_AND_LOOK, {"lock_id": lock_id(client.id, key), "client_id": client.id,
                                              "key": key}).one()
    if not row.locked:
        raise RequestInFlight("A request with this Idempotency-Key is still being processed. Retry in a few seconds.")
    return _reply_from(row, fingerprint)


def _stored_reply(client, key: str, fingerprint: str) -> Reply | None:
    return _reply_from(db.session.connection().execute(_STORED, {"client_id": client.id, "key": key}).one_or_none(),
                       fingerprint)


def _reply_from(stored, fingerprint: str) -> Reply | None:
    if stored is None or stored.request_hash is None:
        return None
    if stored.request_hash != fingerprint:
        raise KeyReused("This Idempotency-Key was already used with a different request body. "
                        "Use a new key for a new call.",
                        fields={"Idempotency-Key": ["Already used with a different body."]})
    return Reply(200, stored.response_body, replayed=True)


def _commit() -> None:
    """Commit without expiring what this request loaded (the API client, its
    agency, the call): nothing else changes them mid-request, and reloading
    each after a commit would cost a query apiece on the hot path."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _create_or_find(client, data: NewCall) -> tuple[int, Call]:
    try:
        return 201, create_call(client, data)
    except DuplicateIncidentNumber:
        existing = find_call_by_incident(client.agency_id, data.incident_number)
        if existing is None:  # pragma: no cover - the duplicate is committed before we hear of it
            raise
    differing = _differences(existing, data)
    if differing:
        raise IncidentConflict(
            f"A call with incident number {existing.incident_number} already exists in your agency with different "
            f"details ({', '.join(differing)}). Send corrections to the existing call, or check the incident number.",
            fields={"incident_number": ["Already used by a call with different details."]})
    return 200, existing


def _differences(call: Call, data: NewCall) -> list[str]:
    values = clean_new_call(data, utcnow())
    stored = {name: getattr(call, name) for name in MATERIAL_FIELDS}
    stored["received_at"] = as_utc(stored["received_at"])
    if not values["co_response"]:
        values["urgency"] = stored["urgency"] = None
    if values["received_via"] is None:  # a CAD that doesn't say how the call came in contradicts nothing
        values["received_via"] = stored["received_via"]
    differing = [name for name in MATERIAL_FIELDS if values[name] != stored[name]]
    if set(values["indicators"]) != set(call.indicators):
        differing.append("indicators")
    return differing
