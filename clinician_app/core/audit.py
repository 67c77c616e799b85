"""Append-only, hash-chained audit events (SECURITY.md promises 13-14).

Each event's MAC is HMAC-SHA256, under a key kept outside the database, over
the previous event's MAC and the event's own canonical serialisation. Events
are numbered 1..N without gaps. Writers serialise on the single ``audit_head``
row: updating it first takes a row lock on PostgreSQL and the write lock on
SQLite, so two transactions can never chain onto the same predecessor.
The event is written in the caller's transaction, so a change and its audit
event commit or roll back together.

Reads that a page audits go through ``record_at_commit``: the events wait in the
session and are written as the transaction commits, so the chain's lock is held
for the commit alone rather than for everything the page reads after them (a
case page taking the lock first and then reading its timeline made every other
audited request wait for the whole page).
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from flask import current_app, has_request_context, request
from sqlalchemy import Integer, String, Text, bindparam, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, Session, make_transient_to_detached, mapped_column

from clinician_app.extensions import db

from .timeutil import as_utc, utcnow
from .types import UTCDateTime

GENESIS_MAC = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), index=True)
    actor_username: Mapped[str | None] = mapped_column(String(80))
    agency_id: Mapped[str | None] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64), index=True)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), nullable=False, default="success")
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)  # canonical JSON, ids and codes only
    prev_mac: Mapped[str] = mapped_column(String(64), nullable=False)
    mac: Mapped[str] = mapped_column(String(64), nullable=False)

    def canonical(self) -> bytes:
        payload = {
            "seq": self.seq,
            "occurred_at": as_utc(self.occurred_at).isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "agency_id": self.agency_id,
            "action": self.action,
            "record_type": self.record_type,
            "record_id": self.record_id,
            "remote_addr": self.remote_addr,
            "outcome": self.outcome,
            "reason": self.reason,
            "details": self.details,
        }
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()

    @property
    def details_dict(self) -> dict:
        return json.loads(self.details) if self.details else {}


class AuditHead(db.Model):
    """One row: the chain's last sequence number and MAC (the writers' lock)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_mac: Mapped[str] = mapped_column(String(64), nullable=False, default=GENESIS_MAC)


# Built once: every audit write runs these, and building them costs more than running them.
# On the table, not the mapped class, and run on the session's connection: an
# update of the class would go through the ORM's bulk-update path (looking for
# loaded AuditHead objects to synchronise, which nothing loads) on every write.
_HEAD = AuditHead.__table__
_TAKE_HEAD = (update(_HEAD).where(_HEAD.c.id == 1).values(last_seq=_HEAD.c.last_seq + bindparam("count"))
              .returning(_HEAD.c.last_seq, _HEAD.c.last_mac))
_SET_MAC = update(_HEAD).where(_HEAD.c.id == 1).values(last_mac=bindparam("head_mac"))


# A longer batch goes in several statements (PostgreSQL takes at most 65,535
# parameters in one), and at most this many shapes are ever compiled.
_EVENTS_PER_STATEMENT = 100


@lru_cache(maxsize=_EVENTS_PER_STATEMENT)
def _write_events(count: int):
    """PostgreSQL: ``count`` events and the head's new MAC in one statement, one
    single-row INSERT per event as a data-modifying CTE. Unlike one multi-row
    VALUES, this shape has a cache key, so SQLAlchemy compiles it once per count
    rather than on every write."""
    statement = _SET_MAC
    for n in range(count):
        statement = statement.add_cte(insert(AuditEvent.__table__).values(
            {c: bindparam(f"e{n}_{c.key}", type_=c.type) for c in AuditEvent.__table__.columns}).cte(f"new_event_{n}"))
    return statement


def compute_mac(key: bytes, prev_mac: str, canonical: bytes) -> str:
    return hmac.new(key, prev_mac.encode() + b"\n" + canonical, hashlib.sha256).hexdigest()


def _audit_key() -> bytes:
    return current_app.extensions["clinician_keys"].audit_key


def _event(seq: int, prev_mac: str, key: bytes, occurred_at, remote, *, action: str, actor=None,
           agency_id: str | None = None, record_type: str | None = None, record_id: str | None = None,
           outcome: str = "success", reason: str | None = None, details: dict | None = None,
           actor_username: str | None = None) -> AuditEvent:
    event = AuditEvent(
        seq=seq,
        occurred_at=occurred_at,
        actor_id=getattr(actor, "id", None),
        actor_username=actor_username or getattr(actor, "username", None),
        agency_id=agency_id if agency_id is not None else getattr(actor, "agency_id", None),
        action=action,
        record_type=record_type,
        record_id=record_id,
        remote_addr=remote,
        outcome=outcome,
        reason=reason,
        details=json.dumps(details, sort_keys=True, separators=(",", ":")) if details else None,
        prev_mac=prev_mac,
    )
    event.mac = compute_mac(key, prev_mac, event.canonical())
    return event


def _row(event: AuditEvent, prefix: str = "") -> dict:
    return {f"{prefix}{c.key}": getattr(event, c.key) for c in AuditEvent.__table__.columns}


def _attach_stored(session, events: list[AuditEvent]) -> None:
    """Events inserted by a statement of our own: in the session as already stored."""
    for event in events:
        make_transient_to_detached(event)
        session.add(event)


def record(
    action: str,
    *,
    actor=None,
    agency_id: str | None = None,
    record_type: str | None = None,
    record_id: str | None = None,
    outcome: str = "success",
    reason: str | None = None,
    details: dict | None = None,
    actor_username: str | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the current transaction."""
    [event] = _append_many(db.session, [{
        "action": action, "actor": actor, "agency_id": agency_id, "record_type": record_type, "record_id": record_id,
        "outcome": outcome, "reason": reason, "details": details, "actor_username": actor_username}])
    return event


def record_many(events: Iterable[Mapping]) -> list[AuditEvent]:
    """Append several events to the chain at once, in the order given, inside the
    current transaction: for a page that shows several records, each an audited
    read. Each item holds ``record``'s keyword arguments (``action`` included)::

        audit.record_many([{"action": "person.read", "actor": user, "record_type": "person",
                            "record_id": p.id, "details": {"view": "lookup"}} for p in shown])

    The head is taken once for all of them (one statement moves it on by their
    number), the events are chained to one another as ``record`` would chain them
    one by one, and on PostgreSQL they and the head's new MAC go in one more
    statement: two in all, however many events."""
    items = [dict(item) for item in events]
    return _append_many(db.session, items) if items else []


def _append_many(session, items: list[dict], *, attach: bool = True) -> list[AuditEvent]:
    session.flush()
    connection = session.connection()
    # Taking the head row first serialises writers (see module docstring): every
    # other writer waits for this row until we commit.
    head = connection.execute(_TAKE_HEAD, {"count": len(items)}).one_or_none()
    if head is None:
        raise RuntimeError("audit_head row missing: run the migrations")
    last_seq, prev_mac = head
    key, now = _audit_key(), utcnow()
    remote = request.remote_addr if has_request_context() else None
    written = []
    for seq, item in enumerate(items, start=last_seq - len(items) + 1):
        event = _event(seq, prev_mac, key, now, remote, **item)
        written.append(event)
        prev_mac = event.mac
    if connection.dialect.name == "postgresql":
        # The head row stays locked until commit, so every round trip from here
        # on delays every other writer: the events and the head's new MAC go in
        # one statement, and the events are attached as already stored.
        for start in range(0, len(written), _EVENTS_PER_STATEMENT):
            part = written[start:start + _EVENTS_PER_STATEMENT]
            params = {"head_mac": part[-1].mac}
            for n, event in enumerate(part):
                params.update(_row(event, f"e{n}_"))
            connection.execute(_write_events(len(part)), params)
        if attach:
            _attach_stored(session, written)
    else:
        session.add_all(written)
        connection.execute(_SET_MAC, {"head_mac": prev_mac})
        session.flush()
    return written


_PENDING = "audit_pending"  # session.info key: events waiting for the commit


def record_at_commit(action: str, **fields) -> None:
    """``record``, for an audited read: the event is written as the transaction commits."""
    record_many_at_commit([{"action": action, **fields}])


def record_many_at_commit(events: Iterable[Mapping]) -> None:
    """Queue events (``record``'s keyword arguments, as for ``record_many``) to be
    appended to the chain as the current transaction commits, in one batch and in
    the order queued; a rollback discards them with everything else. For audited
    reads: the event is as much a part of the transaction as with ``record``, but
    the chain's lock is taken by the commit, not at the time of the read."""
    items = [dict(item) for item in events]
    if not items:
        return
    session = db.session()
    if not session.in_transaction():  # so a rollback before any statement still discards them
        session.begin()
    session.info.setdefault(_PENDING, []).extend(items)


# On every Session class (the tests bind a plain one to their connection); a
# session that never queued an event pays one dictionary look-up per commit.
@sa_event.listens_for(Session, "before_commit")
def _write_pending(session) -> None:
    # A savepoint's release fires this too: the events wait for the real commit.
    if session.in_nested_transaction() or not session.info.get(_PENDING):
        return
    # Nobody holds these events, so on PostgreSQL they need not join the session.
    _append_many(session, session.info.pop(_PENDING), attach=False)


@sa_event.listens_for(Session, "after_transaction_end")
def _discard_pending(session, transaction) -> None:
    # Rolled back or closed without a commit: the reads it queued go with it.
    if transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(_PENDING, None)


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def flag(self, seq: int | None, message: str) -> None:
        if self.first_bad_seq is None:
            self.first_bad_seq = seq
        self.problems.append(message)


def verify_chain(session, key: bytes, batch: int = 5000) -> VerifyResult:
    """Walk the chain in order; name every event that was edited, removed or inserted."""
    result = VerifyResult()
    expected_seq, prev_mac = 1, GENESIS_MAC
    last_seen = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq > last_seen).order_by(AuditEvent.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                result.flag(event.seq, f"events {expected_seq}..{event.seq - 1} are missing (deleted) before event {event.seq}")
            if event.prev_mac != prev_mac:
                result.flag(event.seq, f"event {event.seq} does not follow the event before it (inserted, deleted or reordered)")
            if not hmac.compare_digest(event.mac, compute_mac(key, event.prev_mac, event.canonical())):
                result.flag(event.seq, f"event {event.seq} was altered: its MAC does not match its contents")
            prev_mac, expected_seq, last_seen = event.mac, event.seq + 1, event.seq
            result.checked += 1
        # Free the batch, and only the batch: the caller's own objects stay attached.
        for event in rows:
            session.expunge(event)
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is not None and (head.last_seq != last_seen or head.last_mac != prev_mac):
        result.flag(last_seen + 1, f"the chain ends at event {last_seen} but its head records event {head.last_seq} (events removed from the end)")
    return result
