"""Structured JSON logs without PHI, the readiness check, and the gunicorn settings."""
from __future__ import annotations

import io
import json
import logging
import multiprocessing
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import g

from clinician_app.core import crypto
from clinician_app.core.logging import GunicornLogger, make_handler
from clinician_app.ops import readiness

ROOT = Path(__file__).resolve().parents[2]
FIRST, LAST = "Quillonette", "Marrowbrook"


@pytest.fixture()
def json_log():
    """What the app logs, as the production handler writes it."""
    stream = io.StringIO()
    handler = make_handler(True, stream)
    logger = logging.getLogger("clinician_app")
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def _records(stream: io.StringIO) -> list[dict]:
    lines = stream.getvalue().splitlines()
    assert lines, "nothing was logged"
    return [json.loads(line) for line in lines]  # every line is one JSON object


def test_request_log_lines_are_json_with_ids_and_no_phi(client, agencies, make_user, login_as, csrf, json_log):
    clinician = make_user(agencies["A"], "clinician")
    login_as(clinician)
    page = client.get("/people/")
    response = client.post("/people/", data={"csrf_token": csrf(page), "first_name": FIRST, "last_name": LAST,
                                             "date_of_birth": "1969-07-20"})
    assert response.status_code == 200
    assert client.get(f"/calls/?q={FIRST}").status_code in (200, 400)  # a query string never reaches the log

    records = _records(json_log)
    requests = [r for r in records if r["message"] == "request"]
    assert len(requests) == 3
    for record in requests:
        assert list(record)[:4] == ["ts", "level", "logger", "message"]
        assert record["ts"].endswith("+00:00") and record["level"] == "INFO" and record["logger"] == "clinician_app.request"
        assert {"request_id", "user_id", "endpoint", "status", "duration_ms"} <= set(record)
        assert record["user_id"] == clinician.id and len(record["request_id"]) == 16
        assert isinstance(record["duration_ms"], float)
    lookup = next(r for r in requests if r["method"] == "POST")
    assert (lookup["endpoint"], lookup["status"], lookup["path"]) == ("people.search", 200, "/people/")
    assert len({r["request_id"] for r in requests}) == 3
    text = json_log.getvalue()
    assert FIRST not in text and LAST not in text and "1969-07-20" not in text


def test_records_logged_during_a_request_carry_its_ids(app, json_log):
    with app.test_request_context("/anything"):
        g.request_id = "0123456789abcdef"
        g._login_user = SimpleNamespace(is_authenticated=True, id="user-id-1")
        logging.getLogger("clinician_app.somewhere").warning("something happened", extra={"case_id": "case-1"})
    logging.getLogger("clinician_app.somewhere").warning("outside a request")
    inside, outside = _records(json_log)
    assert (inside["request_id"], inside["user_id"], inside["case_id"]) == ("0123456789abcdef", "user-id-1", "case-1")
    assert inside["level"] == "WARNING" and inside["logger"] == "clinician_app.somewhere"
    assert "request_id" not in outside


def test_exceptions_are_logged_as_type_and_frames_only(json_log):
    secret = f"{FIRST} {LAST}"
    try:
        raise ValueError(f"could not parse {secret}")
    except ValueError:
        logging.getLogger("clinician_app.x").exception("failed")
    (record,) = _records(json_log)
    assert record["error_type"] == "ValueError" and "test_logging_and_serving.py" in record["trace"]
    assert secret not in json_log.getvalue()


# --- readiness ----------------------------------------------------------------------

def test_readyz_checks_database_and_keys(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "keys": "ok"}


def test_readyz_is_unavailable_when_the_keys_do_not_work(app, client, monkeypatch):
    ring = app.extensions["clinician_keys"].ring

    def broken(*args, **kwargs):
        raise crypto.MissingKeyError("no active data key")

    monkeypatch.setattr(ring, "encrypt_raw", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "ok", "keys": "down"}
    assert "data key" not in response.get_data(as_text=True)


def test_readyz_is_unavailable_when_the_database_is_not(client, monkeypatch):
    from sqlalchemy import text

    monkeypatch.setattr(readiness, "text", lambda _sql: text("SELECT * FROM no_such_table_here"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "down" and response.get_json()["keys"] == "ok"


def test_readyz_checks_redis_when_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["redis"] == "down"


# --- gunicorn -----------------------------------------------------------------------

def test_gunicorn_config_defaults_and_environment(monkeypatch):
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_TIMEOUT", "GUNICORN_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["worker_class"] == "gthread"
    assert settings["workers"] == 2 * multiprocessing.cpu_count() and settings["threads"] == 4
    assert settings["timeout"] == 30 and settings["graceful_timeout"] == 30
    assert settings["accesslog"] is None  # the app logs each request itself
    assert settings["logger_class"] == "clinician_app.core.logging.GunicornLogger"
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%(a)s"):  # request line, query, referrer, agent
        assert atom not in settings["access_log_format"]
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    monkeypatch.setenv("GUNICORN_ACCESS_LOG", "-")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert (settings["workers"], settings["threads"], settings["accesslog"]) == (3, 8, "-")


@pytest.mark.parametrize("json_lines", [True, False])
def test_gunicorn_access_lines_have_no_query_string(tmp_path, monkeypatch, json_lines):
    from gunicorn.config import Config

    monkeypatch.setenv("LOG_JSON", "1" if json_lines else "0")
    access = tmp_path / "access.log"
    cfg = Config()
    cfg.set("accesslog", str(access))
    cfg.set("errorlog", str(tmp_path / "error.log"))
    logger = GunicornLogger(cfg)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/people/", "QUERY_STRING": f"first_name={FIRST}",
               "RAW_URI": f"/people/?first_name={FIRST}", "REMOTE_ADDR": "10.0.0.5", "SERVER_PROTOCOL": "HTTP/1.1",
               "HTTP_REFERER": f"https://app.example/people/?last_name={LAST}"}
    logger.access(SimpleNamespace(status="200 OK", sent=512), SimpleNamespace(headers=[]), environ,
                  timedelta(milliseconds=12))
    logger.error("worker booted")
    for handler in [*logger.access_log.handlers, *logger.error_log.handlers]:
        handler.flush()
    line = access.read_text()
    assert "/people/" in line and "200" in line
    assert FIRST not in line and LAST not in line and "first_name" not in line
    if json_lines:
        record = json.loads(line)
        assert (record["path"], record["status"], record["duration_ms"]) == ("/people/", 200, 12.0)
        assert json.loads((tmp_path / "error.log").read_text().splitlines()[-1])["message"] == "worker booted"


# --- behind the proxy ---------------------------------------------------------------

def test_forwarded_headers_count_only_behind_a_trusted_proxy(keys_file):
    from flask import request

    from clinician_app import create_app

    for hops, expected in ((0, "10.0.0.2"), (1, "203.0.113.9")):
        app = create_app("test", KEYS_FILE=keys_file, SQLALCHEMY_DATABASE_URI="sqlite://", TRUSTED_PROXY_HOPS=hops)
        with app.test_client() as client:
            client.get("/healthz", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
                       environ_base={"REMOTE_ADDR": "10.0.0.2"})
            assert request.remote_addr == expected
            assert request.scheme == ("https" if hops else "http")
