"""Idempotent ingestion (SECURITY.md promise 17): a retry creates nothing and
gets the original reply; a reused key with another body is refused; a retry
while the first is in flight is a 409. Concurrency: test_concurrency.py."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clinician_app.api.idempotency import lock_id
from clinician_app.api.models import DONE, IdempotencyRecord
from clinician_app.auth.models import ApiClient
from clinician_app.calls.models import Call
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from tests.api.conftest import bearer, call_body, calls_with_incident


def _post(client, token, body, key=None):
    headers = bearer(token, **({"Idempotency-Key": key} if key else {}))
    return client.post("/api/v1/calls", json=body, headers=headers)


def _call_count() -> int:
    return db.session.execute(select(func.count()).select_from(Call)).scalar_one()


def _client_id(agency) -> str:
    return db.session.execute(select(ApiClient.id).where(ApiClient.agency_id == agency.id)).scalars().first()


def test_a_retry_with_the_same_key_returns_the_original_reply_with_200(client, agencies, make_token):
    token, body = make_token(agencies["A"]), call_body()
    first = _post(client, token, body, key="4f1c-retry")
    retry = _post(client, token, body, key="4f1c-retry")
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.get_json() == first.get_json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert _call_count() == 1
    record = db.session.execute(select(IdempotencyRecord)).scalar_one()
    assert (record.status, record.call_id, record.response_status) == (DONE, first.get_json()["id"], 201)


def test_the_body_is_compared_as_json_not_as_bytes(client, agencies, make_token):
    token, body = make_token(agencies["A"]), call_body()
    first = _post(client, token, body, key="same-json")
    reordered = dict(reversed(list(body.items())))
    retry = client.post("/api/v1/calls", data=json.dumps(reordered, indent=4), content_type="application/json",
                        headers=bearer(token, **{"Idempotency-Key": "same-json"}))
    assert retry.status_code == 200 and retry.get_json()["id"] == first.get_json()["id"]


def test_the_same_key_with_another_body_is_422(client, agencies, make_token):
    token, body = make_token(agencies["A"]), call_body()
    _post(client, token, body, key="k-reused")
    other = call_body()
    response = _post(client, token, other, key="k-reused")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "idempotency_key_reused" and list(error["fields"]) == ["Idempotency-Key"]
    assert "different request body" in error["message"]
    assert calls_with_incident(agencies["A"].id, other["incident_number"]) == []


@pytest.mark.postgres_only
def test_a_retry_while_the_first_is_in_flight_is_409(app, client, agencies, make_token):
    token, body = make_token(agencies["A"]), call_body()
    lock = lock_id(_client_id(agencies["A"]), "k-busy")
    # The first request holds the key's lock on its own connection while it creates the call.
    with db.engine.connect() as first:
        first.execute(select(func.pg_advisory_lock(lock)))
        try:
            response = _post(client, token, body, key="k-busy")
        finally:
            first.execute(select(func.pg_advisory_unlock(lock)))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "request_in_flight"
    assert _call_count() == 0
    # Once the first is gone (here: it never stored a reply), the retry goes through.
    assert _post(client, token, body, key="k-busy").status_code == 201


def test_a_retry_that_raced_past_the_look_up_returns_the_stored_reply(client, agencies, make_token, monkeypatch):
    """A retry that looked before the first stored its reply (SQLite queues writers
    instead of locking keys; on PostgreSQL the first may commit between the look-up's
    snapshot and the lock) meets the unique key when it stores its own, and answers
    with the first's reply, keeping nothing of its own."""
    from clinician_app.api import idempotency

    token, body = make_token(agencies["A"]), call_body()
    first = _post(client, token, body, key="k-race")
    monkeypatch.setattr(idempotency, "_claim_key", lambda client, key, fingerprint: None)
    retry = _post(client, token, body, key="k-race")
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.get_json() == first.get_json()
    assert _call_count() == 1


def test_a_failed_request_releases_its_key(client, agencies, make_token):
    token, body = make_token(agencies["A"]), call_body(urgency=None)  # the service refuses: no urgency
    failed = _post(client, token, body, key="k-fix")
    assert failed.status_code == 422 and "urgency" in failed.get_json()["error"]["fields"]
    assert db.session.execute(select(IdempotencyRecord)).first() is None
    fixed = _post(client, token, {**body, "urgency": "now"}, key="k-fix")
    assert fixed.status_code == 201


def test_keys_belong_to_one_client(client, agencies, make_token):
    body = call_body()
    mine = _post(client, make_token(agencies["A"]), body, key="shared-key")
    theirs = _post(client, make_token(agencies["B"]), body, key="shared-key")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["id"] != theirs.get_json()["id"]


@pytest.mark.parametrize("key", ["x" * 256, "has space", "caf\u00e9"], ids=["too_long", "space", "not_ascii"])
def test_a_malformed_key_is_422(client, agencies, make_token, key):
    response = client.post("/api/v1/calls", json=call_body(),
                           headers={**bearer(make_token(agencies["A"])), "Idempotency-Key": key.encode().decode("latin-1")})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["Idempotency-Key"]
    assert _call_count() == 0


# --- without a key: the agency's incident number ---------------------------------------

def test_a_retry_without_a_key_finds_the_call_by_incident_number(client, agencies, make_token):
    token, body = make_token(agencies["A"]), call_body()
    first = _post(client, token, body)
    # CAD sends its incident numbers in any case and with stray spaces; the call is the same.
    retry = _post(client, token, {**body, "incident_number": body["incident_number"].lower(), "narrative": "updated"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.get_json()["id"] == first.get_json()["id"]
    assert _call_count() == 1


def test_the_same_incident_number_with_other_details_is_409(client, agencies, make_token):
    token, body = make_token(agencies["A"]), call_body()
    first = _post(client, token, body).get_json()
    response = _post(client, token, {**body, "address": "9 Elm Street", "indicators": ["dementia"]})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "incident_conflict" and list(error["fields"]) == ["incident_number"]
    assert "address" in error["message"] and "indicators" in error["message"]
    assert _call_count() == 1 and db.session.get(Call, first["id"]).address == body["address"]


def test_a_new_key_for_a_call_already_posted_returns_that_call(client, agencies, make_token):
    token, body = make_token(agencies["A"]), call_body()
    first = _post(client, token, body, key="first-key")
    second = _post(client, token, body, key="second-key")
    assert second.status_code == 200 and second.get_json()["id"] == first.get_json()["id"]
    assert _call_count() == 1
    # The second key now replays that reply too.
    assert _post(client, token, body, key="second-key").get_json()["id"] == first.get_json()["id"]


def test_a_call_entered_by_dispatch_is_found_by_a_later_cad_post(client, agencies, make_token):
    from tests.calls.factories import make_call

    token, body = make_token(agencies["A"]), call_body()
    entered = make_call(agencies["A"].id, incident_number=body["incident_number"], received_at=utcnow() - timedelta(hours=1))
    db.session.commit()
    # Different details (the received time): a conflict, not a second call.
    assert _post(client, token, body).status_code == 409
    same = {**body, "received_at": entered.received_at.isoformat(), "address": entered.address, "call_type": entered.call_type,
            "caller_relation": entered.caller_relation, "indicators": entered.indicators, "cautions": [],
            "urgency": entered.urgency}
    response = _post(client, token, same)
    assert response.status_code == 200 and response.get_json()["id"] == entered.id


def test_other_agencies_may_use_the_same_incident_number(client, agencies, make_token):
    body = call_body()
    assert _post(client, make_token(agencies["A"]), body).status_code == 201
    assert _post(client, make_token(agencies["B"]), body).status_code == 201
