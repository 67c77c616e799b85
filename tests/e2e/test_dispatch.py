"""A dispatcher flags a call in a real browser using only the keyboard, lands
on the call with its status, and finds it in the list; the form on a phone."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from .support import review, sign_in

# The live server keeps its own database: the per-test rollback has nothing to do here.
pytestmark = [pytest.mark.e2e, pytest.mark.no_transaction]


def tab_to(page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element has focus (a date-time input takes several
    presses, one per part, so the count is not fixed)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement ? document.activeElement.id : ''") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} never took focus within {limit} presses of Tab")


def test_dispatcher_flags_a_call_with_the_keyboard_only(page, live_server):
    sign_in(page, live_server.user("dispatch.chelmsford"))
    page.goto("/calls/new")
    expect(page.get_by_label("Incident number")).to_be_focused()
    review(page, "dispatch-form-desktop")

    number = f"E2E-{secrets.token_hex(3).upper()}"
    page.keyboard.type(number)
    tab_to(page, "address")  # past the received time, which defaults to now
    page.keyboard.type("14 Pinebrook Ln")
    # The demo holds earlier calls at 14 Pinebrook Lane: the panel beside the form shows them.
    expect(page.locator("#prior-calls")).to_contain_text(re.compile(r"\d+ calls? at this address in the last 90 days"))
    tab_to(page, "call_type")
    page.keyboard.type("Well")
    expect(page.locator("#call_type")).to_have_value("well_being_check")
    tab_to(page, "caller_relation")
    page.keyboard.type("Family")
    expect(page.locator("#caller_relation")).to_have_value("family")
    tab_to(page, "co_response")
    expect(page.locator("#co_response")).to_be_checked()  # flagged by default
    page.keyboard.press("Tab")
    expect(page.locator("#urgency-0")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.locator("#urgency-0")).to_be_checked()
    tab_to(page, "indicator-mental_health")
    page.keyboard.press("Space")
    tab_to(page, "indicator-dementia")
    page.keyboard.press("Space")
    tab_to(page, "caution_hazards")
    page.keyboard.press("Space")
    tab_to(page, "caution_notes")
    page.keyboard.type("Stairs to the door are icy.")
    tab_to(page, "narrative")
    page.keyboard.type("Neighbour reports the resident is confused and outside without a coat.")
    review(page, "dispatch-form-filled-desktop")
    tab_to(page, "save-call")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/calls/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Call {number}")
    expect(page.locator(".app-flash")).to_contain_text(f"Call {number} saved. Status: Flagged for co-response.")
    expect(page.locator(".app-call-status")).to_contain_text("Flagged for co-response")
    expect(page.locator("[data-section=cautions]")).to_contain_text("Stairs to the door are icy.")
    expect(page.get_by_text("confused and outside")).to_have_count(0)  # not shown back to dispatch
    review(page, "dispatch-call-desktop")

    page.goto("/calls/")
    row = page.locator("tr", has=page.get_by_role("link", name=number))
    expect(row).to_have_count(1)
    expect(row.locator(".usa-tag").last).to_have_text("Flagged")
    expect(row).to_contain_text("14 Pinebrook Ln")
    review(page, "dispatch-list-desktop")


def test_dispatch_form_on_a_phone_keeps_what_was_typed(phone_page, live_server):
    page = phone_page
    sign_in(page, live_server.user("dispatch.westford"))
    page.goto("/calls/new")
    review(page, "dispatch-form-phone")

    page.keyboard.type("WPD-D-0001")  # a demo call's number: refused as a duplicate
    tab_to(page, "address")
    page.keyboard.type("7 Boston Rd")
    expect(page.locator("#prior-calls")).to_contain_text("at this address in the last 90 days")
    tab_to(page, "save-call")
    page.keyboard.press("Enter")

    page.wait_for_load_state()
    expect(page.get_by_role("alert").first).to_contain_text("Please correct the highlighted fields.")
    expect(page.locator("#call_type-error")).to_have_text("Choose the call type.")
    expect(page.locator("#address")).to_have_value("7 Boston Rd")
    expect(page.locator("#incident_number")).to_have_value("WPD-D-0001")
    review(page, "dispatch-form-errors-phone")

    page.locator("#call_type").select_option("well_being_check")
    page.locator("#caller_relation").select_option("family")
    page.locator("label[for=urgency-1]").click()
    page.get_by_role("button", name="Save call").click()
    expect(page.locator("#incident_number-error")).to_have_text("Incident number WPD-D-0001 already exists in your agency.")

    page.goto("/calls/")
    review(page, "dispatch-list-phone")


def test_clinician_reads_the_narrative_on_the_call_page(page, live_server):
    sign_in(page, live_server.user("clinician.chelmsford"))
    page.goto("/calls/?status=on_scene")
    page.get_by_role("link", name="CPD-D-0003").click()
    clinical = page.locator("[data-section=clinical]")
    expect(clinical).to_contain_text("Resident confused and distressed")
    expect(clinical).to_contain_text("Dementia")
    expect(page.locator("[data-section=cautions]")).to_contain_text("Stove left on")
    review(page, "call-clinician-desktop")
