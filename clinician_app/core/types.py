"""SQLAlchemy column types shared by every domain, and the protected-field layer
(SECURITY.md promises 8-11).

Sensitive fields are declared as a binary column plus a descriptor::

    class Person(db.Model):
        __tablename__ = "persons"
        id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
        first_name_enc: Mapped[bytes | None] = encrypted_column()
        first_name = EncryptedField("first_name")                  # str | None
        aliases_enc: Mapped[bytes | None] = encrypted_column()
        aliases = EncryptedField("aliases", kind="json")           # any JSON value
        name_dob_bidx: Mapped[str | None] = blind_index_column()
        name_dob_index = BlindIndexField("name_dob_bidx", source=lambda p: ..., bits=16)

Why this shape
* The ciphertext is a binary token (``KeyRing.encrypt_raw``) bound to
  (``__tablename__``, field name, ``row.id``), so ids are generated before insert: a
  write to a row without an id assigns ``new_id()`` first.
* Reads decrypt on every access and fail closed: a token that does not decrypt raises
  ``DecryptionError`` (or ``MissingKeyError``), never returns "" or None.
* A ``before_flush`` guard refuses any registered ``<name>_enc`` value that is not a
  well-formed token under a known key, so assigning plaintext to the raw column by
  mistake can't reach the database. A row inserted without a flush
  (``core.direct_insert``, on hot paths) goes through the same checks
  (``guard_new_row``). Other writes that bypass the ORM (``update()``) bypass the
  guard; only key rotation does that.
* The same guard recomputes the blind indexes of every new or changed row that declares
  them, so an index never goes stale; ``BlindIndexField.refresh(row)`` does it on demand.
* Blind index values carry their index key id (``"i1:3fa2"``), so rotation knows which
  rows to recompute and lookups during a rotation search under every key
  (``blind_index_candidates``).
* ``REGISTRY`` and ``BLIND_INDEXES`` list every declared field: key rotation and
  ``keys status`` walk them, so a new domain's fields are covered by declaring them.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, LargeBinary, String, event
from sqlalchemy.orm import MappedColumn, Session, attributes, mapped_column
from sqlalchemy.types import TypeDecorator

from . import crypto

KINDS = ("text", "json")
MAX_INDEX_BITS = 128  # "<key id>:" plus 32 hex digits fits String(40)
INDEX_COLUMN_LENGTH = 40


def new_id() -> str:
    """Opaque identifiers for URLs and associated data, generated before insert."""
    return str(uuid.uuid4())


class UUIDString(TypeDecorator):
    impl = String(36)
    cache_ok = True


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# --- encrypted fields ----------------------------------------------------------------

class ProtectedFieldError(ValueError):
    """A raw encrypted column was given something that is not a token (e.g. plaintext)."""


def _ring() -> crypto.KeyRing:
    from .keyfile import current_keys  # keyfile imports Flask lazily; keep this module Flask-free

    return current_keys().ring


def encrypted_column(nullable: bool = True) -> MappedColumn:
    """The storage of an EncryptedField: a binary token (BYTEA / BLOB), never plaintext."""
    return mapped_column(LargeBinary, nullable=nullable)


@dataclass(frozen=True)
class EncryptedEntry:
    model: type
    name: str  # the field; the column is f"{name}_enc"
    kind: str

    @property
    def table(self) -> str:
        return self.model.__tablename__

    @property
    def column(self) -> str:
        return f"{self.name}_enc"


REGISTRY: list[EncryptedEntry] = []


class EncryptedField:
    """Plaintext view of ``<name>_enc``: decrypts on read, encrypts on write."""

    def __init__(self, name: str | None = None, *, kind: str = "text"):
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}")
        self.name = name
        self.kind = kind
        self.model: type | None = None

    def __set_name__(self, owner: type, attr: str) -> None:
        self.name = self.name or attr
        self.model = owner
        if not hasattr(owner, "__tablename__"):
            raise TypeError(f"EncryptedField {attr!r} needs a model with __tablename__")
        crypto._column_name(owner.__tablename__, self.name)  # validates both names
        REGISTRY.append(EncryptedEntry(owner, self.name, self.kind))

    @property
    def column(self) -> str:
        return f"{self.name}_enc"

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        blob = getattr(obj, self.column)
        if blob is None:
            return None
        return decode_value(self.kind, _ring().decrypt_raw(
            blob, table=self.model.__tablename__, column=self.name, row_id=obj.id))

    def __set__(self, obj, value) -> None:
        if value is None:
            setattr(obj, self.column, None)
            return
        data = encode_value(self.kind, value, self.name)
        if obj.id is None:
            obj.id = new_id()  # the token is bound to the row id, so it must exist first
        setattr(obj, self.column, _ring().encrypt_raw(
            data, table=self.model.__tablename__, column=self.name, row_id=obj.id))


def encode_value(kind: str, value, name: str = "value") -> bytes:
    if kind == "text":
        if not isinstance(value, str):
            raise TypeError(f"{name} takes a str (or None)")
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    # Raised outside the handler: a UnicodeEncodeError holds the whole text.
    raise ValueError(f"{name} is not valid Unicode (lone surrogate)")


def decode_value(kind: str, data: bytes):
    try:
        text = data.decode("utf-8")
        return json.loads(text) if kind == "json" else text
    except ValueError:  # UnicodeDecodeError, JSONDecodeError
        pass
    # Raised outside the handler: the decode error would carry the plaintext.
    raise crypto.DecryptionError(f"a decrypted value does not hold {kind}")


# --- blind indexes -------------------------------------------------------------------

def blind_index_column() -> MappedColumn:
    return mapped_column(String(INDEX_COLUMN_LENGTH), nullable=True, index=True)


def _check_bits(bits: int) -> None:
    if type(bits) is not int or not 1 <= bits <= MAX_INDEX_BITS:
        raise ValueError(f"bits must be an int from 1 to {MAX_INDEX_BITS}")


def _index_value(ring: crypto.KeyRing, key_id: str, value: str, table: str, column: str, bits: int) -> str:
    stored = f"{key_id}:{ring.blind_index(value, table=table, column=column, bits=bits, key_id=key_id)}"
    if len(stored) > INDEX_COLUMN_LENGTH:
        raise ValueError("index key id too long for the blind index column")
    return stored


def blind_index(value: str, *, table: str, column: str, bits: int) -> str:
    """``"<index key id>:<hex>"`` under the active index key."""
    _check_bits(bits)
    ring = _ring()
    return _index_value(ring, ring.active_index_key_id, value, table, column, bits)


def blind_index_candidates(value: str, *, table: str, column: str, bits: int) -> list[str]:
    """The value under every index key in the ring: match with ``column.in_(...)`` while a
    rotation is part-way through (rows not yet moved carry the old key's value)."""
    _check_bits(bits)
    ring = _ring()
    active = ring.active_index_key_id
    order = [active] + [k for k in ring.index_key_ids if k != active]
    return [_index_value(ring, key_id, value, table, column, bits) for key_id in order]


def index_key_id_of(stored: str) -> str:
    return stored.split(":", 1)[0]


@dataclass(frozen=True)
class BlindIndexEntry:
    model: type
    column: str
    source: Callable
    bits: int

    @property
    def table(self) -> str:
        return self.model.__tablename__


BLIND_INDEXES: list[BlindIndexEntry] = []


class BlindIndexField:
    """Declares how a blind index column is computed: ``source(row)`` gives the text to
    index (None for no value). Accessed on the class or a row, it returns itself."""

    def __init__(self, column: str, *, source: Callable, bits: int):
        _check_bits(bits)
        if not callable(source):
            raise TypeError("source must be a callable taking the row")
        self.column = column
        self.source = source
        self.bits = bits
        self.model: type | None = None

    def __set_name__(self, owner: type, attr: str) -> None:
        if not hasattr(owner, "__tablename__"):
            raise TypeError(f"BlindIndexField {attr!r} needs a model with __tablename__")
        crypto._column_name(owner.__tablename__, self.column)
        self.model = owner
        BLIND_INDEXES.append(BlindIndexEntry(owner, self.column, self.source, self.bits))

    def __get__(self, obj, owner=None):
        return self

    def compute(self, row) -> str | None:
        value = self.source(row)
        if value is None:
            return None
        return blind_index(value, table=self.model.__tablename__, column=self.column, bits=self.bits)

    def refresh(self, row) -> str | None:
        """Recompute the row's index column from its source under the active index key."""
        stored = self.compute(row)
        setattr(row, self.column, stored)
        return stored

    def candidates(self, value: str) -> list[str]:
        """Values to match this column against for an exact lookup of ``value``."""
        return blind_index_candidates(value, table=self.model.__tablename__, column=self.column, bits=self.bits)


def refresh_blind_indexes(row) -> None:
    for entry in _indexes_of(type(row)):
        value = entry.source(row)
        setattr(row, entry.column, None if value is None else
                blind_index(value, table=entry.table, column=entry.column, bits=entry.bits))


def _fields_of(cls: type) -> list[EncryptedEntry]:
    return [e for e in REGISTRY if issubclass(cls, e.model)]


def _indexes_of(cls: type) -> list[BlindIndexEntry]:
    return [e for e in BLIND_INDEXES if issubclass(cls, e.model)]


# --- the flush guard -----------------------------------------------------------------

SKIP_INDEX_REFRESH = "clinician_skip_index_refresh"  # session.info flag set by key rotation


def check_token(blob, table: str, column: str, known_key_ids=None) -> None:
    """ProtectedFieldError unless ``blob`` is None or a well-formed binary token."""
    if blob is None:
        return
    try:
        key_id = crypto.KeyRing.key_id_of_raw(blob)
    except crypto.DecryptionError:
        key_id = None
    if key_id is None or (known_key_ids is not None and key_id not in known_key_ids):
        raise ProtectedFieldError(
            f"refusing to write {table}.{column}: it holds no encrypted token. Assign the "
            f"plaintext field ({column.removesuffix('_enc')}), never the raw _enc column")


def _known_key_ids():
    try:
        return set(_ring().data_key_ids)
    except RuntimeError:  # no Flask app context: check the token's form only
        return None


_DECLARED: dict[tuple, tuple[list[EncryptedEntry], list[BlindIndexEntry]]] = {}


def _declared(cls: type) -> tuple[list[EncryptedEntry], list[BlindIndexEntry]]:
    """The fields and indexes a class declares; cached, as it runs for every flushed object
    (the key holds the registries' identities and sizes, so a new declaration is seen)."""
    key = (cls, id(REGISTRY), len(REGISTRY), id(BLIND_INDEXES), len(BLIND_INDEXES))
    found = _DECLARED.get(key)
    if found is None:
        found = _DECLARED[key] = (_fields_of(cls), _indexes_of(cls))
    return found


def _guard_flush(session: Session, flush_context, instances) -> None:
    known: set | None | bool = False  # looked up once, on the first encrypted value
    refresh = not session.info.get(SKIP_INDEX_REFRESH)
    for obj, is_new in [*((o, True) for o in session.new), *((o, False) for o in session.dirty)]:
        fields, indexes = _declared(type(obj))
        if not fields and not indexes:
            continue
        changed_columns = None if is_new else attributes.instance_state(obj).committed_state
        changed = is_new
        for entry in fields:
            if is_new or entry.column in changed_columns:
                changed = True
                if known is False:
                    known = _known_key_ids()
                check_token(getattr(obj, entry.column), entry.table, entry.column, known)
        if indexes and refresh and (changed or session.is_modified(obj, include_collections=False)):
            refresh_blind_indexes(obj)


def guard_new_row(obj) -> None:
    """What the flush guard does for a new row, for a row inserted without a flush
    (``core.direct_insert``): its tokens are checked and its blind indexes computed."""
    fields, indexes = _declared(type(obj))
    known = _known_key_ids() if fields else None
    for entry in fields:
        check_token(getattr(obj, entry.column), entry.table, entry.column, known)
    if indexes:
        refresh_blind_indexes(obj)


event.listen(Session, "before_flush", _guard_flush)
