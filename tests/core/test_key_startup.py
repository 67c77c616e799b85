"""Fail closed at start-up (SECURITY.md promise 9): the production app refuses to start
without its keys, or with a key file that does not decrypt the data already stored.
Each test builds its own committed database (a SQLite file, or a fresh PostgreSQL
schema in the PostgreSQL pass), since the suite's database holds no committed data."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from clinician_app import create_app
from clinician_app.agencies.models import Agency
from clinician_app.auth.models import User
from clinician_app.core.audit import AuditHead
from clinician_app.core.keyfile import KeyConfigError, load_keys, new_material, write_material
from clinician_app.extensions import db

BACKEND = os.environ.get("CLINICIAN_TEST_BACKEND", "sqlite")
pytestmark = pytest.mark.no_transaction


@pytest.fixture()
def scratch_url(tmp_path):
    if BACKEND != "postgresql":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    base = os.environ["TEST_DATABASE_URL"]
    schema = f"s_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def keys_at(path) -> str:
    write_material(path, new_material())
    return str(path)


def production(keys_file: str, url: str):
    return create_app("production", KEYS_FILE=keys_file, SQLALCHEMY_DATABASE_URI=url, ALLOW_SQLITE=True)


def store_a_secret(keys_file: str, url: str) -> None:
    """Committed data encrypted under ``keys_file``: a user with a TOTP secret."""
    app = create_app("test", KEYS_FILE=keys_file, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()
        agency = Agency(name="Town Police Department", code="TOWN", kind="town", timezone="America/New_York")
        db.session.add_all([agency, AuditHead(id=1, last_seq=0)])
        db.session.flush()
        user = User(username="stored.user", display_name="Stored", agency_id=agency.id, password_hash="unused")
        user.totp_secret = "STORED-SECRET-SENTINEL"
        db.session.add(user)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_production_refuses_to_start_without_a_key_file(tmp_path, scratch_url):
    with pytest.raises(KeyConfigError, match="no key file at .*absent.json"):
        production(str(tmp_path / "absent.json"), scratch_url)


def test_production_refuses_key_material_without_encryption_keys(tmp_path, scratch_url):
    path = tmp_path / "keys.json"
    material = new_material()
    del material["encryption"]["data_keys"]
    write_material(path, material)
    with pytest.raises(KeyConfigError, match="lacks: data_keys"):
        production(str(path), scratch_url)


def test_production_refuses_a_key_file_that_does_not_fit_the_data(tmp_path, scratch_url):
    right = keys_at(tmp_path / "right.json")
    store_a_secret(right, scratch_url)
    wrong = keys_at(tmp_path / "wrong.json")  # valid on its own, and also names a "k1"
    with pytest.raises(KeyConfigError, match=r"do not decrypt the data already stored \(users.totp_secret") as info:
        production(wrong, scratch_url)
    assert "STORED-SECRET" not in str(info.value)
    # A key file that no longer holds the key the data names (retired too early) is refused too.
    lost = load_keys(right)
    old_id = lost.ring.active_key_id
    lost.ring.add_data_key()
    lost.ring.retire_data_key(old_id)
    lost.path = str(tmp_path / "lost.json")
    lost.save()
    with pytest.raises(KeyConfigError, match=f"no data key '{old_id}'"):
        production(lost.path, scratch_url)
    # The right keys start, and read the value back.
    app = production(right, scratch_url)
    with app.app_context():
        user = db.session.execute(db.select(User)).scalar_one()
        assert user.totp_secret == "STORED-SECRET-SENTINEL"
        db.session.remove()
        db.engine.dispose()


def test_production_starts_on_a_database_not_yet_built(tmp_path, scratch_url):
    app = production(keys_at(tmp_path / "keys.json"), scratch_url)  # before `init-db`: nothing to check
    assert app.config["ENV_NAME"] == "production"
