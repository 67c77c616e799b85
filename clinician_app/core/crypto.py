"""Field encryption: a versioned key ring, AES-256-GCM bound to its cell, and a
keyed blind index (SECURITY.md promises 8-11). Pure Python: no Flask here.

Why this shape
* Envelope encryption: a key-encryption key (KEK, 32 bytes) wraps every other key
  with AES-256-GCM, associated data ``data-key:<id>`` or ``index-key:<id>`` (a wrapped
  key can't be renamed or moved between roles). The KEK may be kept apart from the
  wrapped keys; rotating it (``rewrap``) touches no row.
* Versioned data keys (``k1``, ``k2``...): the key id travels in every token, so old
  rows still decrypt after ``add_data_key``; rotation moves rows over (``reencrypt``)
  and only then calls ``retire_data_key``.
* Per-column subkeys HKDF-SHA256(data key, salt=None, info="table.column"), derived once
  per (key id, table, column) and cached with their AESGCM object.
* Associated data ``table|column|row_id`` binds a token to its cell: moved to another
  row, column or table it does not decrypt. Table and column names must match
  [A-Za-z0-9_]+, so neither the AAD nor the HKDF info is ambiguous.
* Blind index: HMAC-SHA256 under a separate, versioned index key (``i1``...), subkey
  HKDF(index key, info="index:table.column"), over ``normalise_for_index(value)``,
  truncated to ``bits`` (default 32) so many records share a value; the caller decrypts
  the candidates and compares. The value names no key: while an index key rotates,
  search under both (``key_id=old``).
* Fail closed: bad keys and tokens raise CryptoError subclasses whose messages name at
  most a key id or table.column, never plaintext or key bytes; misuse (None, a bad
  table name, an empty row id) raises TypeError/ValueError. "" is a value and round-trips.

Binary token (``encrypt_raw``/``decrypt_raw``, for a BYTEA/BLOB column; what model fields
use, see core/types.py): ``0x01 || len(key id) || key id || nonce[12] || ciphertext || tag[16]``,
32 bytes plus the value for key ids like ``k1``. No text encoding to pay for, so it
costs little more than the cipher itself (bench/crypto_bench.py).

Text token (``encrypt``/``decrypt``, for a TEXT column): ``v1:<key id>:<base64(nonce[12] ||
ciphertext || tag[16])>``, standard base64 with padding (no url-safe translation to pay
for; tokens never go in URLs), decoded strictly so each ciphertext has one spelling.
Size: ~44 characters plus 4/3 of the value.

Key material (JSON)::

    {"format": 1, "kek": "<base64 of 32 bytes>",
     "data_keys": [{"id": "k1", "wrapped": "<base64(nonce || GCM(kek, key))>",
                    "created": "2025-01-01T00:00:00+00:00"}], "active": "k1",
     "index_keys": [{"id": "i1", "wrapped": "...", "created": "..."}], "active_index": "i1"}
"""
from __future__ import annotations

import binascii
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from os import urandom as _urandom

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_VERSION = "v1"
RAW_VERSION = 1  # first byte of a binary token
MATERIAL_FORMAT = 1
KEY_BYTES, NONCE_BYTES, TAG_BYTES = 32, 12, 16
DATA, INDEX = "data-key", "index-key"
_NAME = re.compile(r"[A-Za-z0-9_]+")
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
_B64_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
# material field names per role: (list of keys, active id, id prefix)
_FIELDS = {DATA: ("data_keys", "active", "k"), INDEX: ("index_keys", "active_index", "i")}


class CryptoError(Exception):
    """Base of every error raised here; messages never carry secrets or plaintext."""


class MissingKeyError(CryptoError):
    """Key material is absent, or a token names a key id the ring doesn't hold."""


class DecryptionError(CryptoError):
    """Tampered or malformed token, wrong key, or wrong table/column/row."""


@dataclass
class _Key:
    id: str
    raw: bytes = field(repr=False)
    wrapped: str
    created: str


def _b64(raw: bytes) -> str:
    return binascii.b2a_base64(raw, newline=False).decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict, canonical base64 (ValueError otherwise): one spelling per value."""
    raw = binascii.a2b_base64(text, strict_mode=True)
    rem = len(raw) % 3  # strict mode still lets through surplus "=" and non-zero unused bits
    if len(text) != (len(raw) + 2) // 3 * 4 or (
            rem and _B64_VALUE[text[-3 if rem == 1 else -2]] & (0x0F if rem == 1 else 0x03)):
        raise ValueError("non-canonical base64")
    return raw


def _utf8(text: str) -> bytes | None:
    """None for text with lone surrogates; the caller raises outside any handler,
    because a UnicodeError (even as a suppressed __context__) holds the whole text."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None


def _parse_raw(blob, table: str, column: str) -> tuple[str, int]:
    """(key id, offset of the nonce) of a binary token; DecryptionError if malformed."""
    if not isinstance(blob, (bytes, bytearray, memoryview)):
        raise DecryptionError(f"{table}.{column} does not hold a binary token")
    if len(blob) < 3 or blob[0] != RAW_VERSION:
        raise DecryptionError(f"malformed token in {table}.{column}")
    start = 2 + blob[1]
    key_id = bytes(blob[2:start]).decode("ascii", "replace")
    if len(blob) < start + NONCE_BYTES + TAG_BYTES or not _KEY_ID.fullmatch(key_id):
        raise DecryptionError(f"malformed token in {table}.{column}")
    return key_id, start


def _subkey(key: bytes, info: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info.encode()).derive(key)


def _column_name(table: str, column: str) -> str:
    if not all(isinstance(n, str) and _NAME.fullmatch(n) for n in (table, column)):
        raise ValueError("table and column must match [A-Za-z0-9_]+")
    return f"{table}.{column}"


def _check_row_id(row_id: str) -> None:
    if type(row_id) is not str:
        raise TypeError("row_id must be a str")
    if not row_id:
        raise ValueError("row_id is empty: assign the row's id before encrypting")


def _check_kek(kek: bytes) -> bytes:
    if not isinstance(kek, bytes) or len(kek) != KEY_BYTES:
        raise CryptoError(f"the KEK must be {KEY_BYTES} bytes")
    return kek


def _wrap(kek: bytes, role: str, key_id: str, raw: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    return _b64(nonce + AESGCM(kek).encrypt(nonce, raw, f"{role}:{key_id}".encode()))


def _unwrap(kek: bytes, role: str, entry: dict) -> _Key:
    if not isinstance(entry, dict) or not entry.get("id") or not entry.get("wrapped"):
        raise MissingKeyError(f"a {role} entry lacks 'id' or 'wrapped'")
    key_id = entry["id"]
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        raise CryptoError(f"{role} id {key_id!r} is not a short [A-Za-z0-9_-] name")
    try:
        blob = _unb64(entry["wrapped"])
        raw = AESGCM(kek).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], f"{role}:{key_id}".encode())
    except (ValueError, TypeError, InvalidTag):
        raise DecryptionError(f"the KEK does not unwrap {role} '{key_id}': wrong key-encryption key, "
                              "or the key material was altered") from None
    if len(raw) != KEY_BYTES:
        raise CryptoError(f"{role} '{key_id}' is not {KEY_BYTES} bytes")
    return _Key(key_id, raw, entry["wrapped"], str(entry.get("created") or ""))


def _new_key(kek: bytes, role: str, existing) -> _Key:
    """Ids count up from the highest present (the active key is the newest), never reused."""
    prefix = _FIELDS[role][2]
    numbers = [int(k[1:]) for k in existing if k[:1] == prefix and k[1:].isdigit()]
    key_id, raw = f"{prefix}{max(numbers, default=0) + 1}", os.urandom(KEY_BYTES)
    return _Key(key_id, raw, _wrap(kek, role, key_id, raw), datetime.now(UTC).isoformat(timespec="seconds"))


def normalise_for_index(value: str) -> str:
    """NFKC, case-folded, whitespace runs collapsed to one space, stripped."""
    if not isinstance(value, str):
        raise TypeError("blind index input must be a str")
    # NFKC again after casefold: folding can leave a string that is not NFKC.
    return " ".join(unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold()).split())


def new_key_material() -> dict:
    """A fresh KEK with one data key (k1) and one index key (i1), JSON-ready."""
    return KeyRing.generate().to_material()


class KeyRing:
    """Unwrapped keys in memory. Build it with ``from_material`` (or ``generate``)."""

    def __init__(self, kek: bytes, keys: dict[str, dict[str, _Key]], active: dict[str, str]):
        self._kek = _check_kek(kek)
        self._keys = keys  # role -> {key id -> _Key}
        self._active = active  # role -> active key id
        self._ciphers: dict[tuple[str, str, str], AESGCM] = {}
        self._index_subkeys: dict[tuple[str, str, str], bytes] = {}
        # Binary-token caches: (table, column) -> (cipher, header) under the active key, and
        # (header, table, column) -> cipher for decryption. Emptied when keys change.
        self._raw_enc: dict[tuple[str, str], tuple[AESGCM, bytes]] = {}
        self._raw_dec: dict[tuple[bytes, str, str], AESGCM] = {}

    def __repr__(self) -> str:
        return f"<KeyRing {', '.join(f'{r}s={sorted(k)} active={self._active[r]}' for r, k in self._keys.items())}>"

    @classmethod
    def generate(cls) -> KeyRing:
        kek = os.urandom(KEY_BYTES)
        keys = {role: {(key := _new_key(kek, role, ())).id: key} for role in (DATA, INDEX)}
        return cls(kek, keys, {role: next(iter(keys[role])) for role in keys})

    @classmethod
    def from_material(cls, material: dict) -> KeyRing:
        if not isinstance(material, dict):
            raise MissingKeyError("encryption key material is missing (expected a JSON object)")
        if material.get("format", MATERIAL_FORMAT) != MATERIAL_FORMAT:
            raise CryptoError(f"unsupported key material format {material.get('format')!r}")
        missing = [n for n in ("kek", "data_keys", "active", "index_keys", "active_index") if not material.get(n)]
        if missing:
            raise MissingKeyError(f"encryption key material lacks: {', '.join(missing)}")
        kek = material["kek"]
        if isinstance(kek, str):
            try:
                kek = _unb64(kek)
            except ValueError:
                raise CryptoError("the KEK is not valid base64") from None
        kek = _check_kek(kek)
        keys, active = {}, {}
        for role, (list_name, active_name, _prefix) in _FIELDS.items():
            keys[role] = {}
            for entry in material[list_name]:
                key = _unwrap(kek, role, entry)
                if key.id in keys[role]:
                    raise CryptoError(f"{role} id '{key.id}' appears twice")
                keys[role][key.id] = key
            active[role] = material[active_name]
            if not isinstance(active[role], str) or active[role] not in keys[role]:
                raise MissingKeyError(f"the active {role} {active[role]!r} is not in '{list_name}'")
        return cls(kek, keys, active)

    def to_material(self, *, include_kek: bool = True) -> dict:
        """JSON-ready; ``include_kek=False`` when the KEK is kept elsewhere."""
        material: dict = {"format": MATERIAL_FORMAT}
        if include_kek:
            material["kek"] = _b64(self._kek)
        for role, (list_name, active_name, _prefix) in _FIELDS.items():
            material[list_name] = [{"id": k.id, "wrapped": k.wrapped, "created": k.created} for k in self._keys[role].values()]
            material[active_name] = self._active[role]
        return material

    @property
    def active_key_id(self) -> str:
        return self._active[DATA]

    @property
    def active_index_key_id(self) -> str:
        return self._active[INDEX]

    @property
    def data_key_ids(self) -> list[str]:
        return list(self._keys[DATA])

    @property
    def index_key_ids(self) -> list[str]:
        return list(self._keys[INDEX])

    # -- encryption -------------------------------------------------------------------
    def _cipher(self, key_id: str, table: str, column: str) -> AESGCM:
        cipher = self._ciphers.get((key_id, table, column))
        if cipher is None:
            info = _column_name(table, column)
            key = self._keys[DATA].get(key_id)
            if key is None:
                raise MissingKeyError(f"no data key {key_id!r} in the key ring")
            cipher = self._ciphers[(key_id, table, column)] = AESGCM(_subkey(key.raw, info))
        return cipher

    def encrypt_bytes(self, data: bytes, *, table: str, column: str, row_id: str) -> str:
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError("encrypt_bytes takes bytes (None is not a value; store NULL instead)")
        key_id = self._active.get(DATA)
        if not key_id:
            raise MissingKeyError("no active data key: refusing to encrypt")
        cipher = self._cipher(key_id, table, column)
        _check_row_id(row_id)
        nonce = os.urandom(NONCE_BYTES)
        sealed = cipher.encrypt(nonce, data, f"{table}|{column}|{row_id}".encode())
        return f"{FORMAT_VERSION}:{key_id}:{_b64(nonce + sealed)}"

    def encrypt(self, plaintext: str, *, table: str, column: str, row_id: str) -> str:
        if not isinstance(plaintext, str):
            raise TypeError("encrypt takes a str (None is not a value; store NULL instead)")
        data = _utf8(plaintext)
        if data is None:
            raise ValueError("plaintext is not valid Unicode (lone surrogate)")
        return self.encrypt_bytes(data, table=table, column=column, row_id=row_id)

    def decrypt_bytes(self, token: str, *, table: str, column: str, row_id: str) -> bytes:
        if not isinstance(token, str):
            raise TypeError("decrypt takes a str token")
        parts = token.split(":", 2)
        if len(parts) != 3 or parts[0] != FORMAT_VERSION:
            raise DecryptionError(f"malformed token in {table}.{column}")
        cipher = self._cipher(parts[1], table, column)
        _check_row_id(row_id)
        try:
            blob = memoryview(_unb64(parts[2]))
            if len(blob) < NONCE_BYTES + TAG_BYTES:
                raise ValueError("too short")
            return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], f"{table}|{column}|{row_id}".encode())
        except (ValueError, InvalidTag):
            raise DecryptionError(f"cannot decrypt {table}.{column}: altered or malformed, wrong key, "
                                  "or bound to another row or column") from None

    def decrypt(self, token: str, *, table: str, column: str, row_id: str) -> str:
        data = self.decrypt_bytes(token, table=table, column=column, row_id=row_id)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None:  # raised outside the handler: the decode error holds the plaintext
            raise DecryptionError(f"{table}.{column} does not hold UTF-8 text")
        return text

    # -- binary tokens (LargeBinary columns) --------------------------------------------
    def encrypt_raw(self, data: bytes, *, table: str, column: str, row_id: str) -> bytes:
        """Binary token: RAW_VERSION, len(key id), key id, nonce[12], ciphertext || tag[16].

        The hot path of every encrypted model field: one cache look-up per call for the
        column's cipher and header under the active key (see _raw_enc)."""
        entry = self._raw_enc.get((table, column))
        if entry is None:
            key_id = self._active.get(DATA)
            if not key_id:
                raise MissingKeyError("no active data key: refusing to encrypt")
            entry = self._raw_enc[(table, column)] = (self._cipher(key_id, table, column), self._raw_header(key_id))
        if type(data) is not bytes and not isinstance(data, (bytearray, memoryview)):
            raise TypeError("encrypt_raw takes bytes (None is not a value; store NULL instead)")
        if type(row_id) is not str or not row_id:
            _check_row_id(row_id)
        nonce = _urandom(NONCE_BYTES)
        return b"".join((entry[1], nonce, entry[0].encrypt(nonce, data, f"{table}|{column}|{row_id}".encode())))

    def _raw_header(self, key_id: str) -> bytes:
        encoded = key_id.encode("ascii")
        return bytes((RAW_VERSION, len(encoded))) + encoded

    def decrypt_raw(self, blob: bytes, *, table: str, column: str, row_id: str) -> bytes:
        if type(blob) is not bytes:
            if not isinstance(blob, (bytearray, memoryview)):
                raise DecryptionError(f"{table}.{column} does not hold a binary token")
            blob = bytes(blob)
        # Headers seen before (validated once) map straight to their cipher.
        start = 2 + blob[1] if len(blob) > 2 else 0
        cipher = self._raw_dec.get((blob[:start], table, column))
        if cipher is None:
            key_id, start = _parse_raw(blob, table, column)
            cipher = self._cipher(key_id, table, column)
            self._raw_dec[(blob[:start], table, column)] = cipher
        elif len(blob) < start + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError(f"malformed token in {table}.{column}")
        if type(row_id) is not str or not row_id:
            _check_row_id(row_id)
        try:
            return cipher.decrypt(blob[start:start + NONCE_BYTES], blob[start + NONCE_BYTES:],
                                  f"{table}|{column}|{row_id}".encode())
        except InvalidTag:
            raise DecryptionError(f"cannot decrypt {table}.{column}: altered, wrong key, "
                                  "or bound to another row or column") from None

    @staticmethod
    def key_id_of_raw(blob: bytes) -> str:
        """The data key id a binary token names (DecryptionError if it is not a well-formed token)."""
        return _parse_raw(blob, "?", "?")[0]

    def reencrypt_raw(self, blob: bytes, *, table: str, column: str, row_id: str) -> bytes:
        """The binary token under the active data key (the same object if already so)."""
        if self.key_id_of_raw(blob) == self.active_key_id:
            return blob
        data = self.decrypt_raw(blob, table=table, column=column, row_id=row_id)
        return self.encrypt_raw(data, table=table, column=column, row_id=row_id)

    @staticmethod
    def key_id_of(token: str) -> str:
        parts = token.split(":", 2) if isinstance(token, str) else ()
        if len(parts) != 3 or parts[0] != FORMAT_VERSION or not _KEY_ID.fullmatch(parts[1]):
            raise DecryptionError("malformed token")
        return parts[1]

    def reencrypt(self, token: str, *, table: str, column: str, row_id: str) -> str:
        """The token under the active data key (the same token if already so): for rotation."""
        if self.key_id_of(token) == self.active_key_id:
            return token
        data = self.decrypt_bytes(token, table=table, column=column, row_id=row_id)
        return self.encrypt_bytes(data, table=table, column=column, row_id=row_id)

    # -- keys for other purposes -------------------------------------------------------
    def purpose_key(self, purpose: str, *, key_id: str | None = None) -> tuple[str, bytes]:
        """(data key id, 32-byte key) for a use other than field encryption, such as
        encrypting a backup file: HKDF(data key, info="purpose:<purpose>"). The ":" keeps
        it apart from every column subkey ("table.column"), and the key id (the active
        data key unless given) is stored beside what it protects, so that the key is
        found again while the data key stays in the ring."""
        if not isinstance(purpose, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]{1,120}", purpose):
            raise ValueError("purpose must be a short [A-Za-z0-9_.:-] name")
        key_id = key_id or self._active[DATA]
        key = self._keys[DATA].get(key_id)
        if key is None:
            raise MissingKeyError(f"no data key {key_id!r} in the key ring")
        return key_id, _subkey(key.raw, f"purpose:{purpose}")

    # -- rotation ---------------------------------------------------------------------
    def _add(self, role: str) -> str:
        key = _new_key(self._kek, role, self._keys[role])
        self._keys[role][key.id] = key
        self._active[role] = key.id
        self._raw_enc = {}
        return key.id

    def _retire(self, role: str, key_id: str) -> None:
        if key_id not in self._keys[role]:
            raise MissingKeyError(f"no {role} {key_id!r} in the key ring")
        if key_id == self._active[role]:
            raise CryptoError(f"the active {role} can't be retired; add a new one first")
        del self._keys[role][key_id]
        self._ciphers = {k: v for k, v in self._ciphers.items() if k[0] != key_id}
        self._index_subkeys = {k: v for k, v in self._index_subkeys.items() if k[0] != key_id}
        self._raw_enc, self._raw_dec = {}, {}

    def add_data_key(self) -> str:
        """A new data key, made active; returns its id."""
        return self._add(DATA)

    def retire_data_key(self, key_id: str) -> None:
        """Forget a data key; the caller has checked that no token still uses it."""
        self._retire(DATA, key_id)

    def add_index_key(self) -> str:
        return self._add(INDEX)

    def retire_index_key(self, key_id: str) -> None:
        self._retire(INDEX, key_id)

    def rewrap(self, new_kek: bytes | None = None) -> None:
        """KEK rotation: wrap every data and index key under a new KEK (random if None)."""
        kek = _check_kek(os.urandom(KEY_BYTES) if new_kek is None else new_kek)
        # Wrap everything first, then switch, so a failure leaves the ring as it was.
        rewrapped = [(key, _wrap(kek, role, key.id, key.raw)) for role, keys in self._keys.items() for key in keys.values()]
        for key, wrapped in rewrapped:
            key.wrapped = wrapped
        self._kek = kek

    # -- blind index ------------------------------------------------------------------
    def blind_index(self, value: str, *, table: str, column: str, bits: int = 32, key_id: str | None = None) -> str:
        """Truncated HMAC of the normalised value: the top ``bits`` bits as (bits+3)//4 hex digits."""
        if type(bits) is not int or not 1 <= bits <= 256:
            raise ValueError("bits must be an int from 1 to 256")
        key_id = key_id or self._active[INDEX]
        subkey = self._index_subkeys.get((key_id, table, column))
        if subkey is None:
            info = "index:" + _column_name(table, column)
            key = self._keys[INDEX].get(key_id)
            if key is None:
                raise MissingKeyError(f"no index key {key_id!r} in the key ring")
            subkey = self._index_subkeys[(key_id, table, column)] = _subkey(key.raw, info)
        data = _utf8(normalise_for_index(value))
        if data is None:
            raise ValueError("value is not valid Unicode (lone surrogate)")
        nbytes = (bits + 7) // 8
        number = int.from_bytes(hmac.digest(subkey, data, "sha256")[:nbytes], "big") >> (nbytes * 8 - bits)
        return format(number, f"0{(bits + 3) // 4}x")


__all__ = ["CryptoError", "DecryptionError", "KeyRing", "MissingKeyError", "new_key_material", "normalise_for_index"]
