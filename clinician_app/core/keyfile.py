"""Key material kept outside the database: the Flask secret, the audit MAC key
and the field-encryption key ring.

Development keeps them in ``instance/keys.json`` (mode 0600, git-ignored),
created by ``python -m clinician_app.core.keyfile init PATH`` (``make run`` does
it). Production mounts the same file (``CLINICIAN_KEYS_FILE``) or passes its
JSON in ``CLINICIAN_KEYS_JSON``; ``CLINICIAN_KEK`` may carry the key-encryption
key separately from the wrapped data keys. Anything missing or wrong stops the
app at start-up with a message that says what to fix.

A running app re-reads a key file that changed (``current_keys``), so a key added by
``flask keys rotate`` in another process is used here before rows move to it.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import crypto

# A running app re-reads its key file when it changes, checking at most this often,
# so workers pick up a key added by ``keys rotate`` before rotation re-encrypts anything.
RELOAD_INTERVAL_SECONDS = 2.0
log = logging.getLogger(__name__)


class KeyConfigError(RuntimeError):
    """The app cannot start: key material is missing or does not fit the data."""


@dataclass
class AppKeys:
    secret_key: bytes
    audit_key: bytes
    ring: crypto.KeyRing
    path: str | None
    # The KEK came from CLINICIAN_KEK: never write it into the key file.
    kek_from_env: bool = False
    # (inode, size, mtime) of the file when read or written: a change means another
    # process saved new keys.
    stamp: tuple | None = field(default=None, repr=False, compare=False)
    next_check: float = field(default=0.0, repr=False, compare=False)

    def to_material(self) -> dict:
        return {
            "secret_key": _b64(self.secret_key),
            "audit_key": _b64(self.audit_key),
            "encryption": self.ring.to_material(include_kek=not self.kek_from_env),
        }

    def save(self) -> None:
        if not self.path:
            raise KeyConfigError("these keys came from the environment (CLINICIAN_KEYS_JSON); "
                                 "mount them as a file (CLINICIAN_KEYS_FILE) to change them with this command")
        write_material(self.path, self.to_material())
        self.stamp = file_stamp(self.path)


def file_stamp(path: str | os.PathLike) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(value: str, name: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (ValueError, TypeError) as exc:
        raise KeyConfigError(f"key '{name}' is not valid base64") from exc
    if len(raw) < 32:
        raise KeyConfigError(f"key '{name}' must be at least 32 bytes")
    return raw


def new_material() -> dict:
    return {
        "secret_key": _b64(secrets.token_bytes(32)),
        "audit_key": _b64(secrets.token_bytes(32)),
        "encryption": crypto.new_key_material(),
    }


def write_material(path: str | os.PathLike, material: dict) -> None:
    """Write atomically with mode 0600 so a crash never leaves half a key file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(material, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    os.chmod(path, 0o600)


def load_keys(path: str | None, environ=os.environ) -> AppKeys:
    raw_json = environ.get("CLINICIAN_KEYS_JSON")
    source_path = None
    if raw_json:
        try:
            material = json.loads(raw_json)
        except ValueError as exc:
            raise KeyConfigError("CLINICIAN_KEYS_JSON is not valid JSON") from exc
    else:
        if not path or not Path(path).is_file():
            raise KeyConfigError(
                f"no key file at {path!r}. Create development keys with "
                f"'python -m clinician_app.core.keyfile init {path}' (make run does this), "
                "or set CLINICIAN_KEYS_FILE / CLINICIAN_KEYS_JSON in production."
            )
        stamp = file_stamp(path)  # before reading: a write racing the read is seen next time
        try:
            material = json.loads(Path(path).read_text())
        except ValueError as exc:
            raise KeyConfigError(f"key file {path} is not valid JSON") from exc
        source_path = str(path)
    missing = [name for name in ("secret_key", "audit_key", "encryption") if not material.get(name)]
    if missing:
        raise KeyConfigError(f"key material lacks: {', '.join(missing)}")
    encryption = dict(material["encryption"])
    kek_from_env = bool(environ.get("CLINICIAN_KEK"))
    if kek_from_env:
        encryption["kek"] = environ["CLINICIAN_KEK"]
    try:
        ring = crypto.KeyRing.from_material(encryption)
    except crypto.CryptoError as exc:
        raise KeyConfigError(f"encryption keys unusable: {exc}") from exc
    return AppKeys(
        secret_key=_unb64(material["secret_key"], "secret_key"),
        audit_key=_unb64(material["audit_key"], "audit_key"),
        ring=ring,
        path=source_path,
        kek_from_env=kek_from_env,
        stamp=stamp if source_path else None,
    )


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] != "init":
        print("usage: python -m clinician_app.core.keyfile init PATH", file=sys.stderr)
        return 2
    path = Path(argv[2])
    if path.exists():
        print(f"keys already present at {path}; leaving them as they are")
        return 0
    write_material(path, new_material())
    print(f"created development keys at {path} (mode 0600; keep it out of git and backups of the database)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main(sys.argv))


def current_keys() -> AppKeys:
    """The running app's keys (imports Flask lazily so this module stays usable standalone).

    Keys read from a file are re-read when the file changes (checked at most every
    RELOAD_INTERVAL_SECONDS), and swapped in whole. A file that changed but can't be
    loaded (half-edited, or a KEK this process doesn't have) leaves the keys in use
    unchanged: a running worker keeps working, and the next start refuses clearly.
    """
    from flask import current_app

    extensions = current_app.extensions
    keys = extensions["clinician_keys"]
    if keys.path:
        now = time.monotonic()
        if now >= keys.next_check:
            keys.next_check = now + RELOAD_INTERVAL_SECONDS
            if file_stamp(keys.path) != keys.stamp:
                keys = _reload(extensions, keys)
    return keys


def _reload(extensions: dict, keys: AppKeys) -> AppKeys:
    try:
        fresh = load_keys(keys.path)
    except KeyConfigError as exc:
        log.warning("key file changed but can't be loaded; keeping the keys in use: %s", exc)
        keys.stamp = file_stamp(keys.path)  # warn once per change, not on every check
        return keys
    fresh.next_check = keys.next_check
    extensions["clinician_keys"] = fresh
    log.info("encryption keys reloaded: data keys %s (active %s), index keys %s (active %s)",
             fresh.ring.data_key_ids, fresh.ring.active_key_id, fresh.ring.index_key_ids, fresh.ring.active_index_key_id)
    return fresh
