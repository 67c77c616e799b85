"""Repeat contacts: N calls within D days (3 in 90 unless the agency says
otherwise) flag a person on their page, the queue and the case list, and put
them on the supervisor's outreach list; the queue's cost stays constant."""
from __future__ import annotations

from sqlalchemy import event

from clinician_app.cases import case_services
from clinician_app.cases.repeat_contacts import outreach_list, repeat_contacts
from clinician_app.extensions import db
from tests.cases.case_factories import linked_calls
from tests.people.factories import make_person


def test_the_flag_appears_at_the_third_call_within_90_days(agencies):
    person = make_person(agencies["A"].id)
    linked_calls(person, [5, 40])
    assert repeat_contacts([person.id]) == {}
    linked_calls(person, [89])
    found = repeat_contacts([person.id])[person.id]
    assert (found.calls, found.days) == (3, 90)
    assert found.text == "Repeat contact: 3 calls in 90 days"


def test_three_calls_spread_over_a_longer_window_are_not_flagged(agencies):
    person = make_person(agencies["A"].id)
    linked_calls(person, [2, 60, 120])
    assert repeat_contacts([person.id]) == {}


def test_each_agency_sets_its_own_threshold(agencies):
    agencies["B"].repeat_contact_calls, agencies["B"].repeat_contact_days = 2, 30
    strict, lenient = make_person(agencies["B"].id), make_person(agencies["A"].id)
    linked_calls(strict, [3, 20])
    linked_calls(lenient, [3, 20])
    linked_calls(make_person(agencies["B"].id), [3, 45])  # outside B's 30 days
    assert set(repeat_contacts([strict.id, lenient.id])) == {strict.id}


def test_one_grouped_query_for_many_persons(app, agencies):
    persons = [make_person(agencies["A"].id) for _ in range(6)]
    for index, person in enumerate(persons):
        linked_calls(person, [1, 2, 3][: index % 4])
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        found = repeat_contacts([p.id for p in persons])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert set(found) == {persons[3].id}
    assert len(statements) == 2  # the thresholds, then the grouped count


def test_person_page_flags_a_repeat_contact(clinician, login_as, client, agencies):
    flagged, quiet = make_person(agencies["A"].id), make_person(agencies["A"].id)
    linked_calls(flagged, [1, 10, 30, 50])
    linked_calls(quiet, [1])
    login_as(clinician)
    page = client.get(f"/people/{flagged.id}").get_data(as_text=True)
    assert "Repeat contact: 4 calls in 90 days" in page and "data-flag" in page
    assert "data-flag" not in client.get(f"/people/{quiet.id}").get_data(as_text=True)


def _queue_statements(client, url):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return response.get_data(as_text=True), statements


def test_queue_flags_repeat_contacts_at_a_constant_cost(clinician, login_as, client, agencies):
    login_as(clinician)

    def fill(total):
        for _ in range(total):
            person = make_person(agencies["A"].id)
            linked_calls(person, [0.01, 20, 40])  # all three wait in the queue, each flagged
        db.session.commit()

    fill(2)
    client.get("/calls/queue/rows")
    page, small = _queue_statements(client, "/calls/queue/rows")
    assert page.count("data-repeat-contact") == 6
    fill(10)
    page, large = _queue_statements(client, "/calls/queue/rows")
    assert page.count("data-repeat-contact") == 36
    assert len(large) == len(small), "\n".join(large)


def test_case_list_flags_repeat_contacts(clinician, login_as, client, agencies):
    flagged, quiet = make_person(agencies["A"].id), make_person(agencies["A"].id)
    linked_calls(flagged, [1, 10, 30])
    flagged_case = case_services.open_case(clinician, flagged.id)
    case_services.open_case(clinician, quiet.id)
    login_as(clinician)
    page = client.get("/cases/?scope=mine").get_data(as_text=True)
    row = page.split(f'data-case-id="{flagged_case.id}"')[1].split("</tr>")[0]
    assert "data-repeat-contact" in row
    assert page.count("data-repeat-contact") == 1


def test_outreach_list_for_supervisors(supervisor, clinician, login_as, client, agencies):
    many, few = make_person(agencies["A"].id, first="Outreach", last="Candidate"), make_person(agencies["A"].id)
    linked_calls(many, [1, 2, 3, 4])
    linked_calls(few, [1, 2])
    other_town = make_person(agencies["B"].id)
    linked_calls(other_town, [1, 2, 3])
    rows = outreach_list(supervisor)
    assert [r.person.id for r in rows] == [many.id] and rows[0].contact.calls == 4
    login_as(supervisor)
    page = client.get("/cases/outreach").get_data(as_text=True)
    assert "Outreach Candidate" in page and "4 in 90 days" in page
    login_as(clinician)
    assert client.get("/cases/outreach").status_code == 403
