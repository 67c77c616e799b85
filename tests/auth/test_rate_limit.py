"""Per-address throttling of sign-in (Flask-Limiter), in memory or in Redis;
with Redis unreachable the sign-in fails closed with a 503."""
import os

import pytest

from clinician_app import create_app
from clinician_app.extensions import limiter
from tests.conftest import IsolatedClient, csrf_token_from

REDIS_URL = os.environ.get("REDIS_URL_FOR_TESTS", "redis://127.0.0.1:6379/15")


@pytest.fixture()
def limited_app(app, keys_file, database_url):
    made = []

    def make(storage_uri):
        other = create_app("test", KEYS_FILE=keys_file, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True,
                           RATELIMIT_SIGNIN="3 per minute", RATELIMIT_STORAGE_URI=storage_uri, SERVER_NAME="localhost")
        other.test_client_class = IsolatedClient
        made.append(other)
        return other

    yield make
    # The limiter is one object shared by every app in this process: give the
    # suite's app its own settings back.
    limiter.enabled = False
    limiter._storage_uri = None
    limiter.init_app(app)


def _attempts(app, n):
    client = app.test_client()
    statuses = []
    for _ in range(n):
        page = client.get("/auth/login")
        statuses.append(client.post("/auth/login", data={"csrf_token": csrf_token_from(page), "username": "nobody.x",
                                                         "password": "wrong wrong wrong"}).status_code)
    return statuses


def test_sign_in_is_throttled_per_address_in_memory(limited_app):
    statuses = _attempts(limited_app("memory://"), 4)
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429


def _redis_up():
    import redis

    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis at REDIS_URL_FOR_TESTS")
def test_sign_in_is_throttled_with_redis_storage(limited_app):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    statuses = _attempts(limited_app(REDIS_URL), 4)
    assert statuses[3] == 429


def test_redis_down_fails_closed_with_503(limited_app):
    app = limited_app("redis://127.0.0.1:1/0")
    client = app.test_client()
    page = client.get("/auth/login")
    response = client.post("/auth/login", data={"csrf_token": csrf_token_from(page), "username": "a.b", "password": "c"})
    assert response.status_code == 503
    assert "Service unavailable" in response.get_data(as_text=True)
