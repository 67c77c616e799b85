"""Response plans: only for repeat contacts, four short non-clinical fields, a
guard against repeating a Part 2 note, supervisor approval (never by the
author), and what dispatchers and officers see on a linked call: the approved
plan, never a pending one, never notes or the person's name."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from clinician_app.cases import case_services, response_plans
from clinician_app.cases.models import RESPONSE_FIELD_MAX, ResponsePlan
from clinician_app.cases.note_models import SENSITIVITY_PART2
from clinician_app.cases.response_plans import PlanData
from clinician_app.core.audit import AuditEvent
from clinician_app.core.errors import Conflict, PermissionDenied, ValidationError
from clinician_app.extensions import db
from tests.cases.case_factories import linked_calls
from tests.cases.note_factories import make_note, sentinel
from tests.conftest import SENTINELS
from tests.people.factories import make_person

APPROACH = "Approach slowly, one officer speaking, explain each step before doing it."
SAFETY = "Two large dogs at the address; ask the family to secure them before entry."
SENTINELS.update({APPROACH, SAFETY})


@pytest.fixture()
def repeat_person(agencies):
    person = make_person(agencies["A"].id, first="Theodora", last="Planwright")
    linked_calls(person, [1, 20, 50])
    return person


def test_a_plan_is_for_repeat_contacts_only(clinician, agencies):
    quiet = make_person(agencies["A"].id)
    linked_calls(quiet, [1])
    with pytest.raises(ValidationError) as caught:
        response_plans.write_plan(clinician, quiet.id, PlanData(approach=APPROACH))
    assert "repeat contact" in caught.value.message


def test_fields_are_limited_and_one_is_needed(clinician, repeat_person):
    with pytest.raises(ValidationError) as caught:
        response_plans.write_plan(clinician, repeat_person.id, PlanData())
    assert "approach" in caught.value.fields
    with pytest.raises(ValidationError) as caught:
        response_plans.write_plan(clinician, repeat_person.id, PlanData(contacts="x" * (RESPONSE_FIELD_MAX + 1)))
    assert "contacts" in caught.value.fields


def test_a_plan_may_not_repeat_a_part2_note(clinician, repeat_person, agencies):
    case = case_services.open_case(clinician, repeat_person.id)
    body = sentinel("part2") + " was using daily and relapsed after the detox discharge last month"
    SENTINELS.add(body)
    make_note(case, clinician, sensitivity=SENSITIVITY_PART2, body=body)
    with pytest.raises(ValidationError) as caught:
        response_plans.write_plan(clinician, repeat_person.id, PlanData(officer_safety=f"Note: {body}"))
    assert "42 CFR Part 2" in caught.value.fields["officer_safety"][0]
    stretch = "using daily and relapsed after the detox discharge"
    with pytest.raises(ValidationError):
        response_plans.write_plan(clinician, repeat_person.id, PlanData(approach=f"Be aware: {stretch}."))
    plan = response_plans.write_plan(clinician, repeat_person.id, PlanData(approach=APPROACH))
    assert plan.status == "pending"


def test_supervisor_approves_but_not_their_own_plan(clinician, supervisor, repeat_person):
    plan = response_plans.write_plan(clinician, repeat_person.id, PlanData(approach=APPROACH, officer_safety=SAFETY))
    with pytest.raises(PermissionDenied):
        response_plans.approve_plan(clinician, plan.id)
    own = response_plans.write_plan(supervisor, repeat_person.id, PlanData(approach=APPROACH))
    assert plan.status == "superseded"  # the newer draft replaced it
    with pytest.raises(Conflict):
        response_plans.approve_plan(supervisor, own.id)
    other = response_plans.write_plan(clinician, repeat_person.id, PlanData(approach=APPROACH, officer_safety=SAFETY))
    response_plans.approve_plan(supervisor, other.id)
    assert (other.status, other.decided_by_id) == ("approved", supervisor.id)
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "response_plan.approve",
                                                       AuditEvent.record_id == other.id)).scalar_one()


def test_approving_a_new_plan_supersedes_the_old_one(clinician, supervisor, repeat_person):
    first = response_plans.write_plan(clinician, repeat_person.id, PlanData(approach=APPROACH))
    response_plans.approve_plan(supervisor, first.id)
    second = response_plans.write_plan(clinician, repeat_person.id, PlanData(approach=APPROACH + " Speak softly."))
    assert first.status == "approved"  # in force until the new one is approved
    response_plans.approve_plan(supervisor, second.id)
    assert (first.status, second.status) == ("superseded", "approved")


def test_the_form_offers_only_the_four_fields_and_keeps_what_was_typed(clinician, login_as, client, csrf, repeat_person):
    login_as(clinician)
    page = client.get(f"/cases/people/{repeat_person.id}/response-plan").get_data(as_text=True)
    names = {n for n in ("approach", "de_escalation", "contacts", "officer_safety") if f'name="{n}"' in page}
    assert names == {"approach", "de_escalation", "contacts", "officer_safety"}
    assert page.count("<textarea") == 4
    token = csrf(client.get(f"/cases/people/{repeat_person.id}/response-plan"))
    response = client.post(f"/cases/people/{repeat_person.id}/response-plan", data={
        "csrf_token": token, "approach": APPROACH, "contacts": "y" * (RESPONSE_FIELD_MAX + 1)})
    assert response.status_code == 400
    assert APPROACH in response.get_data(as_text=True)
    ok = client.post(f"/cases/people/{repeat_person.id}/response-plan", data={"csrf_token": token, "approach": APPROACH})
    assert ok.status_code == 302


@pytest.mark.parametrize("role", ["dispatcher", "officer"])
def test_dispatch_and_officers_see_only_the_approved_plan_on_a_linked_call(
        role, clinician, supervisor, make_user, login_as, client, repeat_person, agencies):
    call = linked_calls(repeat_person, [0.1])[0]
    case = case_services.open_case(clinician, repeat_person.id, call_id=call.id)
    note = make_note(case, clinician)
    plan = response_plans.write_plan(clinician, repeat_person.id, PlanData(approach=APPROACH, officer_safety=SAFETY))
    db.session.commit()
    viewer = make_user(agencies["A"], role)
    login_as(viewer)
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert APPROACH not in page and 'data-section="response-plan"' not in page  # not yet approved

    response_plans.approve_plan(supervisor, plan.id)
    db.session.commit()
    page = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert 'data-section="response-plan"' in page and APPROACH in page and SAFETY in page
    assert note.body not in page and "Theodora" not in page and "Planwright" not in page
    assert 'data-section="person"' not in page
    unlinked = client.get(f"/calls/{linked_calls(make_person(agencies['A'].id), [0.2])[0].id}").get_data(as_text=True)
    assert APPROACH not in unlinked
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "response_plan.read",
                                                       AuditEvent.actor_id == viewer.id)).scalars().first()


def test_plans_of_another_agency_are_not_found(supervisor, login_as, client, csrf, make_user, agencies):
    from tests.cases.case_factories import make_plan

    foreign = make_plan(agencies["B"].id, author=make_user(agencies["B"], "clinician"))
    login_as(supervisor)
    token = csrf(client.get("/cases/"))
    assert client.post(f"/cases/response-plans/{foreign.id}/approve", data={"csrf_token": token}).status_code == 404
    assert db.session.get(ResponsePlan, foreign.id).status == "pending"
