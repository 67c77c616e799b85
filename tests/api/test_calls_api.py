"""The CAD API through the Flask test client: create, fetch, poll; tokens,
scopes and agency scope; malformed and mistyped bodies; the per-client limit."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from clinician_app.api.models import IdempotencyRecord
from clinician_app.auth.models import ApiClient
from clinician_app.calls.models import Call
from clinician_app.core.audit import AuditEvent
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from tests.api.conftest import NARRATIVE, STATUS_KEYS, bearer, call_body, calls_with_incident


def _post(client, token, body, **headers):
    return client.post("/api/v1/calls", json=body, headers=bearer(token, **headers))


# --- create, fetch, poll -------------------------------------------------------------

def test_post_creates_a_flagged_call_in_the_token_agency(client, agencies, make_token):
    token = make_token(agencies["A"])
    body = call_body()
    response = _post(client, token, body)
    assert response.status_code == 201, response.get_json()
    reply = response.get_json()
    assert set(reply) == STATUS_KEYS
    assert reply["status"] == "flagged" and reply["flagged_at"] and reply["triaged_at"] is None
    assert reply["incident_number"] == body["incident_number"]
    assert NARRATIVE not in response.get_data(as_text=True)

    call = db.session.get(Call, reply["id"])
    client_row = db.session.execute(select(ApiClient).where(ApiClient.agency_id == agencies["A"].id)).scalar_one()
    assert call.agency_id == agencies["A"].id
    assert (call.source, call.api_client_id) == ("cad", client_row.id)
    assert call.indicators == ["mental_health", "suicidal"] and call.caution_weapon and not call.caution_violence
    assert call.narrative == NARRATIVE and call.caution_notes == "Knife reported in kitchen"
    assert call.urgency == "now" and call.address == "12 Main Street, Chelmsford"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.record_id == call.id)).scalar_one()
    assert event.action == "call.create" and event.actor_id == client_row.id


def test_a_call_not_flagged_is_recorded_without_entering_the_queue(client, agencies, make_token):
    response = _post(client, make_token(agencies["A"]), call_body(co_response=False, urgency=None))
    assert response.status_code == 201
    assert response.get_json()["status"] == "recorded" and response.get_json()["flagged_at"] is None


def test_get_returns_status_and_step_times_only(client, agencies, make_token):
    token = make_token(agencies["A"])
    created = _post(client, token, call_body()).get_json()
    call = db.session.get(Call, created["id"])
    call.status, call.triaged_at = "triaged", utcnow()
    db.session.commit()

    response = client.get(f"/api/v1/calls/{created['id']}", headers=bearer(token))
    assert response.status_code == 200
    reply = response.get_json()
    assert set(reply) == STATUS_KEYS
    assert reply["id"] == created["id"] and reply["status"] == "triaged" and reply["triaged_at"]
    text = response.get_data(as_text=True)
    for clinical in (NARRATIVE, "Knife", "suicidal", "mental_health"):
        assert clinical not in text


def test_list_since_returns_what_changed_after_the_last_poll(client, agencies, make_token):
    token = make_token(agencies["A"])
    first, second, third = (_post(client, token, call_body()).get_json() for _ in range(3))

    everything = client.get("/api/v1/calls", headers=bearer(token)).get_json()
    assert [c["id"] for c in everything["items"]] == [first["id"], second["id"], third["id"]]
    assert everything["next_since"] == third["updated_at"]

    since_first = client.get("/api/v1/calls", query_string={"since": first["updated_at"]}, headers=bearer(token)).get_json()
    assert [c["id"] for c in since_first["items"]] == [second["id"], third["id"]]

    # A status change moves the call to the end of the feed.
    call = db.session.get(Call, first["id"])
    call.status, call.triaged_at = "triaged", utcnow()
    db.session.commit()
    after = client.get("/api/v1/calls", query_string={"since": everything["next_since"]}, headers=bearer(token)).get_json()
    assert [(c["id"], c["status"]) for c in after["items"]] == [(first["id"], "triaged")]

    nothing = client.get("/api/v1/calls", query_string={"since": after["next_since"]}, headers=bearer(token)).get_json()
    assert nothing == {"items": [], "next_since": after["next_since"]}


def test_list_pages_by_limit_without_splitting_an_instant(client, agencies, make_token):
    token = make_token(agencies["A"])
    ids = [_post(client, token, call_body()).get_json()["id"] for _ in range(3)]
    base = utcnow() - timedelta(minutes=1)
    # The last two changed at the same instant: a page of two must not end between them,
    # or the next poll ("changed after the last one seen") would skip the other.
    for call_id, moment in zip(ids, (base, base + timedelta(seconds=1), base + timedelta(seconds=1)), strict=True):
        db.session.execute(update(Call).where(Call.id == call_id).values(updated_at=moment))
    db.session.commit()

    page = client.get("/api/v1/calls", query_string={"limit": 2}, headers=bearer(token)).get_json()
    assert [c["id"] for c in page["items"]] == ids[:1]
    rest = client.get("/api/v1/calls", query_string={"limit": 2, "since": page["next_since"]}, headers=bearer(token)).get_json()
    assert sorted(c["id"] for c in rest["items"]) == sorted(ids[1:])


def test_list_shows_only_the_token_agency(client, agencies, make_token):
    mine = _post(client, make_token(agencies["A"]), call_body()).get_json()
    _post(client, make_token(agencies["B"]), call_body())
    items = client.get("/api/v1/calls", headers=bearer(make_token(agencies["A"]))).get_json()["items"]
    assert [c["id"] for c in items] == [mine["id"]]


@pytest.mark.parametrize("query", [{"since": "yesterday"}, {"since": "2025-01-01T00:00:00"}, {"limit": 0}, {"limit": 501}])
def test_list_rejects_bad_query_values_naming_them(client, agencies, make_token, query):
    response = client.get("/api/v1/calls", query_string=query, headers=bearer(make_token(agencies["A"])))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == set(query)


def test_ping_names_the_agency_and_scopes(client, agencies, make_token):
    reply = client.get("/api/v1/ping", headers=bearer(make_token(agencies["A"], scopes=["calls:read"])))
    assert reply.status_code == 200
    assert reply.get_json() == {"status": "ok", "agency": agencies["A"].code, "scopes": ["calls:read"]}


def test_use_is_noted_for_the_admin_console(client, agencies, make_token):
    token = make_token(agencies["A"])
    client.get("/api/v1/ping", headers=bearer(token))
    row = db.session.execute(select(ApiClient).where(ApiClient.agency_id == agencies["A"].id)).scalar_one()
    assert row.last_used_at is not None


# --- tokens and scopes -----------------------------------------------------------------

def _revoke(agency):
    db.session.execute(update(ApiClient).where(ApiClient.agency_id == agency.id).values(revoked_at=utcnow()))
    db.session.commit()


def _expire(agency):
    db.session.execute(update(ApiClient).where(ApiClient.agency_id == agency.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


@pytest.mark.parametrize("method,path", [("GET", "/api/v1/ping"), ("GET", "/api/v1/calls"), ("POST", "/api/v1/calls"),
                                         ("GET", "/api/v1/calls/00000000-0000-4000-8000-000000000000")])
@pytest.mark.parametrize("case", ["missing", "unknown", "not_bearer", "revoked", "expired"])
def test_bad_tokens_get_401_with_a_bearer_challenge(client, agencies, make_token, method, path, case):
    token = make_token(agencies["A"])
    headers = {
        "missing": {},
        "unknown": bearer("cat_" + "x" * 43),
        "not_bearer": {"Authorization": f"Basic {token}"},
        "revoked": bearer(token),
        "expired": bearer(token),
    }[case]
    if case == "revoked":
        _revoke(agencies["A"])
    if case == "expired":
        _expire(agencies["A"])
    response = client.open(path, method=method, json=call_body() if method == "POST" else None, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="clinician_app"')
    assert response.get_json()["error"]["code"] == "unauthorized"
    # Scoped to the test's agency: PostgreSQL race tests commit calls of their own agencies.
    assert db.session.execute(select(Call).where(Call.agency_id == agencies["A"].id)).first() is None


def test_a_signed_in_user_without_a_token_gets_401(client, agencies, make_user, login_as):
    login_as(make_user(agencies["A"], "dispatcher"))
    assert client.get("/api/v1/calls").status_code == 401
    assert client.post("/api/v1/calls", json=call_body()).status_code == 401


def test_a_token_without_the_scope_gets_403(client, agencies, make_token):
    reader = make_token(agencies["A"], scopes=["calls:read"])
    poster = make_token(agencies["A"], scopes=["calls:create"])
    response = _post(client, reader, call_body())
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "insufficient_scope"
    assert 'scope="calls:create"' in response.headers["WWW-Authenticate"]

    created = _post(client, poster, call_body()).get_json()
    assert client.get(f"/api/v1/calls/{created['id']}", headers=bearer(poster)).status_code == 403
    assert client.get("/api/v1/calls", headers=bearer(poster)).status_code == 403
    assert client.get(f"/api/v1/calls/{created['id']}", headers=bearer(reader)).status_code == 200


def test_another_agency_call_is_404(client, agencies, make_token):
    theirs = _post(client, make_token(agencies["B"]), call_body()).get_json()
    response = client.get(f"/api/v1/calls/{theirs['id']}", headers=bearer(make_token(agencies["A"])))
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    assert theirs["incident_number"] not in response.get_data(as_text=True)


def test_ids_that_are_not_uuids_are_404(client, agencies, make_token):
    response = client.get("/api/v1/calls/not-a-uuid", headers=bearer(make_token(agencies["A"])))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


# --- bad input ------------------------------------------------------------------------------

def test_malformed_json_is_400(client, agencies, make_token):
    response = client.post("/api/v1/calls", data='{"incident_number": "24-1",', content_type="application/json",
                           headers=bearer(make_token(agencies["A"])))
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "malformed_json", "message": "The request body is not valid JSON.", "fields": {}}


def test_wrong_types_are_422_naming_each_field(client, agencies, make_token):
    body = call_body(received_at=5, indicators="suicidal", co_response="maybe", latitude="north", call_type="burglary")
    response = _post(client, make_token(agencies["A"]), body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"received_at", "indicators", "co_response", "latitude", "call_type"}
    assert calls_with_incident(agencies["A"].id, body["incident_number"]) == []


def test_missing_fields_and_a_non_json_body_are_422(client, agencies, make_token):
    token = make_token(agencies["A"])
    response = _post(client, token, {})
    assert set(response.get_json()["error"]["fields"]) == {"incident_number", "received_at", "address", "call_type"}
    form = client.post("/api/v1/calls", data={"incident_number": "24-1"}, headers=bearer(token))
    assert form.status_code == 422 and "incident_number" in form.get_json()["error"]["fields"]
    assert client.post("/api/v1/calls", json=["not", "an", "object"], headers=bearer(token)).status_code == 422


@pytest.mark.parametrize("extra", [{"agency_id": "00000000-0000-4000-8000-000000000000"}, {"status": "closed"}, {"role": "admin"},
                                   {"agency_id": "x", "status": "closed", "role": "admin"}])
def test_extra_fields_are_refused_never_assigned(client, agencies, make_token, extra):
    body = call_body(**extra)
    response = _post(client, make_token(agencies["A"]), body)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {name: ["Unknown field."] for name in extra}
    assert calls_with_incident(agencies["A"].id, body["incident_number"]) == []


def test_the_service_rules_answer_422_too(client, agencies, make_token):
    token = make_token(agencies["A"])
    future = (utcnow() + timedelta(hours=2)).isoformat()
    response = _post(client, token, call_body(urgency=None, received_at=future))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"urgency", "received_at"}


@pytest.mark.parametrize("field,value", [("incident_number", "24-\u00001"), ("address", "12 Main\u0000 St"),
                                         ("narrative", "line\u0000break"), ("incident_number", "x" * 41)])
def test_control_characters_and_long_values_are_422(client, agencies, make_token, field, value):
    response = _post(client, make_token(agencies["A"]), call_body(**{field: value}))
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_unknown_api_paths_and_methods_answer_in_the_error_shape(client, agencies, make_token):
    token = make_token(agencies["A"])
    missing = client.get("/api/v1/nothing-here", headers=bearer(token))
    assert missing.status_code == 404 and set(missing.get_json()["error"]) == {"code", "message", "fields"}
    wrong = client.delete("/api/v1/calls", headers=bearer(token))
    assert wrong.status_code == 405 and wrong.get_json()["error"]["code"] == "method_not_allowed"


# --- documents -----------------------------------------------------------------------------------

def test_openapi_document_and_reference_page_are_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/calls", "/api/v1/calls/{call_id}", "/api/v1/ping"} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(spec["components"]["schemas"]["Error"]["properties"]) == {"error"}
    assert spec["paths"]["/api/v1/calls"]["post"]["x-required-scope"] == "calls:create"
    created = spec["components"]["schemas"]["CallCreate"]
    assert created["additionalProperties"] is False
    assert "narrative" not in spec["components"]["schemas"]["CallStatus"]["properties"]

    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("POST /api/v1/calls", "GET /api/v1/calls/{call_id}", "Idempotency-Key", "incident_number", "calls:read"):
        assert text in html
    assert "<script>" not in html and "style=" not in html


# --- the per-client rate limit -----------------------------------------------------------------------

@pytest.fixture()
def limited_app(app, keys_file, database_url):
    from clinician_app import create_app
    from clinician_app.extensions import limiter
    from tests.conftest import IsolatedClient

    other = create_app("test", KEYS_FILE=keys_file, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True,
                       API_RATELIMIT="2 per minute", RATELIMIT_STORAGE_URI="memory://", SERVER_NAME="localhost")
    other.test_client_class = IsolatedClient
    yield other
    # The limiter is one object shared by every app in this process.
    limiter.enabled = False
    limiter._storage_uri = None
    limiter.init_app(app)


def test_requests_are_limited_per_client_not_per_address(limited_app, agencies, make_token):
    first, second = make_token(agencies["A"]), make_token(agencies["A"])
    client = limited_app.test_client()
    statuses = [client.get("/api/v1/ping", headers=bearer(first)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = client.get("/api/v1/ping", headers=bearer(first))
    assert refused.get_json()["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
    # Same address, another client: its own allowance.
    assert client.get("/api/v1/ping", headers=bearer(second)).status_code == 200


def test_idempotency_rows_hold_no_clinical_content(client, agencies, make_token):
    _post(client, make_token(agencies["A"]), call_body(), **{"Idempotency-Key": "k-1"})
    record = db.session.execute(select(IdempotencyRecord)).scalar_one()
    assert set(record.response_body) == STATUS_KEYS


def test_refused_requests_count_against_the_limit_too(limited_app, agencies, make_token):
    reader = make_token(agencies["A"], scopes=["calls:read"])
    client = limited_app.test_client()
    statuses = [client.post("/api/v1/calls", json=call_body(), headers=bearer(reader)).status_code for _ in range(3)]
    assert statuses == [403, 403, 429]


def test_how_the_call_came_in_is_optional_and_checked(client, agencies, make_token):
    token = make_token(agencies["A"])
    body = call_body(incident_number="RV-1", received_via="business_line")
    told = _post(client, token, body)
    assert told.status_code == 201, told.get_json()
    assert db.session.get(Call, told.get_json()["id"]).received_via == "business_line"
    untold = _post(client, token, call_body(incident_number="RV-2"))
    assert db.session.get(Call, untold.get_json()["id"]).received_via is None
    wrong = _post(client, token, call_body(incident_number="RV-3", received_via="pigeon"))
    assert wrong.status_code == 422 and "received_via" in wrong.get_json()["error"]["fields"]
    # A retry that leaves it out describes the same call, not a conflicting one.
    retry = _post(client, token, {k: v for k, v in body.items() if k != "received_via"})
    assert retry.status_code == 200 and retry.get_json()["id"] == told.get_json()["id"]
