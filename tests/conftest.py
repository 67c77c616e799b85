"""Test harness: one app per run, the schema built by running the migrations,
and a savepoint per test rolled back after it.

``make test`` runs the suite on SQLite and, when TEST_DATABASE_URL is set, once
more on PostgreSQL (CLINICIAN_TEST_BACKEND=postgresql) in a fresh schema.
"""
from __future__ import annotations

import contextvars
import io
import logging
import os
import secrets
import uuid

import pyotp
import pytest
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

from clinician_app import create_app
from clinician_app.core.keyfile import new_material, write_material
from clinician_app.extensions import db

BACKEND = os.environ.get("CLINICIAN_TEST_BACKEND", "sqlite")
FAST_ARGON2 = {"time_cost": 1, "memory_cost": 8 * 1024, "parallelism": 1}
TEST_PASSWORD = "correct horse battery staple"



# Every log record of the whole run is kept here; at the end the run fails if
# any password or TOTP secret the tests created appears in it (promise 12).
SUITE_LOG = io.StringIO()
SENTINELS: set[str] = {TEST_PASSWORD}


class _RecordDump(logging.Formatter):
    def format(self, record):
        return f"{record.name} {record.getMessage()} {vars(record)}"


def _capture_suite_logs():
    """Called after the migrations ran: Alembic's fileConfig replaces the root handlers."""
    root = logging.getLogger()
    if not any(getattr(h, "suite_capture", False) for h in root.handlers):
        handler = logging.StreamHandler(SUITE_LOG)
        handler.suite_capture = True
        handler.setFormatter(_RecordDump())
        handler.setLevel(logging.DEBUG)
        root.addHandler(handler)


def pytest_sessionfinish(session, exitstatus):
    text = SUITE_LOG.getvalue()
    os.makedirs("test-artifacts", exist_ok=True)
    with open(f"test-artifacts/suite-log-{BACKEND}.txt", "w") as handle:
        handle.write(text)
    leaked = sorted(s for s in SENTINELS if s and s in text)
    if leaked:
        print(f"\nSECRETS FOUND IN LOGS: {len(leaked)} test password(s)/TOTP secret(s) appeared in captured logs")
        session.exitstatus = 1


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "postgres_only" in item.keywords and BACKEND != "postgresql":
            item.add_marker(pytest.mark.skip(reason="runs in the PostgreSQL pass (TEST_DATABASE_URL)"))
        if "e2e" in item.keywords and BACKEND != "sqlite":
            item.add_marker(pytest.mark.skip(reason="browser tests run once, in the SQLite pass"))


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (and so its own ``g`` and
    current_user), even though the test itself holds one open: without this,
    Flask would reuse the test's context and leak state between requests."""

    def open(self, *args, **kwargs):
        def run():
            _cv_app.set(None)
            return FlaskClient.open(self, *args, **kwargs)

        return contextvars.copy_context().run(run)


@pytest.fixture(scope="session")
def keys_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    write_material(path, new_material())
    return str(path)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if BACKEND == "postgresql":
        base = os.environ.get("TEST_DATABASE_URL")
        if not base:
            pytest.exit("CLINICIAN_TEST_BACKEND=postgresql needs TEST_DATABASE_URL", returncode=2)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(keys_file, database_url):
    app = create_app(
        "test",
        KEYS_FILE=keys_file,
        SQLALCHEMY_DATABASE_URI=database_url,
        ARGON2_PARAMS=FAST_ARGON2,
        SERVER_NAME="localhost",
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    _capture_suite_logs()
    return app


@pytest.fixture()
def app_ctx(app):
    with app.app_context():
        yield app


@pytest.fixture(autouse=True)
def _transaction(request, app):
    """Every test runs inside a transaction that is rolled back afterwards;
    commits made by views become savepoint releases."""
    if "no_transaction" in request.keywords:
        yield
        return
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        # A plain Session: Flask-SQLAlchemy's own would route to the engine, not this connection.
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=_app_ctx_id,
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture()
def client(app):
    return app.test_client()


# --- factories ----------------------------------------------------------------

@pytest.fixture()
def make_agency(app):
    from clinician_app.agencies.models import Agency

    def make(code=None, kind="town", name=None, timezone="America/New_York"):
        code = code or f"T{secrets.token_hex(3).upper()}"
        agency = Agency(name=name or f"{code} Police Department", code=code, kind=kind, timezone=timezone)
        db.session.add(agency)
        db.session.flush()
        return agency

    return make


@pytest.fixture()
def agencies(make_agency):
    """Two towns and the BHU: the minimum to test agency scope."""
    return {"A": make_agency("TOWNA"), "B": make_agency("TOWNB"), "BHU": make_agency("RBHU", kind="bhu")}


@pytest.fixture()
def make_user(app):
    from clinician_app.auth import passwords
    from clinician_app.auth.models import User, UserRole
    from clinician_app.core.timeutil import utcnow

    def make(agency, *roles, username=None, password=TEST_PASSWORD, enrolled=True, display_name=None):
        SENTINELS.add(password)
        username = username or f"{'-'.join(roles) or 'user'}.{agency.code.lower()}.{secrets.token_hex(2)}"
        user = User(username=username, display_name=display_name or username.title(), agency_id=agency.id,
                    password_hash=passwords.hash_password(password),
                    role_rows=[UserRole(role=r) for r in roles])
        db.session.add(user)
        db.session.flush()
        if enrolled:
            secret = pyotp.random_base32()
            SENTINELS.add(secret)
            user.totp_secret = secret  # encrypted by the field
            user.totp_confirmed_at = utcnow()
        db.session.flush()
        return user

    return make


@pytest.fixture()
def login_as(app, client):
    """Sign a user in through a real server-side session (skips the slow hash and TOTP)."""
    from clinician_app.auth import sessions

    def login(user, test_client=None):
        test_client = test_client or client
        token = sessions.start_session(user, "127.0.0.1")
        db.session.commit()
        with test_client.session_transaction() as sess:
            sess.clear()
            sess["sid"] = token
        return test_client

    return login


def csrf_token_from(response) -> str:
    import re

    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF token in page"
    return match.group(1)


@pytest.fixture()
def csrf():
    return csrf_token_from
