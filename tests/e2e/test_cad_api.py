"""The CAD API against the live server, as the README shows it: the demo token
from `seed-demo --json`, a call posted over HTTP (twice: one call), and the
dispatcher finding it in the browser; the API reference page, desktop and phone."""
from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import _run, _server_env
from .support import review, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.no_transaction]


@pytest.fixture(scope="module")
def demo_token(live_server) -> str:
    # The seed is safe to run again and prints the same tokens (derived from the install's key).
    seeded = json.loads(_run(["-m", "flask", "--app", "wsgi", "seed-demo", "--json"], _server_env(live_server.log_path.parent)))
    return next(c["token"] for c in seeded["api_clients"] if c["agency"] == "CPD")


def _api(live_server, method: str, path: str, token: str, body: dict | None = None, **headers) -> tuple[int, dict]:
    request = urllib.request.Request(f"{live_server.url}{path}", method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local test server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_call_posted_by_cad_reaches_dispatch(page, live_server, demo_token):
    number = f"CAD-{secrets.token_hex(3).upper()}"
    body = {"incident_number": number, "received_at": (datetime.now(UTC) - timedelta(minutes=4)).isoformat(),
            "address": "31 Sunnyside Avenue", "call_type": "well_being_check", "caller_relation": "family",
            "indicators": ["mental_health"], "cautions": ["hazards"], "co_response": True, "urgency": "now",
            "narrative": "Caller says her father has not eaten for days and is talking to himself."}
    key = f"e2e-{secrets.token_hex(8)}"
    status, created = _api(live_server, "POST", "/api/v1/calls", demo_token, body, **{"Idempotency-Key": key})
    assert status == 201, created
    status, retried = _api(live_server, "POST", "/api/v1/calls", demo_token, body, **{"Idempotency-Key": key})
    assert (status, retried["id"]) == (200, created["id"])
    status, fetched = _api(live_server, "GET", f"/api/v1/calls/{created['id']}", demo_token)
    assert status == 200 and fetched["status"] == "flagged" and "narrative" not in fetched
    status, refused = _api(live_server, "POST", "/api/v1/calls", "cat_" + "x" * 43, body)
    assert status == 401 and refused["error"]["code"] == "unauthorized"

    sign_in(page, live_server.user("dispatch.chelmsford"))
    page.goto("/calls/")
    row = page.locator("tr", has=page.get_by_role("link", name=number))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("31 Sunnyside Avenue")


def test_the_api_reference_reads_well_on_desktop_and_phone(page, phone_page, live_server):
    for view, name in ((page, "api-docs-desktop"), (phone_page, "api-docs-phone")):
        view.goto("/api/v1/docs")
        expect(view.get_by_role("heading", level=1)).to_contain_text("CAD API")
        expect(view.get_by_role("heading", name="POST /api/v1/calls: Post a call")).to_be_visible()
        review(view, name)
