"""A live server for browser tests: a fresh key file and SQLite database, the
demo users seeded through the real CLI, and the app under gunicorn on a free
port, driven by the system's Chromium through Playwright."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from .support import ROOT, DemoUser, TotpClock

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
START_TIMEOUT = 30


@dataclass
class LiveServer:
    url: str
    users: dict[str, DemoUser]
    log_path: Path

    def user(self, username: str) -> DemoUser:
        return self.users[username]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def errors_since(self, offset: int) -> list[str]:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()
        return [line for line in lines if " ERROR " in line or "[ERROR]" in line or "status=500" in line]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"REDIS_URL", "CLINICIAN_KEYS_JSON", "CLINICIAN_KEK", "TEST_DATABASE_URL"}}
    env.update({
        "CLINICIAN_ENV": "development",
        "CLINICIAN_KEYS_FILE": str(workdir / "keys.json"),
        "CLINICIAN_INSTANCE_DIR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'e2e.db'}",
        # Every browser signs in from 127.0.0.1: the per-address sign-in limit
        # would otherwise trip part-way through the suite.
        "RATELIMIT_SIGNIN": "1000 per minute",
        # The co-response queue polls for new calls; short here so a test sees one arrive quickly.
        "QUEUE_POLL_SECONDS": "2",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _wait_until_healthy(url: str, process: subprocess.Popen, server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310 - local test server
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"the app did not answer /healthz within {START_TIMEOUT}s:\n{server.log_tail()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("e2e")
    env = _server_env(workdir)
    _run(["-m", "clinician_app.core.keyfile", "init", env["CLINICIAN_KEYS_FILE"]], env)
    _run(["-m", "flask", "--app", "wsgi", "init-db"], env)
    seeded = json.loads(_run(["-m", "flask", "--app", "wsgi", "seed-demo", "--json"], env))
    clock = TotpClock()
    users = {u["username"]: DemoUser(u["username"], u["password"], u["totp_secret"], list(u["roles"]), u["agency"], clock)
             for u in seeded["users"]}

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "server.log"
    server = LiveServer(url=url, users=users, log_path=log_path)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
             "--worker-class", "gthread", "wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(url, process, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(autouse=True)
def _no_server_errors(live_server):
    """A page can look fine while the server logged an error behind it (a
    failed fragment, a swallowed exception): any logged error fails the test."""
    offset = live_server.log_size()
    yield
    time.sleep(0.05)  # let the last request's log line land
    errors = live_server.errors_since(offset)
    assert not errors, "the server logged errors during this test:\n" + "\n".join(errors)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        # CI installs Chromium (.ci/run): there a missing browser is a failure, not a skip.
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set E2E_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser, live_server, **context_options):
    context = browser.new_context(base_url=live_server.url, **context_options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    return context, page


@pytest.fixture()
def page(browser, live_server):
    context, page = _page(browser, live_server, viewport=DESKTOP)
    yield page
    context.close()


@pytest.fixture()
def phone_page(browser, live_server):
    context, page = _page(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    yield page
    context.close()
