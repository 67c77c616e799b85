"""The co-response flow in real browsers: a dispatcher flags a call; a clinician,
watching the queue in another browser, sees it arrive without reloading, triages
it, claims it and records the encounter (after a mistake in the times, which
keeps what was typed); the supervisor reads the step times on the call page.
The queue on a phone too."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, _page
from .support import review, sign_in

# The live server keeps its own database: the per-test rollback has nothing to do here.
pytestmark = [pytest.mark.e2e, pytest.mark.no_transaction]

ZONE = ZoneInfo("America/New_York")  # the demo towns' time zone
POLL_WAIT_MS = 10_000  # the e2e server polls every 2 s (QUEUE_POLL_SECONDS)


def local_input(when: datetime) -> str:
    return when.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def flag_call(page, number: str) -> None:
    page.goto("/calls/new")
    page.get_by_label("Incident number").fill(number)
    page.locator("#received_at").fill(local_input(datetime.now(ZONE) - timedelta(hours=1)))
    page.locator("#address").fill("31 Riverside Dr")
    page.locator("#call_type").select_option("suicidal_person")
    page.locator("#caller_relation").select_option("family")
    page.locator("label[for=urgency-0]").click()  # now
    page.locator("label[for=indicator-suicidal]").click()
    page.locator("label[for=caution_weapon]").click()
    page.get_by_role("button", name="Save call").click()
    page.wait_for_url(re.compile(r"/calls/[0-9a-f-]{36}$"))
    expect(page.locator(".app-call-status")).to_contain_text("Flagged for co-response")


def test_flag_triage_claim_record_and_review(browser, live_server, page):
    clinician_context, clinician = _page(browser, live_server, viewport=DESKTOP)
    supervisor_context, supervisor = _page(browser, live_server, viewport=DESKTOP)
    try:
        sign_in(clinician, live_server.user("clinician.chelmsford"))
        clinician.goto("/calls/queue")
        expect(clinician.get_by_role("heading", level=1)).to_have_text("Co-response queue")
        clinician.evaluate("window.queueMarker = 'still the same page'")

        sign_in(page, live_server.user("dispatch.chelmsford"))
        number = f"E2E-Q-{secrets.token_hex(3).upper()}"
        flag_call(page, number)

        # The clinician's page was not reloaded: the poll brought the row in.
        row = clinician.locator("#queue tr", has=clinician.get_by_role("link", name=number))
        expect(row).to_have_count(1, timeout=POLL_WAIT_MS)
        assert clinician.evaluate("window.queueMarker") == "still the same page"
        expect(row).to_contain_text("Now")
        expect(row).to_contain_text("Weapon")
        expect(row).to_contain_text("Suicidal ideation or attempt")
        expect(row).to_contain_text("Unclaimed")
        expect(row.locator(".app-queue__age")).to_have_text(re.compile(r"^\d+ min$"))
        review(clinician, "queue-new-call-desktop")

        # Triage: the screen was not done; keep the call with the department clinician.
        row.get_by_role("link", name=f"Triage {number}").click()
        clinician.wait_for_url(re.compile(r"/triage/calls/"))
        clinician.locator("label[for=route-0]").click()
        clinician.locator("#override_reason").fill("Department clinician is on scene nearby.")
        clinician.get_by_role("button", name="Save triage").click()
        clinician.wait_for_url(re.compile(r"/calls/[0-9a-f-]{36}$"))

        # Claim from the queue, which sends the clinician back to it.
        clinician.goto("/calls/queue")
        row = clinician.locator("#queue tr", has=clinician.get_by_role("link", name=number))
        row.get_by_role("button", name=f"Claim {number}").click()
        clinician.wait_for_url(re.compile(r"/calls/queue$"))
        row = clinician.locator("#queue tr", has=clinician.get_by_role("link", name=number))
        expect(row).to_contain_text("Held by Casey Clinician")
        review(clinician, "queue-claimed-desktop")

        # Record the encounter, first with the end before the start.
        row.get_by_role("link", name=f"Record encounter for {number}").click()
        clinician.wait_for_url(re.compile(r"/cases/calls/.+/encounter$"))
        # The call was flagged moments ago and the inputs take whole minutes: the next
        # minute is surely after the flag (the server allows a few minutes of clock drift).
        start = datetime.now(ZONE).replace(second=0, microsecond=0) + timedelta(minutes=1)
        started, wrong_end, ended = (local_input(start), local_input(start - timedelta(minutes=15)),
                                     local_input(start + timedelta(minutes=2)))
        clinician.locator("label[for=kind-0]").click()
        clinician.locator("#started_at").fill(started)
        clinician.locator("#ended_at").fill(wrong_end)
        clinician.locator("#disposition").select_option("cbhc_evaluation")
        clinician.locator("label[for=point_of_intervention-1]").click()  # pre-arrest
        clinician.locator("label[for=custody_diverted-0]").click()
        clinician.locator("label[for=ed_visit_prevented-0]").click()
        clinician.locator("#charges-0-charge").fill("Disorderly conduct")
        clinician.locator("label[for=charges-0-diverted]").click()
        clinician.locator("#note").fill("Agreed to a CBHC evaluation; sister present.")
        clinician.get_by_role("button", name="Save encounter and close call").click()

        expect(clinician.locator("#ended_at-error")).to_have_text("The end time is before the start time. Check both times.")
        expect(clinician.locator("#started_at")).to_have_value(started)
        expect(clinician.locator("#ended_at")).to_have_value(wrong_end)
        expect(clinician.locator("#disposition")).to_have_value("cbhc_evaluation")
        expect(clinician.locator("#charges-0-charge")).to_have_value("Disorderly conduct")
        expect(clinician.locator("#note")).to_have_value("Agreed to a CBHC evaluation; sister present.")
        expect(clinician.locator("#ended_at")).to_be_focused()
        review(clinician, "encounter-error-desktop")

        clinician.locator("#ended_at").fill(ended)
        clinician.get_by_role("button", name="Save encounter and close call").click()
        clinician.wait_for_url(re.compile(r"/calls/[0-9a-f-]{36}$"))
        call_url = clinician.url
        expect(clinician.locator(".app-flash")).to_contain_text(f"Encounter recorded. Call {number} is closed.")
        expect(clinician.locator("[data-section=encounters]")).to_contain_text("Disorderly conduct (diverted)")
        review(clinician, "call-encounter-clinician-desktop")

        # The queue no longer holds it.
        clinician.goto("/calls/queue")
        expect(clinician.get_by_role("link", name=number)).to_have_count(0)

        sign_in(supervisor, live_server.user("supervisor.chelmsford"))
        supervisor.goto(call_url)
        progress = supervisor.locator("[data-section=progress]")
        for step in ("flagged_at", "triaged_at", "assigned_at", "first_contact_at", "closed_at"):
            expect(progress.locator(f"[data-step={step}]")).not_to_have_text("Not yet")
        expect(progress.locator("[data-step=time_to_first_contact]")).to_have_text(re.compile(r"\d+ (min|h \d\d min)$"))
        expect(supervisor.locator("[data-section=encounters]")).to_contain_text(
            "Co-response on scene: Mobile crisis / Community Behavioral Health Center evaluation")
        review(supervisor, "call-times-supervisor-desktop")
    finally:
        clinician_context.close()
        supervisor_context.close()


def test_queue_on_a_phone(browser, live_server):
    context, phone = _page(browser, live_server, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        sign_in(phone, live_server.user("clinician.chelmsford"))
        phone.goto("/calls/queue")
        expect(phone.get_by_role("link", name="Refresh")).to_be_visible()
        expect(phone.locator("#queue tbody tr").first).to_be_visible()
        review(phone, "queue-phone")
    finally:
        context.close()
