"""The call pages through the Flask test client: the dispatch form, the list,
a call's page for each kind of reader, and the prior-calls panel."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from clinician_app.calls.models import Call
from clinician_app.core.audit import AuditEvent
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from tests.calls.conftest import CAUTION_NOTES, NARRATIVE
from tests.calls.factories import make_call

ZONE = ZoneInfo("America/New_York")


def local_input(when) -> str:
    """What a datetime-local input sends."""
    return when.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")


def form_data(token, **overrides):
    data = {
        "csrf_token": token,
        "incident_number": "25-01234",
        "received_at": local_input(utcnow() - timedelta(minutes=4)),
        "address": "12 Main St",
        "latitude": "",
        "longitude": "",
        "call_type": "suicidal_person",
        "caller_relation": "partner",
        "received_via": "911",
        "co_response": "y",
        "urgency": "now",
        "indicators": ["suicidal", "intoxication"],
        "caution_weapon": "y",
        "caution_notes": CAUTION_NOTES,
        "narrative": NARRATIVE,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture()
def dispatch_client(login_as, dispatcher, client):
    login_as(dispatcher)
    return client


def _token(client, csrf):
    return csrf(client.get("/calls/new"))


def _calls():
    """Calls of this test's agencies (a PostgreSQL concurrency test commits its own elsewhere)."""
    from clinician_app.agencies.models import Agency

    return db.session.execute(select(Call).join(Agency, Agency.id == Call.agency_id).where(
        Agency.code.in_(["TOWNA", "TOWNB"]))).scalars().all()


def _html(response) -> str:
    return response.get_data(as_text=True)


def _checked(html: str, name: str, value: str) -> bool:
    """Whether the checkbox or radio button ``name=value`` is rendered checked."""
    tags = [t for t in re.findall(r"<input[^>]*>", html) if f'name="{name}"' in t and f'value="{value}"' in t]
    assert len(tags) == 1, (name, value, tags)
    return re.search(r"\schecked(?:[\s>=]|$)", tags[0]) is not None


def _value_of(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'<input[^>]*value="([^"]*)"[^>]*name="{name}"', html)
    return match.group(1) if match else None


# --- the dispatch form --------------------------------------------------------------

def test_blank_form_has_defaults_and_keyboard_friendly_markup(dispatch_client, town):
    html = _html(dispatch_client.get("/calls/new"))
    assert re.search(r'<input[^>]*autofocus[^>]*name="incident_number"|<input[^>]*name="incident_number"[^>]*autofocus', html)
    # Received defaults to now, on the agency's wall clock, to the minute.
    value = _value_of(html, "received_at")
    typed = value and __import__("datetime").datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=ZONE)
    assert typed and abs(typed - utcnow()) < timedelta(minutes=2)
    assert 'type="datetime-local"' in html
    assert town.name in html
    assert _checked(html, "co_response", "y") and not _checked(html, "urgency", "now")
    assert html.count('name="indicators"') == 7 and html.count('name="urgency"') == 3
    # The prior-calls panel is fetched by POST with the CSRF header, and only the address is sent.
    assert 'hx-post="/calls/prior-calls"' in html and 'hx-params="address"' in html
    assert 'hx-trigger="keyup changed delay:400ms, change"' in html and "X-CSRFToken" in html
    assert "accesskey" not in html and " style=" not in html and "<script>" not in html


def test_valid_call_is_saved_and_lands_on_its_page(dispatch_client, csrf, dispatcher):
    response = dispatch_client.post("/calls/new", data=form_data(_token(dispatch_client, csrf)))
    assert response.status_code == 302
    [call] = _calls()
    assert response.headers["Location"].endswith(f"/calls/{call.id}")
    assert (call.incident_number, call.agency_id, call.status, call.urgency) == ("25-01234", dispatcher.agency_id, "flagged", "now")
    assert call.received_via == "911"
    assert call.indicators == ["suicidal", "intoxication"] and call.cautions == ["weapon"]
    assert call.narrative == NARRATIVE and call.caution_notes == CAUTION_NOTES
    page = dispatch_client.get(response.headers["Location"])
    html = _html(page)
    assert page.status_code == 200
    assert "Call 25-01234 saved. Status: Flagged for co-response." in html
    assert "Flagged for co-response" in html
    # The dispatcher typed the narrative but the call page does not show it back,
    # nor the clinical indicators; the cautions they entered are shown.
    assert NARRATIVE not in html and "Suicidal ideation" not in html and "Clinical" not in html
    assert CAUTION_NOTES in html and "Weapon" in html


def test_received_time_is_read_on_the_agency_clock(dispatch_client, csrf):
    dispatch_client.post("/calls/new", data=form_data(_token(dispatch_client, csrf), received_at="2025-07-04T09:30"))
    [call] = _calls()
    assert call.received_at.isoformat() == "2025-07-04T13:30:00+00:00"  # EDT is UTC-4


def test_a_call_without_co_response_is_recorded(dispatch_client, csrf):
    data = form_data(_token(dispatch_client, csrf), urgency=None)
    del data["co_response"]
    response = dispatch_client.post("/calls/new", data=data, follow_redirects=True)
    assert response.status_code == 200 and "Status: Recorded, not flagged." in _html(response)


REQUIRED = {
    "incident_number": "Enter the incident number.",
    "received_at": "Enter the date and time the call was received.",
    "address": "Enter the address or location.",
    "call_type": "Choose the call type.",
    "caller_relation": "Choose who called.",
    "urgency": "Choose how soon the co-responder is needed.",
}


@pytest.mark.parametrize("missing", list(REQUIRED))
@pytest.mark.parametrize("how", ["empty", "absent"])
def test_each_missing_required_field_is_named_and_the_rest_is_kept(dispatch_client, csrf, missing, how):
    data = form_data(_token(dispatch_client, csrf))
    if how == "empty":
        data[missing] = ""
    else:
        del data[missing]
    response = dispatch_client.post("/calls/new", data=data)
    html = _html(response)
    assert response.status_code == 400
    assert _calls() == []
    assert REQUIRED[missing] in html
    assert f'href="#{missing}"' in html  # the summary links to the field
    errors = re.findall(r'class="usa-error-message" id="([^"]+)-error"', html)
    assert errors == [missing]
    # Focus lands on the field to fix, not back at the top.
    [focused] = [t for t in re.findall(r"<(?:input|select|textarea)[^>]*>", html) if re.search(r"\sautofocus[\s>]", t)]
    assert f'id="{missing}-0"' in focused if missing == "urgency" else f'id="{missing}"' in focused
    # Everything else typed is still there.
    if missing != "incident_number":
        assert _value_of(html, "incident_number") == "25-01234"
    if missing != "address":
        assert _value_of(html, "address") == "12 Main St"
    if missing != "received_at":
        assert _value_of(html, "received_at") == data["received_at"]
    if missing != "call_type":
        assert '<option selected value="suicidal_person">' in html
    if missing != "caller_relation":
        assert '<option selected value="partner">' in html
    if missing != "urgency":
        assert _checked(html, "urgency", "now")
    assert _checked(html, "indicators", "suicidal") and _checked(html, "indicators", "intoxication")
    assert not _checked(html, "indicators", "dementia")
    assert _checked(html, "caution_weapon", "y") and not _checked(html, "caution_hazards", "y")
    assert _checked(html, "co_response", "y")
    assert NARRATIVE in html and CAUTION_NOTES in html


def test_duplicate_incident_number_is_refused_with_a_clear_message(dispatch_client, csrf, dispatcher):
    make_call(dispatcher.agency_id, incident_number="25-01234")
    response = dispatch_client.post("/calls/new", data=form_data(_token(dispatch_client, csrf), incident_number="25-01234"))
    html = _html(response)
    assert response.status_code == 400
    assert "Incident number 25-01234 already exists in your agency." in html
    assert 'id="incident_number-error"' in html
    assert _value_of(html, "address") == "12 Main St" and NARRATIVE in html
    assert len(_calls()) == 1


def test_the_same_incident_number_in_another_agency_is_fine(dispatch_client, csrf, agencies):
    make_call(agencies["B"].id, incident_number="25-01234")
    response = dispatch_client.post("/calls/new", data=form_data(_token(dispatch_client, csrf)))
    assert response.status_code == 302


@pytest.mark.parametrize("overrides, message", [
    ({"received_at": "yesterday"}, "Enter a date and time, like 2025-03-31 14:05."),
    ({"received_at": "2025-02-30T10:00"}, "Enter a date and time"),
    ({"received_at": local_input(utcnow() + timedelta(days=1))}, "The received time can&#39;t be in the future."),
    ({"received_at": "1999-06-01T10:00"}, "after the year 2000"),
    ({"incident_number": "25 01234"}, "Use letters, digits and - / . _ only"),
    ({"incident_number": "9" * 41}, "Use at most 40 characters."),
    ({"call_type": "robbery"}, "Choose the call type."),
    ({"caller_relation": "cousin"}, "Choose who called."),
    ({"received_via": "pigeon"}, "Choose how the call came in."),
    ({"urgency": "eventually"}, "Choose how soon the co-responder is needed."),
    ({"indicators": ["mental_health", "telepathy"]}, "Choose indicators from the list."),
    ({"address": "x" * 201}, "Use at most 200 characters."),
    ({"address": "12 Main\x07 St"}, "Remove the control characters."),
    ({"narrative": "n" * 2001}, "Use at most 2000 characters."),
    ({"caution_notes": "c" * 501}, "Use at most 500 characters."),
    ({"latitude": "95", "longitude": "-71.3"}, "Enter a number from -90 to 90"),
    ({"latitude": "42.6", "longitude": "west"}, "Enter a number from -180 to 180"),
    ({"latitude": "42.6"}, "Give both latitude and longitude, or neither."),
    ({"latitude": "4" * 21, "longitude": "1"}, "Use at most 20 characters."),
])
def test_bad_input_gives_a_field_error_never_a_500(dispatch_client, csrf, overrides, message):
    response = dispatch_client.post("/calls/new", data=form_data(_token(dispatch_client, csrf), **overrides))
    html = _html(response)
    assert response.status_code == 400, html[:500]
    assert message in html
    assert _calls() == []
    # Nothing typed is lost, the bad value included.
    assert (NARRATIVE if "narrative" not in overrides else "n" * 2001) in html
    if "address" not in overrides:
        assert _value_of(html, "address") == "12 Main St"


def test_form_without_csrf_token_is_refused(dispatch_client):
    response = dispatch_client.post("/calls/new", data=form_data(""))
    assert response.status_code == 400 and _calls() == []


def test_officer_cannot_open_the_form(login_as, make_user, town, client):
    login_as(make_user(town, "officer"))
    assert client.get("/calls/new").status_code == 403


# --- the list -------------------------------------------------------------------------

def test_list_shows_status_without_narrative_or_clinical_fields(dispatch_client, dispatcher, agencies):
    make_call(dispatcher.agency_id, incident_number="OWN-1", narrative=NARRATIVE, indicators=["dementia"], caution_violence=True)
    make_call(agencies["B"].id, incident_number="OTHER-1")
    html = _html(dispatch_client.get("/calls/"))
    assert "OWN-1" in html and "OTHER-1" not in html
    assert ">Flagged<" in html and "Violence" in html
    assert NARRATIVE not in html and "Dementia" not in html
    assert "Flag a call" in html


def test_list_filters_and_pages(dispatch_client, dispatcher):
    for n in range(27):
        make_call(dispatcher.agency_id, incident_number=f"PG-{n:02d}", received_at=utcnow() - timedelta(hours=n + 1),
                  call_type="overdose" if n == 3 else "well_being_check")
    make_call(dispatcher.agency_id, incident_number="OLD-1", received_at=utcnow() - timedelta(days=40), co_response=False)

    first = _html(dispatch_client.get("/calls/"))
    assert "28 calls, page 1 of 2" in first and "PG-00" in first and "OLD-1" not in first
    second = _html(dispatch_client.get("/calls/?page=2"))
    assert "OLD-1" in second and "PG-00" not in second

    by_type = _html(dispatch_client.get("/calls/?call_type=overdose"))
    assert "1 call matching the filters" in by_type and "PG-03" in by_type

    by_status = _html(dispatch_client.get("/calls/?status=recorded"))
    assert "OLD-1" in by_status and "PG-01" not in by_status

    day = (utcnow() - timedelta(days=40)).astimezone(ZONE).date().isoformat()
    by_date = _html(dispatch_client.get(f"/calls/?date_from={day}&date_to={day}"))
    assert "OLD-1" in by_date and "PG-01" not in by_date

    # Paging keeps the filters.
    paged = _html(dispatch_client.get("/calls/?call_type=well_being_check"))
    assert "page=2" in paged and "call_type=well_being_check" in paged


@pytest.mark.parametrize("query", ["?status=bogus", "?date_from=not-a-date", "?date_from=2025-05-02&date_to=2025-05-01",
                                   "?page=abc", "?page=-3", "?call_type=%00"])
def test_bad_filters_never_500(dispatch_client, dispatcher, query):
    make_call(dispatcher.agency_id, incident_number="F-1")
    response = dispatch_client.get(f"/calls/{query}")
    assert response.status_code in (200, 400)
    assert "F-1" in _html(response)  # the bad filter is ignored, the list still shows


def test_empty_list_has_its_empty_state(dispatch_client):
    assert "No calls yet" in _html(dispatch_client.get("/calls/"))


# --- a call's page for each reader -------------------------------------------------------

def _narrative_reads(call_id):
    return db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "call.narrative_read", AuditEvent.record_id == call_id)).scalars().all()


def test_another_agencys_call_is_not_found(dispatch_client, agencies):
    foreign = make_call(agencies["B"].id, narrative=NARRATIVE)
    response = dispatch_client.get(f"/calls/{foreign.id}")
    assert response.status_code == 404 and NARRATIVE not in _html(response)
    assert dispatch_client.get("/calls/not-a-uuid").status_code == 404


def test_officer_sees_cautions_but_not_the_narrative(login_as, make_user, town, client):
    call = make_call(town.id, narrative=NARRATIVE, caution_notes=CAUTION_NOTES, caution_weapon=True, indicators=["suicidal"])
    login_as(make_user(town, "officer"))
    html = _html(client.get(f"/calls/{call.id}"))
    assert CAUTION_NOTES in html and "Weapon" in html
    assert NARRATIVE not in html and "Suicidal ideation" not in html and 'data-section="clinical"' not in html
    assert _narrative_reads(call.id) == []


def test_dispatcher_sees_status_but_not_the_narrative(dispatch_client, dispatcher):
    call = make_call(dispatcher.agency_id, narrative=NARRATIVE)
    html = _html(dispatch_client.get(f"/calls/{call.id}"))
    assert 'data-status="flagged"' in html and "Flagged for co-response" in html
    assert NARRATIVE not in html and _narrative_reads(call.id) == []


@pytest.mark.parametrize("role", ["clinician", "supervisor"])
def test_clinician_sees_the_narrative_and_each_view_is_audited_once(login_as, make_user, town, client, role):
    call = make_call(town.id, narrative=NARRATIVE, indicators=["suicidal", "juvenile"])
    reader = make_user(town, role)
    login_as(reader)
    html = _html(client.get(f"/calls/{call.id}"))
    assert NARRATIVE in html and "Suicidal ideation or attempt" in html and "Juvenile involved" in html
    assert [e.actor_id for e in _narrative_reads(call.id)] == [reader.id]
    client.get(f"/calls/{call.id}")
    assert len(_narrative_reads(call.id)) == 2


def test_call_page_lists_other_calls_at_the_address(dispatch_client, dispatcher):
    make_call(dispatcher.agency_id, address="14 Pinebrook Lane", received_at=utcnow() - timedelta(days=5))
    call = make_call(dispatcher.agency_id, address="14 Pinebrook Ln")
    html = _html(dispatch_client.get(f"/calls/{call.id}"))
    assert "1 call</strong> at this address in the last 90 days" in html


# --- the prior-calls panel ----------------------------------------------------------------

def _prior(client, token, address, **headers):
    return client.post("/calls/prior-calls", data={"address": address},
                       headers={"X-CSRFToken": token, "HX-Request": "true", **headers})


def test_prior_calls_panel_counts_recent_calls_at_the_address_only(dispatch_client, csrf, dispatcher, agencies):
    token = _token(dispatch_client, csrf)
    now = utcnow()
    make_call(dispatcher.agency_id, address="14 Pinebrook Lane", received_at=now - timedelta(days=3), narrative=NARRATIVE)
    make_call(dispatcher.agency_id, address="14 PINEBROOK LN.", received_at=now - timedelta(days=60))
    make_call(dispatcher.agency_id, address="14 Pinebrook Lane", received_at=now - timedelta(days=95))
    make_call(dispatcher.agency_id, address="41 Pinebrook Lane", received_at=now - timedelta(days=1))
    make_call(agencies["B"].id, address="14 Pinebrook Lane", received_at=now - timedelta(days=1))

    response = _prior(dispatch_client, token, "14  pinebrook  lane")
    html = _html(response)
    assert response.status_code == 200
    assert "2 calls</strong> at this address in the last 90 days" in html
    assert html.count("<li>") == 2
    assert (now - timedelta(days=3)).astimezone(ZONE).strftime("%b %d, %Y") in html
    assert NARRATIVE not in html and "<html" not in html  # a fragment, with dates only
    assert "No calls at this address" in _html(_prior(dispatch_client, token, "99 Elsewhere Rd"))
    assert "Type the address" in _html(_prior(dispatch_client, token, "1"))


def test_prior_calls_panel_needs_csrf_and_post(dispatch_client, csrf):
    assert dispatch_client.post("/calls/prior-calls", data={"address": "14 Pinebrook Lane"}).status_code == 400
    assert dispatch_client.get("/calls/prior-calls?address=14+Pinebrook+Lane").status_code in (404, 405)


def test_form_rerendered_with_an_error_shows_prior_calls_for_the_typed_address(dispatch_client, csrf, dispatcher):
    make_call(dispatcher.agency_id, address="12 Main Street", received_at=utcnow() - timedelta(days=1))
    response = dispatch_client.post("/calls/new", data=form_data(_token(dispatch_client, csrf), incident_number=""))
    assert "1 call</strong> at this address" in _html(response)


# --- home panels --------------------------------------------------------------------------

def test_dispatcher_home_shows_call_counts_once_calls_exist(dispatch_client, dispatcher):
    empty = _html(dispatch_client.get("/"))
    assert "No calls yet" in empty
    make_call(dispatcher.agency_id)
    home = _html(dispatch_client.get("/"))
    assert "No calls yet" not in home
    assert "Calls in the last 7 days" in home and "Flagged, awaiting triage" in home
    assert 'href="/calls/new"' in home and 'href="/calls/"' in home


def test_officer_home_links_to_the_calls(login_as, make_user, town, client):
    login_as(make_user(town, "officer"))
    assert "Nothing to show yet" in _html(client.get("/"))
    make_call(town.id)
    home = _html(client.get("/"))
    assert "Your agency&#39;s calls" in home and "Nothing to show yet" not in home


def test_how_the_call_came_in_defaults_to_911_and_is_shown_on_the_call(dispatch_client, csrf):
    form = _html(dispatch_client.get("/calls/new"))
    assert '<option selected value="911">' in form or '<option value="911" selected>' in form
    response = dispatch_client.post("/calls/new", data=form_data(_token(dispatch_client, csrf), received_via="walk_in"))
    [call] = _calls()
    assert call.received_via == "walk_in"
    page = _html(dispatch_client.get(response.headers["Location"]))
    assert "Came in by" in page and "Walk-in at the station" in page
