"""Break the glass (SECURITY.md promise 4), end to end through the pages: refused
without a reason (what was typed kept), granted with one, audited, a banner while
it runs, gone when it expires, and on the owning agency's supervisors' review list
where the review is recorded."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from clinician_app.cases.break_glass_models import BreakGlassGrant
from clinician_app.core.audit import AuditEvent
from clinician_app.core.timeutil import format_local, utcnow
from clinician_app.extensions import db
from tests.cases.note_factories import make_case, make_grant, make_note, sentinel

BANNER = "Break-the-glass access active"


@pytest.fixture()
def setting(make_user, agencies):
    """A case of town A with one normal and one Part 2 note; a clinician of town B."""
    author = make_user(agencies["A"], "clinician")
    case = make_case(agencies["A"].id, assignee=author)
    return {
        "case": case,
        "normal": make_note(case, author),
        "part2": make_note(case, author, sensitivity="part2"),
        "outsider": make_user(agencies["B"], "clinician"),
        "supervisor_a": make_user(agencies["A"], "supervisor"),
        "supervisor_b": make_user(agencies["B"], "supervisor"),
    }


def _grants():
    return db.session.execute(select(func.count()).select_from(BreakGlassGrant)).scalar_one()


def test_without_a_reason_nothing_is_granted_and_what_was_typed_stays(client, login_as, csrf, setting):
    case = setting["case"]
    login_as(setting["outsider"])
    page = client.get(f"/break-glass/cases/{case.id}")
    assert page.status_code == 200 and "Open a record outside your scope" in page.get_data(as_text=True)
    token = csrf(page)
    response = client.post(f"/break-glass/cases/{case.id}", data={"csrf_token": token, "reason_code": "",
                                                                  "reason_text": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose the reason you need this record." in html and "Say in a few words why" in html
    typed = sentinel("why")
    response = client.post(f"/break-glass/cases/{case.id}", data={"csrf_token": token, "reason_code": "",
                                                                  "reason_text": typed})
    assert response.status_code == 400 and typed in response.get_data(as_text=True)
    response = client.post(f"/break-glass/cases/{case.id}", data={"csrf_token": token,
                                                                  "reason_code": "imminent_risk", "reason_text": " "})
    assert response.status_code == 400
    assert re.search(r'<option[^>]*selected[^>]*value="imminent_risk"|<option[^>]*value="imminent_risk"[^>]*selected',
                     response.get_data(as_text=True))
    assert _grants() == 0
    assert client.get(f"/cases/notes/{setting['normal'].id}").status_code == 404


def test_with_a_reason_the_case_opens_for_an_hour_audited_with_a_banner(client, login_as, csrf, setting):
    case, outsider = setting["case"], setting["outsider"]
    login_as(outsider)
    assert client.get(f"/cases/{case.id}/notes").status_code == 404
    reason = sentinel("why")
    token = csrf(client.get(f"/break-glass/cases/{case.id}"))
    response = client.post(f"/break-glass/cases/{case.id}", data={
        "csrf_token": token, "reason_code": "risk_to_others", "reason_text": reason})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case.id}")
    grant = db.session.execute(select(BreakGlassGrant)).scalar_one()
    assert (grant.user_id, grant.case_id, grant.agency_id, grant.reason_code) == (
        outsider.id, case.id, case.agency_id, "risk_to_others")
    assert grant.reason_text == reason
    assert grant.expires_at - grant.granted_at == timedelta(minutes=60)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "break_glass.granted")).scalar_one()
    assert (event.actor_id, event.record_id, event.reason) == (outsider.id, case.id, "Risk to others or to responders")
    assert reason not in (event.details or "")

    case_page = client.get(f"/cases/{case.id}")
    assert case_page.status_code == 200 and BANNER in case_page.get_data(as_text=True)
    listing = client.get(f"/cases/{case.id}/notes").get_data(as_text=True)
    assert BANNER in listing
    normal = client.get(f"/cases/notes/{setting['normal'].id}")
    assert normal.status_code == 200 and setting["normal"].body in normal.get_data(as_text=True)
    part2 = client.get(f"/cases/notes/{setting['part2'].id}")
    assert part2.status_code == 403 and setting["part2"].body not in part2.get_data(as_text=True)
    assert BANNER in client.get("/").get_data(as_text=True)
    # A grant opens reading only: writing stays with those who work the case.
    assert client.get(f"/cases/{case.id}/notes/new").status_code == 403
    assert client.get(f"/cases/notes/{setting['normal'].id}/addendum").status_code == 403


def test_the_grant_expires(client, login_as, setting):
    case, outsider = setting["case"], setting["outsider"]
    grant = make_grant(outsider, case)
    login_as(outsider)
    assert client.get(f"/cases/notes/{setting['normal'].id}").status_code == 200
    grant.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/cases/notes/{setting['normal'].id}").status_code == 404
    assert client.get(f"/cases/{case.id}/notes").status_code == 404
    assert BANNER not in client.get("/").get_data(as_text=True)
    # Asking again is a new grant, with a new reason and its own review.
    assert client.get(f"/break-glass/cases/{case.id}").status_code == 200


def test_no_glass_to_break_inside_ones_own_scope(client, login_as, csrf, setting):
    login_as(setting["supervisor_a"])
    response = client.get(f"/break-glass/cases/{setting['case'].id}")
    assert response.status_code == 302 and _grants() == 0


def test_the_owning_agencys_supervisors_see_it_for_review_and_record_the_review(
        client, login_as, csrf, setting, app):
    grant = make_grant(setting["outsider"], setting["case"])
    login_as(setting["supervisor_b"])  # the user's own agency does not review another agency's record
    assert setting["outsider"].display_name not in client.get("/break-glass/review").get_data(as_text=True)
    assert client.get(f"/break-glass/review/{grant.id}").status_code == 404

    login_as(setting["supervisor_a"])
    listing = client.get("/break-glass/review").get_data(as_text=True)
    assert setting["outsider"].display_name in listing and "Awaiting review" in listing
    assert grant.reason_text not in listing  # the free text only on the grant's own page, as an audited read
    page = client.get(f"/break-glass/review/{grant.id}")
    assert grant.reason_text in page.get_data(as_text=True)
    token = csrf(page)
    missing = client.post(f"/break-glass/review/{grant.id}", data={"csrf_token": token, "outcome": "inappropriate",
                                                                    "comment": ""})
    assert missing.status_code == 400 and "Say why the access was inappropriate." in missing.get_data(as_text=True)
    none_chosen = client.post(f"/break-glass/review/{grant.id}", data={"csrf_token": token, "comment": "typed"})
    assert none_chosen.status_code == 400 and "typed" in none_chosen.get_data(as_text=True)
    comment = sentinel("review")
    done = client.post(f"/break-glass/review/{grant.id}", data={"csrf_token": token, "outcome": "inappropriate",
                                                                 "comment": comment})
    assert done.status_code == 302
    db.session.expire_all()
    grant = db.session.get(BreakGlassGrant, grant.id)
    assert (grant.reviewed_by_id, grant.review_outcome, grant.review_comment) == (
        setting["supervisor_a"].id, "inappropriate", comment)
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "break_glass.reviewed")).scalar_one()
    assert event.details_dict["outcome"] == "inappropriate" and comment not in event.details
    assert "Reviewed: Inappropriate" in client.get("/break-glass/review").get_data(as_text=True)
    again = client.post(f"/break-glass/review/{grant.id}", data={"csrf_token": token, "outcome": "appropriate"})
    assert again.status_code == 409


def test_a_supervisor_does_not_review_their_own_use(client, login_as, csrf, make_user, agencies, setting):
    own_use = make_grant(setting["supervisor_a"], make_case(agencies["B"].id))
    supervisor_b = setting["supervisor_b"]
    login_as(supervisor_b)
    page = client.get(f"/break-glass/review/{own_use.id}")
    assert page.status_code == 200
    other_b = make_user(agencies["B"], "supervisor")
    own_use.user_id = supervisor_b.id  # now it is supervisor B's own use, on B's record
    db.session.commit()
    page = client.get(f"/break-glass/review/{own_use.id}")
    assert "Another supervisor reviews your own use" in page.get_data(as_text=True)
    response = client.post(f"/break-glass/review/{own_use.id}", data={"csrf_token": csrf(client.get("/")),
                                                                      "outcome": "appropriate"})
    assert response.status_code == 403
    login_as(other_b)
    assert "Record review" in client.get(f"/break-glass/review/{own_use.id}").get_data(as_text=True)


def test_the_nav_offers_the_review_list_to_supervisors_only(client, login_as, make_user, agencies):
    login_as(make_user(agencies["A"], "supervisor"))
    assert "Break-glass review" in client.get("/").get_data(as_text=True)
    login_as(make_user(agencies["A"], "clinician"))
    assert "Break-glass review" not in client.get("/").get_data(as_text=True)


def test_the_banner_counts_running_grants_and_shows_when_the_last_ends(client, login_as, setting, agencies):
    outsider = setting["outsider"]
    make_grant(outsider, setting["case"], minutes=30)
    other = make_case(agencies["A"].id, assignee=setting["supervisor_a"])
    later = make_grant(outsider, other, minutes=90)
    make_grant(outsider, make_case(agencies["A"].id), minutes=-5)  # ended: not counted
    db.session.commit()
    login_as(outsider)
    home = client.get("/").get_data(as_text=True)
    until = format_local(later.expires_at, outsider.agency.timezone, "%H:%M %Z")
    assert f"You are viewing 2 records outside your scope until {until}." in home


def test_the_frame_is_read_in_one_statement(client, login_as, setting):
    """The bell and the banner come from one SELECT, however often the page asks."""
    make_grant(setting["outsider"], setting["case"])
    db.session.commit()
    login_as(setting["outsider"])
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = client.get("/").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert BANNER in page and 'data-unread-count="0"' in page
    frame = [s for s in statements if "notifications" in s or "break_glass_grants" in s]
    assert len(frame) == 1 and "notifications" in frame[0] and "break_glass_grants" in frame[0]
