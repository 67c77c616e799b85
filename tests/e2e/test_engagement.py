"""Community engagement in a real browser: the demo officer records a visit to the
high school on a phone (after a negative duration is refused with what was typed
kept), then the demo clinician opens the demo call at the school and sees the
visit in the call's "engagement here" panel, and the school's page."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import review, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.no_transaction]

PURPOSE = "Lunch-time walk-through with the school resource officer"


def test_officer_records_a_school_visit_on_a_phone_and_a_clinician_sees_it_on_a_call(live_server, phone_page, page):
    phone = phone_page
    sign_in(phone, live_server.user("officer.chelmsford"))
    phone.goto("/engagement/")
    expect(phone.get_by_role("heading", name="Community engagement")).to_be_visible()
    review(phone, "engagement-overview-phone")
    phone.get_by_role("link", name="Record a visit").click()
    phone.wait_for_url("**/engagement/visits/new")
    expect(phone.get_by_label("Owen Officer")).to_be_checked()  # the officer recording it, by default
    review(phone, "engagement-visit-form-phone")

    phone.get_by_label("Place", exact=True).select_option(label="Chelmsford High School (School)")
    phone.get_by_label("Duration in minutes").fill("-10")
    phone.get_by_label("Purpose").fill(PURPOSE)
    phone.get_by_label("Short notes").fill("Quiet lunch; new visitor sign-in desk at the main door.")
    phone.get_by_role("button", name="Record the visit").click()
    expect(phone.locator(".usa-error-message").first).to_contain_text("can't be negative")
    expect(phone.get_by_label("Duration in minutes")).to_have_value("-10")
    expect(phone.get_by_label("Purpose")).to_have_value(PURPOSE)
    expect(phone.get_by_label("Place", exact=True)).to_have_value(re.compile(r"[0-9a-f-]{36}"))
    review(phone, "engagement-visit-error-phone")

    phone.get_by_label("Duration in minutes").fill("25")
    phone.get_by_role("button", name="Record the visit").click()
    phone.wait_for_url(re.compile(r"/engagement/visits/[0-9a-f-]{36}$"))
    expect(phone.locator(".app-flash")).to_contain_text("Visit at Chelmsford High School recorded.")
    expect(phone.locator("[data-visit-notes]")).to_contain_text("visitor sign-in desk")
    review(phone, "engagement-visit-phone")

    sign_in(page, live_server.user("clinician.chelmsford"))
    page.goto("/calls/")
    page.get_by_role("link", name="CPD-D-0011").click()
    panel = page.locator("[data-section=engagement]")
    expect(panel).to_contain_text("Chelmsford High School")
    expect(panel).to_contain_text(PURPOSE)
    expect(panel).to_contain_text("Online safety night for parents")
    expect(panel).not_to_contain_text("visitor sign-in desk")  # notes stay on the visit's own page
    panel.scroll_into_view_if_needed()
    review(page, "engagement-call-panel-clinician")

    panel.get_by_role("link", name="Chelmsford High School").click()
    page.wait_for_url(re.compile(r"/engagement/places/[0-9a-f-]{36}$"))
    expect(page.locator("[data-section=place-visits]")).to_contain_text(PURPOSE)
    expect(page.locator("[data-section=place-calls]")).to_contain_text("CPD-D-0011")
    review(page, "engagement-place-clinician")
