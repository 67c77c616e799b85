"""Concurrent retries of one call (SECURITY.md promise 17), on PostgreSQL:
20 threads, each with its own test client and so its own connection, post the
same call at once with real commits. Exactly one call is created; every other
reply is the original (200) or "still in flight" (409), never a second call.

The rows made here are deleted afterwards; their audit events stay (the
trigger forbids deleting them), found by nothing but their ids.
"""
from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import delete, func, select

from clinician_app.api.models import IdempotencyRecord
from clinician_app.calls.models import Call
from clinician_app.extensions import db
from tests.api.conftest import bearer, call_body

pytestmark = [pytest.mark.postgres_only, pytest.mark.no_transaction]

THREADS = 20


@pytest.fixture()
def committed_token(app):
    """A town and a CAD client, committed for real; removed with their calls afterwards."""
    from clinician_app.agencies.models import Agency
    from clinician_app.auth.models import ApiClient
    from clinician_app.auth.services import create_api_client

    with app.app_context():
        suffix = uuid.uuid4().hex[:8].upper()
        agency = Agency(name=f"Race {suffix}", code=f"R{suffix}", kind="town", timezone="America/New_York")
        db.session.add(agency)
        db.session.flush()
        client, token = create_api_client(None, "CAD race", ["calls:create", "calls:read"], 1, agency_id=agency.id)
        ids = {"agency": agency.id, "client": client.id}
        db.session.commit()
        db.session.remove()
    yield token, ids["agency"]
    with app.app_context():
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.client_id == ids["client"]))
        db.session.execute(delete(Call).where(Call.agency_id == ids["agency"]))
        db.session.execute(delete(ApiClient).where(ApiClient.id == ids["client"]))
        db.session.execute(delete(Agency).where(Agency.id == ids["agency"]))
        db.session.commit()
        db.session.remove()


def _post_at_once(app, headers: dict, body: dict) -> list:
    start = threading.Barrier(THREADS)
    replies: list = []
    errors: list[BaseException] = []

    def post():
        client = app.test_client()
        try:
            start.wait(timeout=30)
            response = client.post("/api/v1/calls", json=body, headers=headers)
            replies.append((response.status_code, response.get_json()))
        except BaseException as exc:  # noqa: BLE001  (reported below: a thread can't fail the test itself)
            errors.append(exc)

    workers = [threading.Thread(target=post) for _ in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a request hung"
    assert errors == []
    return replies


def _calls(app, agency_id: str) -> list[str]:
    with app.app_context():
        ids = list(db.session.execute(select(Call.id).where(Call.agency_id == agency_id)).scalars())
        db.session.remove()
    return ids


def test_twenty_concurrent_retries_with_one_key_create_one_call(app, committed_token):
    token, agency_id = committed_token
    replies = _post_at_once(app, bearer(token, **{"Idempotency-Key": str(uuid.uuid4())}), call_body())

    statuses = Counter(status for status, _ in replies)
    assert statuses[201] == 1, statuses
    assert set(statuses) <= {200, 201, 409}, replies
    created = _calls(app, agency_id)
    assert len(created) == 1
    assert {reply["id"] for status, reply in replies if status in (200, 201)} == set(created)
    assert all(reply["error"]["code"] == "request_in_flight" for status, reply in replies if status == 409)
    with app.app_context():
        record = db.session.execute(select(IdempotencyRecord).join(Call, Call.id == IdempotencyRecord.call_id)
                                    .where(Call.agency_id == agency_id)).scalar_one()
        assert (record.status, record.call_id) == ("done", created[0])
        db.session.remove()


def test_twenty_concurrent_retries_without_a_key_create_one_call(app, committed_token):
    token, agency_id = committed_token
    replies = _post_at_once(app, bearer(token), call_body())

    statuses = Counter(status for status, _ in replies)
    assert statuses == Counter({201: 1, 200: THREADS - 1}), replies
    created = _calls(app, agency_id)
    assert len(created) == 1
    assert {reply["id"] for _, reply in replies} == set(created)


def test_after_the_race_a_retry_replays_the_original_reply(app, committed_token):
    token, agency_id = committed_token
    key, body = str(uuid.uuid4()), call_body()
    _post_at_once(app, bearer(token, **{"Idempotency-Key": key}), body)
    replay = app.test_client().post("/api/v1/calls", json=body, headers=bearer(token, **{"Idempotency-Key": key}))
    assert replay.status_code == 200 and [replay.get_json()["id"]] == _calls(app, agency_id)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Call).where(Call.agency_id == agency_id)).scalar_one() == 1
        db.session.remove()
