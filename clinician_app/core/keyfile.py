"""Key material kept outside the database: the Flask secret, the audit MAC key
and the field-encryption key ring.

Development keeps them in ``instance/keys.json`` (mode 0600, git-ignored),
created by ``python -m clinician_app.core.keyfile init PATH`` (``make run`` does
it). Production mounts the same file (``CLINICIAN_KEYS_FILE``) or passes its
JSON in ``CLINICIAN_KEYS_JSON``; ``CLINICIAN_KEK`` may carry the key-encryption
key separately from the wrapped data keys. Anything missing or wrong stops the
app at start-up with a message that says what to fix.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from . import crypto


class KeyConfigError(RuntimeError):
    """The app cannot start: key material is missing or does not fit the data."""


@dataclass
class AppKeys:
    secret_key: bytes
    audit_key: bytes
    ring: crypto.KeyRing
    path: str | None

    def to_material(self) -> dict:
        return {
            "secret_key": _b64(self.secret_key),
            "audit_key": _b64(self.audit_key),
            "encryption": self.ring.to_material(),
        }

    def save(self) -> None:
        if not self.path:
            raise KeyConfigError("these keys came from the environment; save them where they came from")
        write_material(self.path, self.to_material())


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
        try:
            material = json.loads(Path(path).read_text())
        except ValueError as exc:
            raise KeyConfigError(f"key file {path} is not valid JSON") from exc
        source_path = str(path)
    missing = [name for name in ("secret_key", "audit_key", "encryption") if not material.get(name)]
    if missing:
        raise KeyConfigError(f"key material lacks: {', '.join(missing)}")
    encryption = dict(material["encryption"])
    if environ.get("CLINICIAN_KEK"):
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
    """The running app's keys (imports Flask lazily so this module stays usable standalone)."""
    from flask import current_app

    return current_app.extensions["clinician_keys"]
