"""Case pages through the Flask test client: linking a call to a person (and the
messages for an empty search or another agency's person), opening and joining
a case, the case page (cautions on top, timeline newest first, an audited
read), the case list, supervisor reassignment, and agency scope."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from clinician_app.cases import case_services, timeline
from clinician_app.cases.models import Case
from clinician_app.core.audit import AuditEvent
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from clinician_app.triage.services import TriageInput, record_triage
from tests.calls.factories import make_call
from tests.cases.case_factories import linked_calls
from tests.people.factories import make_person


def html(response):
    return response.get_data(as_text=True)


def test_linking_with_an_empty_search_says_what_is_missing(clinician, login_as, client, csrf, agencies):
    call = make_call(agencies["A"].id)
    login_as(clinician)
    token = csrf(client.get(f"/cases/calls/{call.id}/person"))
    response = client.post(f"/cases/calls/{call.id}/person",
                           data={"csrf_token": token, "action": "search", "first_name": "", "last_name": "", "date_of_birth": ""})
    assert response.status_code == 400
    page = html(response)
    assert "Enter the first name." in page and "Enter the last name." in page and "Enter the date of birth." in page


def test_search_then_link_an_existing_person(clinician, login_as, client, csrf, agencies):
    person = make_person(agencies["A"].id, first="Linnea", last="Marchetti", born=date(1979, 2, 3))
    call = make_call(agencies["A"].id)
    login_as(clinician)
    token = csrf(client.get(f"/cases/calls/{call.id}/person"))
    found = client.post(f"/cases/calls/{call.id}/person", data={
        "csrf_token": token, "action": "search", "first_name": "linnea", "last_name": "MARCHETTI", "date_of_birth": "02/03/1979"})
    assert found.status_code == 200 and f'data-match="{person.id}"' in html(found)
    linked = client.post(f"/cases/calls/{call.id}/person", data={"csrf_token": token, "action": "link", "person_id": person.id})
    assert linked.status_code == 302
    db.session.refresh(call)
    assert call.person_id == person.id
    page = html(client.get(f"/calls/{call.id}"))
    assert "Linnea Marchetti" in page and "Open a case" in page


def test_linking_another_agencys_person_is_refused_with_a_clear_message(clinician, login_as, client, csrf, agencies):
    stranger, call = make_person(agencies["B"].id), make_call(agencies["A"].id)
    login_as(clinician)
    token = csrf(client.get(f"/cases/calls/{call.id}/person"))
    response = client.post(f"/cases/calls/{call.id}/person", data={"csrf_token": token, "action": "link", "person_id": stranger.id})
    assert response.status_code == 400
    assert "not among your agency&#39;s records" in html(response)
    db.session.refresh(call)
    assert call.person_id is None


def test_no_match_adds_the_person_and_links_them(clinician, login_as, client, csrf, agencies):
    call = make_call(agencies["A"].id)
    login_as(clinician)
    token = csrf(client.get(f"/cases/calls/{call.id}/person"))
    values = {"csrf_token": token, "first_name": "Oskar", "last_name": "Vantongeren", "date_of_birth": "1990-07-08"}
    searched = client.post(f"/cases/calls/{call.id}/person", data={**values, "action": "search"})
    assert "No exact match" in html(searched)
    created = client.post(f"/cases/calls/{call.id}/person", data={**values, "action": "create"})
    assert created.status_code == 302
    db.session.refresh(call)
    assert call.person_id is not None


def test_open_a_case_from_the_call_then_add_another_call(clinician, login_as, client, csrf, agencies):
    person = make_person(agencies["A"].id)
    first, second = linked_calls(person, [2, 1])
    login_as(clinician)
    token = csrf(client.get(f"/cases/open?person_id={person.id}&call_id={first.id}"))
    opened = client.post("/cases/open", data={"csrf_token": token, "person_id": person.id, "call_id": first.id,
                                              "assignee_id": clinician.id})
    assert opened.status_code == 302
    case = db.session.execute(select(Case).where(Case.person_id == person.id)).scalar_one()
    assert "Add to the open case" in html(client.get(f"/calls/{second.id}"))
    joined = client.post(f"/cases/calls/{second.id}/join", data={"csrf_token": token, "case_id": case.id})
    assert joined.status_code == 302
    db.session.refresh(second)
    assert second.case_id == case.id


def test_opening_a_case_for_another_agencys_person_shows_a_clear_message(clinician, login_as, client, csrf, agencies):
    stranger = make_person(agencies["B"].id)
    login_as(clinician)
    response = client.get(f"/cases/open?person_id={stranger.id}")
    assert response.status_code == 400
    assert "not among your agency&#39;s records" in html(response)
    token = csrf(client.get("/cases/open"))
    posted = client.post("/cases/open", data={"csrf_token": token, "person_id": stranger.id, "assignee_id": clinician.id})
    assert posted.status_code == 400 and "not among your agency&#39;s records" in html(posted)
    assert db.session.execute(select(Case).where(Case.person_id == stranger.id)).first() is None


def test_case_page_shows_cautions_on_top_and_the_timeline_newest_first(clinician, login_as, client, agencies):
    person = make_person(agencies["A"].id)
    old, new = linked_calls(person, [10, 1])
    hazardous = make_call(agencies["A"].id, received_at=utcnow() - timedelta(days=5), caution_weapon=True,
                          caution_notes="Knife kept in the kitchen drawer")
    hazardous.person_id = person.id
    case = case_services.open_case(clinician, person.id)
    for call in (old, new, hazardous):
        call.case_id = case.id
    record_triage(clinician, new.id, TriageInput(acuity="urgent", route="department", override_reason="Test."))
    db.session.flush()
    login_as(clinician)
    page = html(client.get(f"/cases/{case.id}"))
    assert page.index('data-section="cautions"') < page.index('data-section="timeline"')
    cautions = page.split('data-section="cautions"')[1].split("</section>")[0]
    assert "Weapon" in cautions and "Knife kept in the kitchen drawer" in cautions
    timeline_html = page.split('data-section="timeline"')[1]
    order = [timeline_html.index(call.incident_number) for call in (new, hazardous, old)]
    assert order == sorted(order)
    assert timeline_html.index('data-kind="triage"') < timeline_html.index(f"Call {hazardous.incident_number}")
    [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "case.read",
                                                          AuditEvent.record_id == case.id)).scalars().all()
    assert event.actor_id == clinician.id


def test_timeline_takes_entries_from_registered_sources(clinician, login_as, client, agencies):
    case = case_services.open_case(clinician, make_person(agencies["A"].id).id)
    original = timeline.sources().get("followups")
    timeline.register("followups", lambda c, actor: [timeline.TimelineItem(
        at=utcnow() + timedelta(days=1), kind="followup", title="Follow-up due", restricted=True)])
    try:
        login_as(clinician)
        page = html(client.get(f"/cases/{case.id}"))
    finally:
        if original is None:
            timeline._SOURCES.pop("followups")
        else:
            timeline.register("followups", original)
    assert 'data-kind="followup" data-restricted' in page and "Follow-up due" in page


def test_another_agencys_case_is_not_found(clinician, login_as, client, make_user, agencies):
    foreign = case_services.open_case(make_user(agencies["B"], "clinician"), make_person(agencies["B"].id).id)
    login_as(clinician)
    assert client.get(f"/cases/{foreign.id}").status_code == 404
    assert client.get(f"/cases/{foreign.id}/close").status_code == 404


def test_case_list_filters_and_a_clinician_cannot_list_all(clinician, supervisor, make_user, login_as, client, agencies):
    colleague = make_user(agencies["A"], "clinician")
    mine = case_services.open_case(clinician, make_person(agencies["A"].id).id)
    theirs = case_services.open_case(colleague, make_person(agencies["A"].id).id)
    login_as(clinician)
    page = html(client.get("/cases/"))
    assert mine.id in page and theirs.id not in page
    page = html(client.get("/cases/?scope=open"))
    assert mine.id in page and theirs.id in page
    assert client.get("/cases/?scope=all").status_code == 400
    login_as(supervisor)
    page = html(client.get(f"/cases/?scope=all&clinician_id={colleague.id}"))
    assert theirs.id in page and mine.id not in page


def test_supervisor_reassigns_through_the_page(clinician, supervisor, make_user, login_as, client, csrf, agencies):
    other = make_user(agencies["A"], "clinician", display_name="Rowan Reassigned")
    case = case_services.open_case(clinician, make_person(agencies["A"].id).id)
    db.session.commit()
    login_as(supervisor)
    token = csrf(client.get(f"/cases/{case.id}/reassign"))
    bad = client.post(f"/cases/{case.id}/reassign", data={"csrf_token": token, "assignee_id": ""})
    assert bad.status_code == 400
    response = client.post(f"/cases/{case.id}/reassign", data={"csrf_token": token, "assignee_id": other.id})
    assert response.status_code == 302
    db.session.refresh(case)
    assert case.assignee_id == other.id
    assert "Rowan Reassigned" in html(client.get(f"/cases/{case.id}"))
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "case.reassign",
                                                       AuditEvent.record_id == case.id)).scalar_one().actor_id == supervisor.id


def test_close_a_case_with_an_outcome(clinician, login_as, client, csrf, agencies):
    case = case_services.open_case(clinician, make_person(agencies["A"].id).id)
    login_as(clinician)
    token = csrf(client.get(f"/cases/{case.id}/close"))
    assert client.post(f"/cases/{case.id}/close", data={"csrf_token": token, "outcome": ""}).status_code == 400
    assert client.post(f"/cases/{case.id}/close", data={"csrf_token": token, "outcome": "connected"}).status_code == 302
    db.session.refresh(case)
    assert (case.status, case.outcome) == ("closed", "connected")
