"""Case notes in a real browser: a dispatcher flags a call; a clinician links a
person to it, opens a case, writes a note (after trying an empty one, which keeps
the choices made) and an addendum, both shown together; a dispatcher and an
admin then try the note's address and read nothing of it."""
from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, _page
from .support import review, sign_in
from .test_coresponse_flow import flag_call

pytestmark = [pytest.mark.e2e, pytest.mark.no_transaction]


def test_clinician_writes_a_note_and_an_addendum_others_cannot_read_it(browser, live_server, page):
    sign_in(page, live_server.user("dispatch.chelmsford"))
    flag_call(page, f"E2E-N-{secrets.token_hex(3).upper()}")
    call_url = page.url

    context, clinician = _page(browser, live_server, viewport=DESKTOP)
    try:
        sign_in(clinician, live_server.user("clinician.chelmsford"))
        clinician.goto(call_url)
        clinician.get_by_role("link", name="Link a person").click()
        clinician.get_by_label("First name").fill("Noor")
        clinician.get_by_label("Last name").fill(f"Notetest{secrets.token_hex(2)}")
        clinician.get_by_label("Date of birth").fill("1979-04-12")
        clinician.get_by_role("button", name="Find").click()
        review(clinician, "notes-link-person")
        clinician.get_by_role("button", name="Add this person and link them").click()
        clinician.wait_for_url(call_url)
        clinician.get_by_role("link", name="Open a case").click()
        review(clinician, "notes-open-case")
        clinician.get_by_role("button", name="Open the case").click()
        clinician.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
        case_url = clinician.url

        clinician.get_by_role("link", name="Write a note").click()
        clinician.locator("label[for=kind-3]").click()  # consult
        clinician.locator("label[for=sensitivity-1]").click()  # Part 2
        clinician.get_by_role("button", name="Save note").click()
        expect(clinician.locator(".usa-error-message").first).to_contain_text("An empty note can't be saved.")
        expect(clinician.locator("#kind-3")).to_be_checked()  # the choices made are kept
        expect(clinician.locator("#sensitivity-1")).to_be_checked()
        review(clinician, "notes-new-error")
        body = f"Discussed detox options; agreed to call the recovery coach {secrets.token_hex(3)}."
        clinician.get_by_label("Note", exact=True).fill(body)
        clinician.get_by_role("button", name="Save note").click()
        clinician.wait_for_url(re.compile(r"/cases/notes/[0-9a-f-]{36}$"))
        note_url = clinician.url
        expect(clinician.locator(".app-note-body").first).to_have_text(body)

        clinician.get_by_role("link", name="Add an addendum").click()
        correction = "Correction: the coach is the one at the outpatient clinic."
        clinician.get_by_label("Addendum").fill(correction)
        review(clinician, "notes-addendum")
        clinician.get_by_role("button", name="Save addendum").click()
        clinician.wait_for_url(note_url)
        expect(clinician.locator(".app-note-body")).to_have_text([body, correction])
        expect(clinician.get_by_text("Addendum 1")).to_be_visible()
        review(clinician, "notes-detail")

        clinician.goto(case_url)
        expect(clinician.locator("[data-kind=note]")).to_contain_text("Consult note")
        expect(clinician.locator("body")).not_to_contain_text(body)  # the case page lists, it does not read
        review(clinician, "notes-case-page")
    finally:
        context.close()

    # The dispatcher (already signed in) and an admin: refused, and nothing of the note shown.
    for who, browser_page in (("dispatcher", page), ("admin", None)):
        other_context = None
        if browser_page is None:
            other_context, browser_page = _page(browser, live_server, viewport=DESKTOP)
            sign_in(browser_page, live_server.user("admin.chelmsford"))
        try:
            response = browser_page.goto(note_url)
            assert response.status == 403, who
            expect(browser_page.locator("body")).not_to_contain_text(body)
            expect(browser_page.locator("body")).not_to_contain_text(correction)
            review(browser_page, f"notes-refused-{who}")
        finally:
            if other_context is not None:
                other_context.close()
