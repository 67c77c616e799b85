"""What ``/readyz`` checks. Each check answers True or False and lets no detail
out (an error message could name a host, a user or a key id)."""
from __future__ import annotations

import logging

from sqlalchemy import text

from clinician_app.extensions import db

log = logging.getLogger(__name__)
_PROBE = b"readiness probe"


def database_ready() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        db.session.rollback()
        log.warning("readiness: database unavailable", extra={"error_type": type(exc).__name__})
        return False


def keys_ready() -> bool:
    """The key ring (re-read if its file changed) encrypts and decrypts under the
    active data key, and the audit key is present."""
    from clinician_app.core.keyfile import current_keys

    try:
        keys = current_keys()
        ring = keys.ring
        token = ring.encrypt_raw(_PROBE, table="readiness", column="probe", row_id="readyz")
        ok = ring.decrypt_raw(token, table="readiness", column="probe", row_id="readyz") == _PROBE
        return ok and len(keys.audit_key) >= 32
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: keys unusable", extra={"error_type": type(exc).__name__})
        return False


def redis_ready(url: str) -> bool:
    from redis import Redis

    try:
        client = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        log.warning("readiness: redis unavailable", extra={"error_type": type(exc).__name__})
        return False
