"""Follow-ups in a real browser on a phone: the demo clinician opens My work, records
two contact attempts on the demo follow-up (after trying one in the future, which
keeps what was typed), then closes it with a reason."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .support import review, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.no_transaction]


def _local(minutes: int = 0) -> str:
    return (datetime.now(ZoneInfo("America/New_York")) + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def test_clinician_records_two_attempts_and_closes_a_follow_up_on_a_phone(live_server, phone_page):
    page = phone_page
    sign_in(page, live_server.user("clinician.chelmsford"))
    page.goto("/followups/")
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    item = page.locator("[data-followup]").first
    expect(item).to_be_visible()
    review(page, "followups-my-work-phone")
    item.locator("a.app-followup__link").click()
    page.wait_for_url(re.compile(r"/followups/[0-9a-f-]{36}$"))
    followup_url = page.url

    # An attempt in the future: refused, with what was typed kept.
    page.get_by_label("When").fill(_local(120))
    page.locator("label[for=method-0]").click()  # phone
    page.locator("label[for=outcome-1]").click()  # no answer
    page.get_by_label("Short note").fill("Rang twice, no voicemail.")
    page.get_by_role("button", name="Record the attempt").click()
    expect(page.locator(".usa-error-message").first).to_contain_text("can't be in the future")
    expect(page.get_by_label("Short note")).to_have_value("Rang twice, no voicemail.")
    expect(page.locator("#outcome-1")).to_be_checked()
    review(page, "followups-attempt-error-phone")

    for outcome_index, when in ((1, -30), (2, -5)):  # no answer, then left a message
        page.get_by_label("When").fill(_local(when))
        page.locator("label[for=method-0]").click()
        page.locator(f"label[for=outcome-{outcome_index}]").click()
        page.get_by_role("button", name="Record the attempt").click()
        page.wait_for_url(followup_url)
        expect(page.locator(".usa-alert--success, .usa-alert").first).to_contain_text("Attempt recorded")
    expect(page.locator("[data-attempt]")).to_have_count(2)
    review(page, "followups-detail-phone")

    page.get_by_role("link", name="Close the follow-up").click()
    page.get_by_role("button", name="Close the follow-up").click()
    expect(page.locator(".usa-error-message").first).to_contain_text("Give the reason")
    page.get_by_label("Reason").fill("Her daughter confirmed she is safe and at the outpatient clinic today.")
    review(page, "followups-close-phone")
    page.get_by_role("button", name="Close the follow-up").click()
    page.wait_for_url(re.compile(r"/followups/$"))
    expect(page.locator(".usa-alert").first).to_contain_text("Follow-up closed")
    page.goto(followup_url)
    expect(page.locator("[data-status]")).to_contain_text("Done")
    expect(page.get_by_role("button", name="Record the attempt")).to_have_count(0)
