"""Encounter pages through the Flask test client: the form (and its errors,
which keep what was typed), the call page showing the encounter and the step
times, the supervisor's closing form, and the disposition admin page."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from clinician_app.cases.models import Disposition, Encounter
from clinician_app.core.audit import AuditEvent
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from tests.cases.conftest import CLOSE_REASON, NOTE, claimed_call

ZONE = ZoneInfo("America/New_York")


def local_input(when) -> str:
    return when.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def encounter_form(token, **overrides):
    now = utcnow()
    data = {
        "csrf_token": token,
        "kind": "on_scene",
        "started_at": local_input(now - timedelta(minutes=45)),
        "ended_at": local_input(now - timedelta(minutes=10)),
        "disposition": "cbhc_evaluation",
        "point_of_intervention": "pre_arrest",
        "custody_diverted": "yes",
        "jail_diversion_option": "no",
        "ed_visit_prevented": "yes",
        "charges-0-charge": "Disturbing the peace",
        "charges-0-diverted": "y",
        "charges-1-charge": "",
        "charges-2-charge": "",
        "note": NOTE,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_clinician_records_an_encounter_and_the_call_page_shows_it(clinician, login_as, client, csrf):
    call = claimed_call(clinician)
    db.session.commit()
    login_as(clinician)
    page = client.get(f"/cases/calls/{call.id}/encounter")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Mobile crisis / Community Behavioral Health Center evaluation" in html and "Section 35" in html

    response = client.post(f"/cases/calls/{call.id}/encounter", data=encounter_form(csrf(page)))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/calls/{call.id}")
    encounter = db.session.execute(select(Encounter).where(Encounter.call_id == call.id)).scalar_one()
    assert encounter.disposition.code == "cbhc_evaluation" and encounter.ed_visit_prevented is True
    assert encounter.jail_diversion_option is False and encounter.charges[0].diverted

    detail = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert "Encounter recorded. Call" in detail and "is closed" in detail
    assert "Co-response on scene: Mobile crisis / Community Behavioral Health Center evaluation" in detail
    assert "Disturbing the peace (diverted)" in detail and NOTE in detail and "(35 min)" in detail
    assert 'data-step="time_to_first_contact"' in detail
    for step in ("flagged_at", "triaged_at", "assigned_at", "first_contact_at", "closed_at"):
        cell = detail.split(f'data-step="{step}">', 1)[1].split("</dd>", 1)[0]
        assert cell != "Not yet", step
    reads = db.session.execute(select(AuditEvent).where(AuditEvent.action == "encounter.note_read",
                                                        AuditEvent.record_id == encounter.id)).scalars().all()
    assert len(reads) == 1


def test_an_encounter_ending_before_it_starts_keeps_what_was_typed(clinician, login_as, client, csrf):
    call = claimed_call(clinician)
    db.session.commit()
    login_as(clinician)
    token = csrf(client.get(f"/cases/calls/{call.id}/encounter"))
    now = utcnow()
    started, ended = local_input(now - timedelta(minutes=10)), local_input(now - timedelta(minutes=50))
    response = client.post(f"/cases/calls/{call.id}/encounter",
                           data=encounter_form(token, started_at=started, ended_at=ended))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The end time is before the start time. Check both times." in html
    assert f'value="{started}"' in html and f'value="{ended}"' in html
    assert NOTE in html and 'value="Disturbing the peace"' in html
    assert '<option selected value="cbhc_evaluation">' in html
    assert db.session.execute(select(Encounter).where(Encounter.call_id == call.id)).first() is None


def test_missing_choices_are_named_not_a_500(clinician, login_as, client, csrf):
    call = claimed_call(clinician)
    db.session.commit()
    login_as(clinician)
    token = csrf(client.get(f"/cases/calls/{call.id}/encounter"))
    response = client.post(f"/cases/calls/{call.id}/encounter",
                           data=encounter_form(token, kind=None, disposition="nonsense", started_at="yesterday"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Choose the type of encounter." in html and "Choose the disposition." in html
    assert "Enter a date and time" in html


def test_a_closed_call_has_no_encounter_form(clinician, login_as, client, csrf):
    call = claimed_call(clinician)
    call.status = "closed"
    db.session.commit()
    login_as(clinician)
    assert client.get(f"/cases/calls/{call.id}/encounter").status_code == 409


def test_supervisor_closes_a_call_from_its_page(supervisor, clinician, login_as, client, csrf):
    call = claimed_call(clinician)
    db.session.commit()
    login_as(supervisor)
    detail = client.get(f"/calls/{call.id}").get_data(as_text=True)
    assert f'href="/cases/calls/{call.id}/close"' in detail
    page = client.get(f"/cases/calls/{call.id}/close")
    token = csrf(page)
    empty = client.post(f"/cases/calls/{call.id}/close", data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 400 and "Give the reason for closing the call." in empty.get_data(as_text=True)
    done = client.post(f"/cases/calls/{call.id}/close", data={"csrf_token": token, "reason": CLOSE_REASON})
    assert done.status_code == 302
    db.session.refresh(call)
    assert call.status == "closed"


def test_admin_adds_and_retires_a_disposition_the_form_then_offers(make_user, agencies, clinician, login_as, client, csrf):
    admin = make_user(agencies["A"], "admin")
    login_as(admin)
    page = client.get("/cases/dispositions")
    assert page.status_code == 200 and "Arrest diverted" in page.get_data(as_text=True)
    token = csrf(page)
    bad = client.post("/cases/dispositions", data={"csrf_token": token, "code": "Bad Code", "label": "Housing"})
    assert bad.status_code == 400 and 'value="Housing"' in bad.get_data(as_text=True)
    added = client.post("/cases/dispositions", data={"csrf_token": token, "code": "housing", "label": "Housing placement",
                                                     "counts_as_diversion": "y"})
    assert added.status_code == 302
    housing = db.session.execute(select(Disposition).where(Disposition.code == "housing")).scalar_one()
    assert housing.counts_as_diversion

    call = claimed_call(clinician)
    db.session.commit()
    login_as(clinician)
    assert "Housing placement" in client.get(f"/cases/calls/{call.id}/encounter").get_data(as_text=True)
    login_as(admin)
    token = csrf(client.get("/cases/dispositions"))
    assert client.post(f"/cases/dispositions/{housing.id}/retire", data={"csrf_token": token}).status_code == 302
    login_as(clinician)
    assert "Housing placement" not in client.get(f"/cases/calls/{call.id}/encounter").get_data(as_text=True)
