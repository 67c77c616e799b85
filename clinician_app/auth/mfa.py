"""TOTP second factor (RFC 6238) with replay protection, and recovery codes."""
import hashlib
import hmac
import secrets
import time

import pyotp
import segno

ISSUER = "Clinician App"
STEP = 30
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG (server-side, no script, no data: URL)."""
    qr = segno.make(uri, error="m")
    return qr.svg_inline(scale=5, dark="#1b1b1b", light="#ffffff", title="QR code for your authenticator app")


def match_totp(secret: str, code: str, last_counter: int | None, now: float | None = None) -> int | None:
    """Return the time-step counter the code belongs to, or None.

    One step of clock drift either way is accepted; a counter at or before the
    last one used is refused, so a code can't be replayed within its window.
    """
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP)
    for counter in (current - 1, current, current + 1):
        if last_counter is not None and counter <= last_counter:
            continue
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def new_recovery_codes() -> list[str]:
    def one() -> str:
        chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        return f"{chars[:5]}-{chars[5:]}"

    return [one() for _ in range(RECOVERY_CODE_COUNT)]


def hash_recovery_code(code: str) -> str:
    # Codes carry ~49 bits of randomness each and are single use; a plain hash suffices.
    normalised = code.strip().lower().replace(" ", "").replace("-", "")
    return hashlib.sha256(normalised.encode()).hexdigest()
