"""Signing in and out in a real browser, for every role, with axe on each page.

Each test signs in a demo user no other test uses, so no test waits for a fresh
TOTP step.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import review, sign_in, submit_code, submit_password

# The live server keeps its own database: the per-test rollback has nothing to do here.
pytestmark = [pytest.mark.e2e, pytest.mark.no_transaction]

LOCKED = "This account is locked after repeated failed sign-ins."

# role -> (demo user holding only that role, heading of the role's home panel)
ROLE_HOMES = {
    "dispatcher": ("dispatch.chelmsford", "Dispatch"),
    "officer": ("officer.chelmsford", "Patrol"),
    "clinician": ("clinician.chelmsford", "Co-response"),
    "bhu_clinician": ("clinician.bhu", "Regional BHU"),
    "supervisor": ("supervisor.chelmsford", "Supervision"),
    "liaison": ("liaison.chelmsford", "Referrals"),
    "engagement": ("engagement.chelmsford", "Community engagement"),
    "auditor": ("auditor.chelmsford", "Audit"),
    "admin": ("admin.chelmsford", "Administration"),
}


def assert_home_of(page, live_server, role: str, heading: str, username: str) -> None:
    expect(page).to_have_url(f"{live_server.url}/")
    panels = page.locator("[data-role-panel]")
    expect(panels).to_have_count(1)
    expect(panels.first).to_have_attribute("data-role-panel", role)
    expect(panels.first.get_by_role("heading", level=2)).to_have_text(heading)
    expect(page.locator(".app-roles")).to_contain_text(username)


@pytest.mark.parametrize("role", list(ROLE_HOMES))
def test_each_role_signs_in_to_its_own_home(page, live_server, role):
    username, heading = ROLE_HOMES[role]
    user = live_server.user(username)
    assert user.roles == [role]

    sign_in(page, user, shots="desktop" if role == "dispatcher" else None)

    assert_home_of(page, live_server, role, heading, username)
    review(page, f"home-{role}-desktop")


def test_phone_sign_in_home_and_menu(phone_page, live_server):
    page = phone_page
    user = live_server.user("supervisor.bhu")

    sign_in(page, user, shots="phone")

    assert_home_of(page, live_server, "supervisor", "Supervision", user.username)
    expect(page.get_by_role("heading", name="Supervision")).to_be_in_viewport()  # not pushed below the fold
    review(page, "home-supervisor-phone")

    # On a phone the header collapses into the USWDS menu: it opens, holds the
    # sections and the sign-out button, and closes again.
    nav = page.get_by_role("navigation", name="Primary navigation")
    menu = page.get_by_role("button", name="Menu")
    expect(nav).to_be_hidden()
    menu.click()
    expect(nav).to_be_in_viewport(ratio=1)  # slid all the way in
    expect(nav.get_by_role("link", name="Your account")).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
    expect(nav.get_by_role("button", name="Close")).to_be_focused()
    review(page, "home-menu-open-phone", full_page=False)
    nav.get_by_role("button", name="Close").click()
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    nav.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    review(page, "account-phone")


def test_account_and_error_pages(page, live_server):
    user = live_server.user("admin.bhu")
    sign_in(page, user)

    page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name=re.compile(r"Ari Regional Admin")).click()
    expect(page).to_have_url(f"{live_server.url}/auth/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_text(user.username, exact=True).first).to_be_visible()
    review(page, "account-desktop")

    response = page.goto("/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    review(page, "error-404-desktop")

    response = page.goto("/audit/")  # the audit trail is the auditor's, not the administrator's
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Not permitted")
    review(page, "error-403-desktop")


def test_sign_out_returns_to_sign_in_and_the_session_is_gone(page, live_server):
    user = live_server.user("dispatch.westford")
    sign_in(page, user)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/auth/login$"))
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")
    review(page, "signed-out-desktop")

    # Neither the back button nor typing the address shows the home page again:
    # going back asks the server for / (nothing is cached), which sends it here.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/auth/login\?next=(/|%2F)$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(page.get_by_text("Good to see you")).to_have_count(0)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/auth/login\?next=(/|%2F)$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    review(page, "signin-after-signout-desktop")


def test_five_wrong_passwords_lock_the_account(page, live_server):
    user = live_server.user("liaison.westford")
    page.goto("/auth/login")

    for attempt in range(1, 6):
        submit_password(page, user.username, f"wrong password {attempt}")
        alert = page.get_by_role("alert")
        if attempt < 5:
            expect(alert).to_have_text("The username or password is incorrect.")
        else:
            expect(alert).to_contain_text(LOCKED)
    review(page, "signin-locked-desktop")

    # The right password no longer gets past the first step.
    submit_password(page, user.username, user.password)
    expect(page.get_by_role("alert")).to_contain_text(LOCKED)
    expect(page).to_have_url(re.compile(r"/auth/login$"))


def test_wrong_code_stays_on_verify_page_with_an_error(page, live_server):
    user = live_server.user("clinician.westford")
    page.goto("/auth/login")
    submit_password(page, user.username, user.password)
    page.wait_for_url("**/auth/verify")

    submit_code(page, user.invalid_code())

    expect(page).to_have_url(re.compile(r"/auth/verify$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-step verification")
    expect(page.get_by_role("alert")).to_have_text("That code is not valid. Enter the current 6-digit code.")
    review(page, "verify-wrong-code-desktop")

    # The mistake does not end the attempt: the current code still signs in.
    submit_code(page, user.current_code())
    assert_home_of(page, live_server, "clinician", "Co-response", user.username)
