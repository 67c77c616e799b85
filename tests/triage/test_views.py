"""Triage, claim, assignment, rules and notification pages through the test client."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from clinician_app.calls.codes import STATUS_CLOSED
from clinician_app.core.audit import AuditEvent
from clinician_app.extensions import db
from clinician_app.triage.models import RoutingRule, Triage
from clinician_app.triage.services import claim_call
from tests.calls.factories import make_call

from .conftest import OBSERVATIONS, add_rule, put_on_duty, triaged_call


def _form(**overrides):
    data = {"q1": "yes", "q2": "no", "q6": "no", "observations": OBSERVATIONS, "risk_level": "low",
            "acuity": "emergent", "route": "department", "outside_service": "", "override_reason": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_screen_shows_the_suggestion_and_its_reason(client, login_as, town, clinician):
    put_on_duty(clinician, town)
    add_rule(town, 1, "department", ("emergent",), "yes", description="Our clinician co-responds.")
    call = make_call(town.id, urgency="now")
    login_as(clinician)
    html = client.get(f"/triage/calls/{call.id}").get_data(as_text=True)
    assert 'data-suggested-route="department"' in html
    assert "Rule 1 matched" in html and "Our clinician co-responds." in html and "Dana Reyes" in html
    assert "only if question 2 is yes" in html


def test_triage_without_a_route_keeps_what_was_typed(client, login_as, csrf, town, clinician):
    call = make_call(town.id)
    login_as(clinician)
    token = csrf(client.get(f"/triage/calls/{call.id}"))
    response = client.post(f"/triage/calls/{call.id}", data={**_form(route=None), "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Choose a route" in html and OBSERVATIONS in html
    assert re.search(r'<input checked[^>]*value="emergent"', html)
    assert db.session.execute(select(Triage).where(Triage.call_id == call.id)).first() is None


def test_triage_saves_and_override_needs_reason(client, login_as, csrf, town, bhu, clinician):
    call = make_call(town.id)  # no rules: the fallback suggests the BHU
    login_as(clinician)
    token = csrf(client.get(f"/triage/calls/{call.id}"))
    response = client.post(f"/triage/calls/{call.id}", data={**_form(), "csrf_token": token})
    assert response.status_code == 400 and "give the reason" in response.get_data(as_text=True)
    response = client.post(f"/triage/calls/{call.id}", data={
        **_form(override_reason="Clinician is two streets away."), "csrf_token": token})
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-route>Department clinician<" in detail and "Clinician is two streets away." in detail


def test_rereading_a_triage_on_the_screen_is_audited(client, login_as, town, clinician):
    call = triaged_call(town, clinician)
    login_as(clinician)
    html = client.get(f"/triage/calls/{call.id}").get_data(as_text=True)
    assert OBSERVATIONS in html
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.record_id == call.id)).scalars().all()
    assert "triage.read" in actions


def test_claim_page_flow_and_conflict_names_holder(client, login_as, csrf, town, clinician, clinician2, app):
    call = triaged_call(town, clinician)
    login_as(clinician)
    token = csrf(client.get(f"/calls/{call.id}"))
    response = client.post(f"/triage/calls/{call.id}/claim", data={"csrf_token": token})
    assert response.status_code == 303
    assert "data-assignee>Dana Reyes<" in client.get(response.headers["Location"]).get_data(as_text=True)

    other = app.test_client()
    login_as(clinician2, other)
    token = csrf(other.get(f"/calls/{call.id}"))
    response = other.post(f"/triage/calls/{call.id}/claim", data={"csrf_token": token}, follow_redirects=True)
    assert "Already claimed by Dana Reyes." in response.get_data(as_text=True)


def test_claim_of_a_closed_call_says_so(client, login_as, csrf, town, clinician):
    call = triaged_call(town, clinician)
    call.status = STATUS_CLOSED
    db.session.flush()
    login_as(clinician)
    token = csrf(client.get(f"/calls/{call.id}"))
    response = client.post(f"/triage/calls/{call.id}/claim", data={"csrf_token": token}, follow_redirects=True)
    assert "This call is closed; it can&#39;t be claimed." in response.get_data(as_text=True)


def test_assign_form_requires_reason_and_notifies(client, login_as, csrf, town, clinician, supervisor, app):
    call = triaged_call(town, clinician)
    login_as(supervisor)
    token = csrf(client.get(f"/triage/calls/{call.id}/assign"))
    response = client.post(f"/triage/calls/{call.id}/assign",
                           data={"csrf_token": token, "assignee_id": clinician.id, "reason": ""})
    assert response.status_code == 400 and "Give the reason" in response.get_data(as_text=True)
    assert f'selected value="{clinician.id}"' in response.get_data(as_text=True)
    response = client.post(f"/triage/calls/{call.id}/assign",
                           data={"csrf_token": token, "assignee_id": clinician.id, "reason": "Knows him."})
    assert response.status_code == 302

    mine = app.test_client()
    login_as(clinician, mine)
    home = mine.get("/notifications/").get_data(as_text=True)
    assert 'data-unread-count="1"' in home and "A call was assigned to you." in home
    token = csrf(mine.get("/notifications/"))
    note_id = re.search(r"/notifications/([0-9a-f-]{36})/open", home).group(1)
    opened = mine.post(f"/notifications/{note_id}/open", data={"csrf_token": token})
    assert opened.status_code == 303 and opened.headers["Location"].endswith(f"/calls/{call.id}")
    assert 'data-unread-count="0"' in mine.get("/notifications/").get_data(as_text=True)


def test_rules_pages_create_edit_delete(client, login_as, csrf, town, supervisor):
    login_as(supervisor)
    page = client.get("/triage/rules")
    assert page.status_code == 200 and "built-in fallback" in page.get_data(as_text=True)
    token = csrf(client.get("/triage/rules/new"))
    bad = client.post("/triage/rules/new", data={"csrf_token": token, "priority": "5", "route": "outside",
                                                 "on_duty": "any", "description": "Info calls to 988."})
    assert bad.status_code == 400 and "Name the outside service" in bad.get_data(as_text=True)
    assert "Info calls to 988." in bad.get_data(as_text=True)
    ok = client.post("/triage/rules/new", data={"csrf_token": token, "priority": "5", "route": "outside",
                                                "outside_service": "988", "acuities": ["information"],
                                                "on_duty": "any", "description": "Info calls to 988."})
    assert ok.status_code == 302
    rule = db.session.execute(select(RoutingRule).where(RoutingRule.agency_id == town.id)).scalar_one()
    assert (rule.route, rule.outside_service, rule.acuities) == ("outside", "988", "information")
    edited = client.post(f"/triage/rules/{rule.id}", data={"csrf_token": token, "priority": "6", "route": "bhu",
                                                           "on_duty": "no", "description": ""})
    assert edited.status_code == 302
    db.session.refresh(rule)
    assert (rule.priority, rule.route, rule.on_duty) == (6, "bhu", "no")
    assert client.post(f"/triage/rules/{rule.id}/delete", data={"csrf_token": token}).status_code == 303
    assert db.session.execute(select(RoutingRule).where(RoutingRule.agency_id == town.id)).first() is None


@pytest.mark.parametrize("role", ["dispatcher", "admin", "auditor"])
def test_call_page_hides_triage_actions_and_risk_from_non_clinicians(client, login_as, town, clinician, make_user, role):
    call = triaged_call(town, clinician)
    claim_call(clinician, call.id)
    user = make_user(town, role)
    login_as(user)
    response = client.get(f"/calls/{call.id}")
    if role != "dispatcher":
        assert response.status_code == 403
        return
    html = response.get_data(as_text=True)
    assert "data-assignee>Dana Reyes<" in html
    assert "Risk level" not in html and "Claim this call" not in html and OBSERVATIONS not in html
