"""`seed-demo` gives every town a CAD API client whose token it prints, the
same on every run (derived from the install's secret key, stored as a hash),
so the README's curl example works at once."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select, update

from clinician_app.auth.models import ApiClient
from clinician_app.core.timeutil import utcnow
from clinician_app.demo import AGENCIES
from clinician_app.extensions import db
from tests.api.conftest import bearer, call_body
from tests.conftest import SENTINELS


def _seed(app) -> dict:
    result = app.test_cli_runner().invoke(args=["seed-demo", "--json"])
    assert result.exit_code == 0, result.output
    seeded = json.loads(result.output)
    SENTINELS.update(c["token"] for c in seeded["api_clients"])
    return seeded


def test_seed_demo_prints_a_working_token_per_town(app, client):
    seeded = _seed(app)
    towns = [code for _name, code, kind in AGENCIES if kind == "town"]
    assert [c["agency"] for c in seeded["api_clients"]] == towns
    for demo in seeded["api_clients"]:
        reply = client.get("/api/v1/ping", headers=bearer(demo["token"]))
        assert reply.status_code == 200 and reply.get_json()["agency"] == demo["agency"]
    tokens = {c["token"] for c in seeded["api_clients"]}
    stored = db.session.execute(select(ApiClient.token_hash)).scalars().all()
    assert not tokens & set(stored)  # only hashes are kept

    first = seeded["api_clients"][0]
    created = client.post("/api/v1/calls", json=call_body(), headers=bearer(first["token"]))
    assert created.status_code == 201


def test_re_running_the_seed_prints_the_same_tokens_and_adds_no_clients(app):
    first = _seed(app)
    count = db.session.execute(select(func.count()).select_from(ApiClient)).scalar_one()
    second = _seed(app)
    assert second["api_clients"] == first["api_clients"]
    assert db.session.execute(select(func.count()).select_from(ApiClient)).scalar_one() == count


def test_a_revoked_demo_client_stays_revoked(app, client):
    first = _seed(app)["api_clients"][0]
    db.session.execute(update(ApiClient).where(ApiClient.name == "Demo CAD").values(revoked_at=utcnow()))
    db.session.commit()
    again = _seed(app)
    assert first not in again["api_clients"]
    assert client.get("/api/v1/ping", headers=bearer(first["token"])).status_code == 401


def test_the_table_output_shows_the_tokens(app):
    tokens = [c["token"] for c in _seed(app)["api_clients"]]
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert "Demo CAD API tokens" in result.output and all(token in result.output for token in tokens)


def test_given_tokens_are_for_the_demo_seed_only(agencies, make_user):
    from clinician_app.auth.services import create_api_client

    admin = make_user(agencies["A"], "admin")
    with pytest.raises(ValueError):
        create_api_client(admin, "CAD", ["calls:read"], None, token="cat_" + "x" * 43)
    with pytest.raises(ValueError):
        create_api_client(None, "CAD", ["calls:read"], None, agency_id=agencies["A"].id, token="short")
