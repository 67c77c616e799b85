"""Key rotation over every declared protected field (SECURITY.md promise 11).

Walks ``types.REGISTRY`` (encrypted fields) and ``types.BLIND_INDEXES``, so a domain's
fields are covered by declaring them. Each batch re-encrypts, under the active data key,
every value whose token names another key (decrypt with the key it names, encrypt with
the same associated data), recomputes every blind index stored under another index key,
and commits. A value is either wholly old or wholly new, so an interrupted run loses
nothing and a resumed run picks up only what is left: values on the active key are
never touched again.

The rows needing work are found in SQL by their key id prefix (``substr`` works on
BLOB in SQLite and on BYTEA in PostgreSQL), in batches ordered by id after the last id
seen (keyset pagination). On PostgreSQL a batch's rows are locked (``FOR UPDATE``)
between read and write, so a clinician's edit made meanwhile is not overwritten with
the re-encrypted old value; SQLite's single writer gives the same guarantee (a write
that raced ours makes our write fail, and ``--resume`` carries on).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import LargeBinary, and_, case, func, literal, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import lazyload

from . import crypto, types
from .keyfile import KeyConfigError

OTHER = "(unknown)"  # a value naming a key the ring doesn't hold, or not a token


class RotationError(RuntimeError):
    """A value could not be moved to the new key; the message names the cell, never the value."""


def _data_prefix(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return bytes((crypto.RAW_VERSION, len(encoded))) + encoded


def _uses_data_key(col, key_id: str):
    prefix = _data_prefix(key_id)
    return func.substr(col, 1, len(prefix)) == literal(prefix, LargeBinary)


def _uses_index_key(col, key_id: str):
    return func.substr(col, 1, len(key_id) + 1) == f"{key_id}:"


@dataclass
class ModelPlan:
    model: type
    fields: list[types.EncryptedEntry] = field(default_factory=list)
    indexes: list[types.BlindIndexEntry] = field(default_factory=list)

    @property
    def table(self) -> str:
        return self.model.__tablename__

    def pending(self, ring: crypto.KeyRing):
        """Rows holding a value or an index not under the active keys."""
        clauses = []
        for entry in self.fields:
            col = getattr(self.model, entry.column)
            clauses.append(and_(col.is_not(None), ~_uses_data_key(col, ring.active_key_id)))
        for entry in self.indexes:
            col = getattr(self.model, entry.column)
            clauses.append(and_(col.is_not(None), ~_uses_index_key(col, ring.active_index_key_id)))
        return or_(*clauses)


def plans() -> list[ModelPlan]:
    """One plan per model that declares protected fields, in a stable order."""
    by_model: dict[type, ModelPlan] = {}
    for entry in types.REGISTRY:
        by_model.setdefault(entry.model, ModelPlan(entry.model)).fields.append(entry)
    for entry in types.BLIND_INDEXES:
        by_model.setdefault(entry.model, ModelPlan(entry.model)).indexes.append(entry)
    return sorted(by_model.values(), key=lambda p: p.table)


# --- status --------------------------------------------------------------------------

@dataclass
class KeyUsage:
    """Per column ("table.field"), how many values use each key id."""

    data: dict[str, dict[str, int]] = field(default_factory=dict)
    index: dict[str, dict[str, int]] = field(default_factory=dict)

    def data_totals(self) -> dict[str, int]:
        return _totals(self.data)

    def index_totals(self) -> dict[str, int]:
        return _totals(self.index)

    def users_of(self, key_id: str) -> dict[str, int]:
        """Columns still holding values under ``key_id`` (data or index key)."""
        return {column: counts[key_id] for column, counts in (*self.data.items(), *self.index.items())
                if counts.get(key_id)}


def _totals(per_column: dict[str, dict[str, int]]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for counts in per_column.values():
        for key_id, n in counts.items():
            totals[key_id] += n
    return dict(totals)


def _count(session, col, cases: dict[str, object]) -> dict[str, int]:
    """Non-null values of ``col`` matching each case, in one scan; the rest under OTHER."""
    names = list(cases)
    row = session.execute(select(func.count(col), *[
        func.coalesce(func.sum(case((cond, 1), else_=0)), 0) for cond in cases.values()])).one()
    counts = {name: int(n) for name, n in zip(names, row[1:], strict=True)}
    counts[OTHER] = int(row[0]) - sum(counts.values())
    return counts


def key_usage(session, ring: crypto.KeyRing) -> KeyUsage:
    usage = KeyUsage()
    for plan in plans():
        for entry in plan.fields:
            col = getattr(plan.model, entry.column)
            usage.data[f"{plan.table}.{entry.name}"] = _count(
                session, col, {k: _uses_data_key(col, k) for k in ring.data_key_ids})
        for entry in plan.indexes:
            col = getattr(plan.model, entry.column)
            usage.index[f"{plan.table}.{entry.column}"] = _count(
                session, col, {k: _uses_index_key(col, k) for k in ring.index_key_ids})
    return usage


# --- rotation ------------------------------------------------------------------------

@dataclass
class RotationResult:
    rows: int = 0
    values_reencrypted: int = 0
    indexes_recomputed: int = 0

    def as_details(self) -> dict:
        return {"rows": self.rows, "values_reencrypted": self.values_reencrypted,
                "indexes_recomputed": self.indexes_recomputed}


def count_pending(session, ring: crypto.KeyRing) -> int:
    return sum(session.execute(select(func.count()).select_from(plan.model).where(plan.pending(ring))).scalar_one()
               for plan in plans())


def rotate(session, ring: crypto.KeyRing, *, batch_size: int = 500, commit: Callable[[], None],
           progress: Callable[[int], None] | None = None, result: RotationResult | None = None) -> RotationResult:
    """Move every value and blind index to the ring's active keys, committing per batch.

    ``result`` is filled in as batches commit, so a caller that catches an interruption
    can report what was done. Raises RotationError for a value that does not decrypt.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    result = result if result is not None else RotationResult()
    session.info[types.SKIP_INDEX_REFRESH] = True  # rotation sets the indexes itself
    try:
        for plan in plans():
            _rotate_model(session, ring, plan, batch_size, commit, progress, result)
    finally:
        session.info.pop(types.SKIP_INDEX_REFRESH, None)
    return result


def _rotate_model(session, ring, plan: ModelPlan, batch_size, commit, progress, result: RotationResult) -> None:
    """Batches of rows needing work, by id; each batch written with one executemany per
    set of changed columns, then committed. Rows are loaded as ORM objects only when a
    blind index must be recomputed from them (its source reads the model's fields)."""
    model, last_id = plan.model, None
    columns = [getattr(model, e.column) for e in plan.fields] + [getattr(model, e.column) for e in plan.indexes]
    while True:
        stmt = select(model) if plan.indexes else select(model.id, *columns)
        stmt = (stmt.where(plan.pending(ring)).order_by(model.id).limit(batch_size)
                .with_for_update(of=model.__table__))
        if plan.indexes:
            stmt = stmt.options(lazyload("*"))
        if last_id is not None:
            stmt = stmt.where(model.id > last_id)
        rows = session.scalars(stmt).all() if plan.indexes else session.execute(stmt).all()
        if not rows:
            return
        changes: dict[frozenset, list[dict]] = defaultdict(list)
        values = indexes = 0
        for row in rows:
            change = _reencrypt_row(ring, plan, row)
            values += len(change)
            reindexed = _reindex_row(ring, plan, row)
            indexes += len(reindexed)
            change.update(reindexed)
            if change:
                change["id"] = row.id
                changes[frozenset(change)].append(change)
        for group in changes.values():
            session.execute(update(model), group)
        commit()
        last_id = rows[-1].id
        result.rows += len(rows)
        result.values_reencrypted += values
        result.indexes_recomputed += indexes
        if progress is not None:
            progress(len(rows))


def _reencrypt_row(ring: crypto.KeyRing, plan: ModelPlan, row) -> dict:
    """{column: token under the active key} for each of the row's values not yet on it."""
    change = {}
    for entry in plan.fields:
        blob = getattr(row, entry.column)
        if blob is None:
            continue
        try:
            if ring.key_id_of_raw(blob) == ring.active_key_id:
                continue
            change[entry.column] = ring.reencrypt_raw(blob, table=plan.table, column=entry.name, row_id=row.id)
        except crypto.CryptoError as exc:
            raise RotationError(f"{plan.table}.{entry.name} of row {row.id} can't be re-encrypted: {exc}") from None
    return change


def _reindex_row(ring: crypto.KeyRing, plan: ModelPlan, row) -> dict:
    """{column: blind index under the active index key} for each stale index of the row."""
    change = {}
    for entry in plan.indexes:
        stored = getattr(row, entry.column)
        if stored is None or types.index_key_id_of(stored) == ring.active_index_key_id:
            continue
        try:
            value = entry.source(row)
        except crypto.CryptoError as exc:
            raise RotationError(f"{plan.table}.{entry.column} of row {row.id} can't be recomputed: {exc}") from None
        change[entry.column] = None if value is None else types._index_value(
            ring, ring.active_index_key_id, value, plan.table, entry.column, entry.bits)
    return change


# --- start-up check ------------------------------------------------------------------

def check_keys_fit_data(session, ring: crypto.KeyRing) -> None:
    """KeyConfigError unless one stored value of every protected column decrypts and one
    blind index of every indexed column names a key the ring holds: catches a wrong or
    stale key file at start-up instead of at the first read. A database without the
    tables yet (before ``init-db``) passes."""
    for plan in plans():
        for entry in plan.fields:
            col = getattr(plan.model, entry.column)
            try:
                sample = session.execute(select(plan.model.id, col).where(col.is_not(None)).limit(1)).first()
            except SQLAlchemyError:
                session.rollback()
                return
            if sample is None:
                continue
            try:
                ring.decrypt_raw(sample[1], table=plan.table, column=entry.name, row_id=sample[0])
            except crypto.CryptoError as exc:
                raise KeyConfigError(
                    f"the encryption keys do not decrypt the data already stored ({plan.table}.{entry.name}: {exc}). "
                    "Start with the key file (and CLINICIAN_KEK) this database was encrypted with.") from None
        for entry in plan.indexes:
            col = getattr(plan.model, entry.column)
            stored = session.execute(select(col).where(col.is_not(None)).limit(1)).scalar()
            if stored is not None and types.index_key_id_of(stored) not in ring.index_key_ids:
                raise KeyConfigError(
                    f"{plan.table}.{entry.column} uses index key {types.index_key_id_of(stored)!r}, "
                    "which the key file does not hold: start with the key file this database was indexed with.")
