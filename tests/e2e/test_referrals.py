"""Referrals in a real browser: Chelmsford's clinician records Marguerite's consent to
share with the BHU and refers her there from her case; the BHU liaison reads the
summary in the inbox and accepts; Chelmsford sees it accepted in the outbox; the
auditor finds her and lists the disclosure in the accounting of disclosures."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, _page
from .support import review, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.no_transaction]

REASON = "Repeat calls at home; family asks for regular BHU check-ins."


def test_refer_to_the_bhu_under_a_consent_accept_and_account(live_server, browser, page):
    # --- Chelmsford's clinician: consent, then the referral --------------------------
    sign_in(page, live_server.user("clinician.chelmsford"))
    page.goto("/cases/")
    page.get_by_role("link", name=re.compile("Marguerite")).first.click()
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    case_url = page.url
    expect(page.locator("[data-section=referrals]")).to_be_visible()
    review(page, "referrals-case-section")

    page.locator("[data-section=referrals]").get_by_role("link", name="Consents").click()
    page.get_by_role("link", name="Record a consent").click()
    page.locator("label[for=recipient_kind-0]").click()  # a named agency
    page.locator("#recipient_agency_id").select_option(label="Regional Behavioral Health Unit")
    page.get_by_role("button", name="Record the consent").click()
    expect(page.locator(".usa-error-message").first).to_be_visible()  # no purpose, no expiry: refused
    expect(page.get_by_text("State the purpose of the disclosure.").first).to_be_visible()
    review(page, "referrals-consent-errors")
    page.get_by_label("Purpose").fill("To arrange regular check-ins with the regional BHU")
    page.get_by_label("Expires on").fill((date.today() + timedelta(days=180)).isoformat())
    page.get_by_label("Signed or given on").fill(date.today().isoformat())
    page.locator("label[for=signed_method-0]").click()  # written
    page.get_by_role("button", name="Record the consent").click()
    page.wait_for_url(re.compile(r"/referrals/consents/[0-9a-f-]{36}$"))
    expect(page.locator("[data-state]")).to_contain_text("In effect")
    review(page, "referrals-consent")

    page.goto(case_url)
    page.get_by_role("link", name="Refer to another agency").click()
    page.locator("#to_agency_id").select_option(label="Regional Behavioral Health Unit")
    page.get_by_label("Reason for the referral").fill(REASON)
    page.locator("label[for=risk_level-1]").click()  # moderate
    page.locator("label[for=requested_action-0]").click()  # take over
    page.get_by_label("Short summary").fill("Calmer with her daughter present.")
    page.get_by_role("button", name="Send the referral").click()
    expect(page.get_by_text("Choose the consent this relies on").first).to_be_visible()
    expect(page.get_by_label("Reason for the referral")).to_have_value(REASON)
    review(page, "referrals-new-error")
    page.locator("label[for=basis-0]").click()  # the person's consent
    page.locator("#consent_id").select_option(index=1)
    page.get_by_role("button", name="Send the referral").click()
    page.wait_for_url(re.compile(r"/referrals/[0-9a-f-]{36}$"))
    referral_url = page.url
    expect(page.locator("[data-status]")).to_contain_text("Awaiting a decision")
    review(page, "referrals-sent")

    # --- the BHU liaison: inbox, summary, accept -----------------------------------------
    context, bhu = _page(browser, live_server, viewport=DESKTOP)
    try:
        sign_in(bhu, live_server.user("liaison.bhu"))
        bhu.goto("/referrals/inbox")
        row = bhu.locator("tr[data-referral]", has_text="Marguerite")
        expect(row).to_have_count(1)
        review(bhu, "referrals-inbox")
        row.get_by_role("link").click()
        expect(bhu.locator("[data-summary]")).to_contain_text(REASON)
        expect(bhu.locator("[data-summary]")).to_contain_text("1961-04-17")
        review(bhu, "referrals-inbox-detail")
        bhu.get_by_role("button", name="Accept the referral").click()
        bhu.wait_for_url(referral_url.replace(live_server.url, live_server.url))
        expect(bhu.locator(".usa-alert").first).to_contain_text("Referral accepted")
        expect(bhu.locator("[data-status]")).to_contain_text("Accepted")
        review(bhu, "referrals-accepted")
    finally:
        context.close()

    # --- Chelmsford sees the outcome -------------------------------------------------------
    page.goto("/referrals/outbox")
    sent = page.locator("tr[data-referral]", has_text="Regional Behavioral Health Unit").filter(
        has=page.locator("td", has_text="Accepted"))
    expect(sent).to_have_count(1)
    review(page, "referrals-outbox")

    # --- the auditor lists the disclosure ----------------------------------------------------
    context, audit = _page(browser, live_server, viewport=DESKTOP)
    try:
        sign_in(audit, live_server.user("auditor.chelmsford"))
        audit.goto("/audit/")
        audit.locator("[data-accounting-link]").click()
        audit.get_by_label("First name").fill("Marguerite")
        audit.get_by_label("Last name").fill("Oyelaran")
        audit.get_by_label("Date of birth").fill("1961-04-17")
        audit.get_by_role("button", name="Find").click()
        audit.locator("[data-matches] a").first.click()
        table = audit.locator("[data-accounting]")
        expect(table).to_contain_text("Regional Behavioral Health Unit")
        expect(table).to_contain_text("To arrange regular check-ins with the regional BHU")
        expect(table).to_contain_text("Casey Clinician")
        expect(audit.locator("[data-disclosure]")).to_have_count(1)
        assert REASON not in audit.content()  # the accounting describes, it does not repeat the summary
        review(audit, "referrals-accounting")
    finally:
        context.close()
