"""Idempotent call ingestion (SECURITY.md promise 17; the IETF
Idempotency-Key draft).

With an ``Idempotency-Key`` header, the key is claimed first: an ``in_flight``
row is inserted and committed on its own, so the unique (client, key)
constraint admits exactly one of several concurrent retries. The call is then
created and the row marked ``done`` with the reply, in one transaction. What
later requests with that key get:

* the same body, first one finished: the stored reply, with 200;
* the same body, first one still running: 409 ``request_in_flight``;
* another body: 422 ``idempotency_key_reused``.

A request that fails after claiming releases its key, so a retry can proceed;
one that died without releasing it leaves a stale claim that a retry takes
over after ``API_IDEMPOTENCY_STALE_SECONDS``.

Without the header, the agency's incident number is the key: a call already
holding it is returned with 200 when the retry describes the same call, and is
a 409 ``incident_conflict`` when it does not. The unique (agency, incident
number) constraint settles concurrent first attempts (``calls.services``).

This module commits, unlike a service: the claim must be visible to other
requests before the call exists, which no single transaction can do.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError

from clinician_app.calls.models import Call
from clinician_app.calls.services import DuplicateIncidentNumber, NewCall, clean_new_call, create_call, find_call_by_incident
from clinician_app.core.errors import Conflict, ValidationError
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.core.types import new_id
from clinician_app.extensions import db

from .models import DONE, IN_FLIGHT, IdempotencyRecord
from .schemas import CallStatus

# What makes two posts "the same call": the structured fields. The narrative and
# caution notes are encrypted and clinical; they are not decrypted to compare.
MATERIAL_FIELDS = ("received_at", "address", "call_type", "caller_relation", "received_via", "co_response", "urgency",
                   "latitude", "longitude", "caution_weapon", "caution_violence", "caution_hazards")


CALL_STATUS = CallStatus()
_CLAIM_WITHOUT_DISK_WAIT = text("SET LOCAL synchronous_commit TO OFF")


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
    if key is None:
        status, call = _create_or_find(client, data)
        _commit()
        return Reply(status, CALL_STATUS.dump(call))
    claimed = _claim(client, key, fingerprint)
    if isinstance(claimed, Reply):
        return claimed
    try:
        status, call = _create_or_find(client, data)
        reply = Reply(status, CALL_STATUS.dump(call))
        claimed.status = DONE
        claimed.response_status = status
        claimed.response_body = reply.body
        claimed.call_id = call.id
        claimed.completed_at = utcnow()
        _commit()
        return reply
    except BaseException:
        db.session.rollback()
        _release(claimed.id)
        raise


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


def _claim(client, key: str, fingerprint: str) -> IdempotencyRecord | Reply:
    """The key's in-flight row, committed; or what a retry gets instead."""
    record = IdempotencyRecord(id=new_id(), client_id=client.id, key=key, request_hash=fingerprint, status=IN_FLIGHT)
    db.session.add(record)
    if db.session.get_bind().dialect.name == "postgresql":
        # The claim need not wait for the disk: the call's own commit, which
        # does, writes the WAL up to and past this one. A crash in between
        # loses only a claim whose request got no reply, so its retry proceeds.
        db.session.execute(_CLAIM_WITHOUT_DISK_WAIT)
    try:
        _commit()
        return record
    except IntegrityError:
        db.session.rollback()
    existing = db.session.execute(
        select(IdempotencyRecord).where(IdempotencyRecord.client_id == client.id, IdempotencyRecord.key == key)
    ).scalar_one_or_none()
    if existing is None:
        # The first request failed and released the key a moment ago.
        raise RequestInFlight("A request with this Idempotency-Key was being processed. Retry it.")
    if existing.request_hash != fingerprint:
        raise KeyReused("This Idempotency-Key was already used with a different request body. "
                        "Use a new key for a new call.",
                        fields={"Idempotency-Key": ["Already used with a different body."]})
    if existing.status == DONE:
        return Reply(200, existing.response_body, replayed=True)
    if _take_over_stale(existing):
        return existing
    raise RequestInFlight("A request with this Idempotency-Key is still being processed. Retry in a few seconds.")


def _take_over_stale(record: IdempotencyRecord) -> bool:
    """A claim whose request died midway would block its key forever: a retry
    may take it over once it is old enough that no live request holds it."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["API_IDEMPOTENCY_STALE_SECONDS"])
    taken = db.session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record.id, IdempotencyRecord.status == IN_FLIGHT, IdempotencyRecord.created_at < cutoff)
        .values(created_at=utcnow())
    ).rowcount
    _commit()
    return taken == 1


def _release(record_id: str) -> None:
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id, IdempotencyRecord.status == IN_FLIGHT))
    db.session.commit()
