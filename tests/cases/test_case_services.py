"""Linking calls to persons and cases through the services: link, open, join,
close and reassign, with their audit events, the rules that refuse (another
agency's person, a second open case, a closed case), and merges moving links."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from clinician_app.cases import case_services
from clinician_app.cases.models import Case
from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.extensions import db
from clinician_app.people.services import merge_persons
from tests.calls.factories import make_call
from tests.people.factories import make_person


def events(action, record_id=None):
    stmt = select(AuditEvent).where(AuditEvent.action == action)
    if record_id:
        stmt = stmt.where(AuditEvent.record_id == record_id)
    return list(db.session.execute(stmt).scalars())


def test_linking_a_call_to_a_person_is_recorded(clinician, agencies):
    call, person = make_call(agencies["A"].id), make_person(agencies["A"].id)
    case_services.link_person(clinician, call.id, person.id)
    assert call.person_id == person.id
    [event] = events("call.link_person", call.id)
    assert person.id in event.details


def test_a_person_of_another_agency_cannot_be_linked_and_the_message_says_why(clinician, agencies):
    call, stranger = make_call(agencies["A"].id), make_person(agencies["B"].id)
    with pytest.raises(ValidationError) as caught:
        case_services.link_person(clinician, call.id, stranger.id)
    assert "not among your agency's records" in caught.value.fields["person_id"][0]
    assert call.person_id is None


def test_linking_with_no_person_chosen_asks_for_one(clinician, agencies):
    call = make_call(agencies["A"].id)
    with pytest.raises(ValidationError) as caught:
        case_services.link_person(clinician, call.id, "")
    assert caught.value.fields["person_id"] == ["Choose a person."]


def test_another_agencys_call_is_not_found(clinician, agencies):
    call, person = make_call(agencies["B"].id), make_person(agencies["A"].id)
    with pytest.raises(NotFound):
        case_services.link_person(clinician, call.id, person.id)


def test_open_a_case_from_a_call_then_join_a_second_call(clinician, agencies):
    person = make_person(agencies["A"].id)
    first, second = make_call(agencies["A"].id), make_call(agencies["A"].id)
    for call in (first, second):
        case_services.link_person(clinician, call.id, person.id)
    case = case_services.open_case(clinician, person.id, call_id=first.id)
    assert (case.status, case.assignee_id, case.agency_id, case.person_id) == ("open", clinician.id, agencies["A"].id, person.id)
    assert first.case_id == case.id and second.case_id is None
    case_services.join_case(clinician, second.id, case.id)
    assert second.case_id == case.id
    assert events("case.open", case.id) and events("case.join_call", case.id)


def test_one_open_case_per_person_and_a_closed_case_takes_no_calls(clinician, agencies):
    person = make_person(agencies["A"].id)
    case = case_services.open_case(clinician, person.id)
    with pytest.raises(Conflict):
        case_services.open_case(clinician, person.id)
    with pytest.raises(ValidationError):
        case_services.close_case(clinician, case.id, "not-an-outcome")
    case_services.close_case(clinician, case.id, "connected")
    assert (case.status, case.outcome) == ("closed", "connected") and case.closed_at is not None
    call = make_call(agencies["A"].id)
    case_services.link_person(clinician, call.id, person.id)
    with pytest.raises(Conflict):
        case_services.join_case(clinician, call.id, case.id)
    assert case_services.open_case(clinician, person.id).id != case.id  # a new episode of care


def test_opening_a_case_for_a_person_of_another_agency_is_refused_plainly(clinician, agencies):
    stranger = make_person(agencies["B"].id)
    with pytest.raises(ValidationError) as caught:
        case_services.open_case(clinician, stranger.id)
    assert "not among your agency's records" in caught.value.message
    assert db.session.execute(select(Case).where(Case.person_id == stranger.id)).first() is None


def test_a_call_joins_only_its_own_persons_case(clinician, agencies):
    alice, bob = make_person(agencies["A"].id), make_person(agencies["A"].id)
    bobs_case = case_services.open_case(clinician, bob.id)
    call = make_call(agencies["A"].id)
    case_services.link_person(clinician, call.id, alice.id)
    with pytest.raises(ValidationError):
        case_services.join_case(clinician, call.id, bobs_case.id)


def test_relinking_a_call_to_someone_else_takes_it_out_of_the_case(clinician, agencies):
    alice, bob = make_person(agencies["A"].id), make_person(agencies["A"].id)
    call = make_call(agencies["A"].id)
    case_services.link_person(clinician, call.id, alice.id)
    case_services.open_case(clinician, alice.id, call_id=call.id)
    case_services.link_person(clinician, call.id, bob.id)
    assert (call.person_id, call.case_id) == (bob.id, None)


def test_supervisor_reassigns_and_it_is_audited(clinician, supervisor, make_user, agencies):
    other = make_user(agencies["A"], "clinician")
    case = case_services.open_case(clinician, make_person(agencies["A"].id).id)
    with pytest.raises(PermissionDenied):
        case_services.reassign_case(clinician, case.id, other.id)
    with pytest.raises(ValidationError):
        case_services.reassign_case(supervisor, case.id, make_user(agencies["B"], "clinician").id)
    case_services.reassign_case(supervisor, case.id, other.id)
    assert case.assignee_id == other.id
    [event] = events("case.reassign", case.id)
    assert event.actor_id == supervisor.id and clinician.id in event.details


def test_a_merge_moves_calls_and_cases_to_the_survivor_and_back(clinician, supervisor, agencies):
    survivor, duplicate = make_person(agencies["A"].id), make_person(agencies["A"].id)
    call = make_call(agencies["A"].id)
    case_services.link_person(clinician, call.id, duplicate.id)
    case = case_services.open_case(clinician, duplicate.id, call_id=call.id)
    merge = merge_persons(supervisor, survivor.id, duplicate.id, "duplicate_entry")
    db.session.refresh(call)
    db.session.refresh(case)
    assert call.person_id == survivor.id and case.person_id == survivor.id
    assert merge.summary["moved"]["calls"] == [call.id] and merge.summary["moved"]["cases"] == [case.id]


def test_case_list_filters(clinician, supervisor, make_user, agencies):
    colleague = make_user(agencies["A"], "clinician")
    mine = case_services.open_case(clinician, make_person(agencies["A"].id).id)
    theirs = case_services.open_case(colleague, make_person(agencies["A"].id).id)
    closed = case_services.open_case(clinician, make_person(agencies["A"].id).id)
    case_services.close_case(clinician, closed.id, "stabilised")
    case_services.open_case(make_user(agencies["B"], "clinician"), make_person(agencies["B"].id).id)

    def ids(actor, **filters):
        return {row.case.id for row in case_services.list_cases(actor, case_services.CaseFilter(**filters)).rows}

    assert ids(clinician, scope="mine") == {mine.id, closed.id}
    assert ids(clinician, scope="mine", status="open") == {mine.id}
    assert ids(clinician, scope="open") == {mine.id, theirs.id}
    assert ids(supervisor, scope="all") == {mine.id, theirs.id, closed.id}
    assert ids(supervisor, scope="all", clinician_id=colleague.id) == {theirs.id}
    with pytest.raises(PermissionDenied):
        ids(clinician, scope="all")


def test_demo_data_links_calls_opens_cases_and_shows_an_approved_plan(app, login_as, client):
    from clinician_app.auth.services import find_user
    from clinician_app.calls.services import find_call_by_incident
    from clinician_app.cases.codes import CASE_OPEN
    from clinician_app.cases.repeat_contacts import repeat_contacts
    from clinician_app.demo import DEMO_RESPONSE_PLAN

    result = app.test_cli_runner().invoke(args=["seed-demo", "--json"])
    assert result.exit_code == 0, result.output
    officer = find_user("officer.chelmsford")
    call = find_call_by_incident(officer.agency_id, "CPD-D-0003")
    assert call.person_id is not None and call.case_id is not None
    assert call.person_id in repeat_contacts([call.person_id])
    open_cases = db.session.execute(select(Case).where(Case.status == CASE_OPEN, Case.agency_id == officer.agency_id)).scalars().all()
    assert len(open_cases) >= 2
    login_as(officer)
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert DEMO_RESPONSE_PLAN["de_escalation"] in page
