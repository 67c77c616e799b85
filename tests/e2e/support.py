"""What browser tests share: demo users with a replay-safe TOTP source, signing
in through the real forms, and reviewing a page (screenshot, then axe)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp

from .axe import assert_accessible

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = ROOT / "test-artifacts" / "screenshots"
TOTP_STEP = 30


class TotpClock:
    """Hands out TOTP codes, never two from the same time step for one user.

    The server refuses a code whose step is at or before the last one it
    accepted for that user (replay protection), so a second sign-in of the same
    user waits for the next step instead of failing at random.
    """

    def __init__(self):
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()

    def code_for(self, username: str, secret: str) -> str:
        with self._lock:
            step = int(time.time() // TOTP_STEP)
            last = self._last.get(username)
            if last is not None and step <= last:
                time.sleep((last + 1) * TOTP_STEP - time.time() + 0.2)
                step = int(time.time() // TOTP_STEP)
            self._last[username] = step
            return pyotp.TOTP(secret).at(step * TOTP_STEP)


@dataclass
class DemoUser:
    username: str
    password: str
    totp_secret: str
    roles: list[str]
    agency: str
    clock: TotpClock = field(repr=False)

    def current_code(self) -> str:
        return self.clock.code_for(self.username, self.totp_secret)

    def invalid_code(self) -> str:
        """Six digits the server will not accept at any step it would try now."""
        totp = pyotp.TOTP(self.totp_secret)
        now = time.time()
        near = {totp.at(now + offset) for offset in range(-2 * TOTP_STEP, 3 * TOTP_STEP, TOTP_STEP)}
        return next(code for code in (f"{n:06d}" for n in range(1000000)) if code not in near)


def review(page, name: str | None, full_page: bool = True) -> None:
    """Screenshot the page as ``<name>.png`` (taken first, so it is kept when a
    check then fails; skipped without a name), then check that nothing sticks
    out sideways and that axe finds nothing serious."""
    if name:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"), full_page=full_page)
    assert_fits_viewport(page)
    assert_accessible(page, name or page.url)


def assert_fits_viewport(page) -> None:
    """No horizontal scrolling: on a phone, content wider than the screen is
    content someone misses."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the viewport"


def submit_password(page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def submit_code(page, code: str) -> None:
    page.get_by_label("Code", exact=False).fill(code)
    page.get_by_role("button", name="Verify").click()


def sign_in(page, user: DemoUser, shots: str | None = None) -> None:
    """Password, then TOTP, through the real forms, reviewing both pages.

    ``shots`` names the screenshots of the two pages (``signin-<shots>`` and
    ``verify-<shots>``); without it the pages are checked but not kept.
    """
    page.goto("/auth/login")
    review(page, f"signin-{shots}" if shots else None)
    submit_password(page, user.username, user.password)
    page.wait_for_url("**/auth/verify")
    review(page, f"verify-{shots}" if shots else None)
    submit_code(page, user.current_code())
    page.wait_for_url(lambda url: "/auth/" not in url)
