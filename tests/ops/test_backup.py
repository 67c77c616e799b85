"""`flask backup` and `flask restore` (SECURITY.md promise 20): a consistent copy,
encrypted with the key ring, restored into a fresh database, every record read
back and the audit chain verified on the copy; a wrong key ring is refused and the
file holds no plaintext.

Each test builds a database of its own (a new SQLite file, or a new PostgreSQL
schema) with committed data, because pg_dump reads from another connection and
sees only what is committed; restores go into a new SQLite file or a new
PostgreSQL database.
"""
from __future__ import annotations

import os
import secrets
import shutil
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import create_engine, text

from clinician_app import create_app
from clinician_app.core.keyfile import new_material, write_material
from clinician_app.extensions import db
from clinician_app.ops import backup as backup_ops
from tests.conftest import BACKEND, FAST_ARGON2

pytestmark = pytest.mark.no_transaction

# Sentinels: none may appear in a backup file, in any encoding we can think of.
FIRST, LAST = "Quirinalda", "Zephyrwright"
NARRATIVE = "Sentinel narrative: caller says Quirinalda hears the kettle singing hymns."
NOTE_BODY = "Sentinel note: discussed the plan for Ostrovia Bellweather's medication."
DOB = date(1971, 3, 9)


def _pg_base() -> str:
    return os.environ["TEST_DATABASE_URL"]


def _with_search_path(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture()
def source(tmp_path, keys_file):
    """A fresh database with the migrations run and some committed records of every kind."""
    schema = None
    if BACKEND == "postgresql":
        schema = f"bk_{uuid.uuid4().hex[:10]}"
        admin = create_engine(_pg_base(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _with_search_path(_pg_base(), schema)
    else:
        url = f"sqlite:///{tmp_path / 'source.db'}"
    app = create_app("test", KEYS_FILE=keys_file, SQLALCHEMY_DATABASE_URI=url, ARGON2_PARAMS=FAST_ARGON2,
                     SERVER_NAME="localhost")
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        ids = _seed_records()
        db.session.commit()
        db.session.remove()
    try:
        yield app, url, ids
    finally:
        with app.app_context():
            db.engine.dispose()
        if schema:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _seed_records() -> dict:
    from clinician_app.calls.services import NewCall, create_call
    from clinician_app.cases import case_services
    from clinician_app.cases.notes import NewNote, write_note
    from clinician_app.core.timeutil import utcnow
    from clinician_app.demo import seed_demo
    from clinician_app.people.services import PersonData, create_person, find_matches

    seed_demo()
    from clinician_app.auth.services import find_user

    dispatcher, clinician = find_user("dispatch.chelmsford"), find_user("clinician.chelmsford")
    call = create_call(dispatcher, NewCall(
        incident_number="BK-0001", received_at=utcnow() - timedelta(minutes=20), address="9 Sentinel Way",
        call_type="well_being_check", caller_relation="family", indicators=["mental_health"],
        caution_weapon=True, caution_notes="Dog named Quirinalda in the yard.", narrative=NARRATIVE,
        co_response=True, urgency="same_day"))
    person = create_person(clinician, PersonData(first_name=FIRST, last_name=LAST, date_of_birth=DOB,
                                                 aliases=["Quiri Zephyr"], phone="978-555-0199",
                                                 identifying_notes="Tattoo of a lighthouse."))
    case_services.link_person(clinician, call.id, person.id)
    case = case_services.open_case(clinician, person.id, call_id=call.id, assignee_id=clinician.id)
    note = write_note(clinician, case.id, NewNote(kind="contact", body=NOTE_BODY))
    find_matches(clinician, FIRST, LAST, DOB)  # an audited lookup
    return {"call": call.id, "person": person.id, "case": case.id, "note": note.id}


@pytest.fixture()
def target(tmp_path):
    """Where to restore: a new SQLite file, or a new PostgreSQL database (dropped afterwards)."""
    if BACKEND != "postgresql":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_pg_base(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    base = _pg_base().rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _backup(app, path):
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(path)])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output
    return result


def test_backup_and_restore_read_every_record_and_verify_the_chain(source, target, tmp_path, keys_file):
    if BACKEND == "postgresql" and shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is not installed; the PostgreSQL backup test needs postgresql-client")
    app, url, ids = source
    path = tmp_path / "db.backup"
    _backup(app, path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"

    result = app.test_cli_runner().invoke(args=["restore", str(path), "--target-url", target])
    assert result.exit_code == 0, result.output
    assert "every field decrypts and the audit chain is intact" in result.output

    # Read the copy through the app itself, with the same key file: the records and
    # their decrypted fields are there, and the audit chain verifies.
    with app.app_context():
        header = backup_ops.check_file(path, app.extensions["clinician_keys"].ring)
    restored = create_app("test", KEYS_FILE=keys_file, SQLALCHEMY_DATABASE_URI=backup_ops.restored_url(target, header),
                          ARGON2_PARAMS=FAST_ARGON2, SERVER_NAME="localhost")
    with restored.app_context():
            from clinician_app.calls.models import Call
            from clinician_app.cases.note_models import CaseNote
            from clinician_app.core.audit import verify_chain
            from clinician_app.core.keyfile import current_keys
            from clinician_app.people.models import Person
            from clinician_app.people.services import _agency_scope, _exact_matches

            person = db.session.get(Person, ids["person"])
            assert (person.first_name, person.last_name, person.date_of_birth) == (FIRST, LAST, DOB)
            assert [a.name for a in person.aliases] == ["Quiri Zephyr"]
            assert db.session.get(Call, ids["call"]).narrative == NARRATIVE
            assert db.session.get(CaseNote, ids["note"]).body == NOTE_BODY
            # The blind index came across too: the exact-match lookup finds the person.
            assert [m.person.id for m in _exact_matches(_agency_scope(person.agency_id), FIRST, LAST, DOB)] == [person.id]
            chain = verify_chain(db.session, current_keys().audit_key)
            assert chain.ok, chain.problems
            # Every table holds what the source held, every encrypted field of every
            # row decrypts on the copy, and the chain has every event.
            copy = backup_ops.verify_restored(backup_ops.restored_url(target, header), current_keys().ring,
                                              current_keys().audit_key)
            original = backup_ops.verify_restored(url, current_keys().ring, current_keys().audit_key)
            assert copy.ok and original.ok
            assert copy.tables == original.tables and copy.tables["persons"] > 0 and copy.tables["case_notes"] == 1
            assert copy.fields_decrypted == original.fields_decrypted > 0
            assert copy.audit_events == original.audit_events == chain.checked > 0
            db.session.remove()
            db.engine.dispose()


def test_backup_file_holds_no_plaintext(source, tmp_path):
    app, _url, _ids = source
    path = tmp_path / "db.backup"
    _backup(app, path)
    raw = path.read_bytes()
    for sentinel in (FIRST, LAST, "Zephyr", "Quiri", NARRATIVE[:20], "Ostrovia", "Sentinel", "lighthouse",
                     "dispatch.chelmsford", "clinician.chelmsford", "audit_events", "CREATE TABLE", "persons",
                     "Chelmsford"):
        for encoded in (sentinel.encode(), sentinel.encode("utf-16-le"), sentinel.lower().encode()):
            assert encoded not in raw, sentinel
    # Only the header is in clear: format, backend, key id, salt, time, migration.
    assert raw.startswith(backup_ops.MAGIC)


def test_restore_refuses_a_wrong_key_ring(source, target, tmp_path):
    app, _url, _ids = source
    path = tmp_path / "db.backup"
    _backup(app, path)
    other_keys = tmp_path / "other-keys.json"
    write_material(other_keys, new_material())
    stranger = create_app("test", KEYS_FILE=str(other_keys), SQLALCHEMY_DATABASE_URI="sqlite://",
                          ARGON2_PARAMS=FAST_ARGON2, SERVER_NAME="localhost")
    result = stranger.test_cli_runner().invoke(args=["restore", str(path), "--target-url", target])
    assert result.exit_code != 0
    assert "does not decrypt with this key ring" in result.output
    _assert_nothing_restored(target)


def test_restore_refuses_an_altered_or_truncated_file(source, target, tmp_path):
    app, _url, _ids = source
    path = tmp_path / "db.backup"
    _backup(app, path)
    data = bytearray(path.read_bytes())
    altered = tmp_path / "altered.backup"
    data[-40] ^= 0x01
    altered.write_bytes(bytes(data))
    cut = tmp_path / "cut.backup"
    cut.write_bytes(path.read_bytes()[:-10])
    runner = app.test_cli_runner()
    for bad, message in ((altered, "does not decrypt"), (cut, "cut short")):
        result = runner.invoke(args=["restore", str(bad), "--target-url", target])
        assert result.exit_code != 0 and message in result.output, result.output
    _assert_nothing_restored(target)


def test_restore_refuses_a_target_that_is_not_empty(source, tmp_path):
    app, url, _ids = source
    path = tmp_path / "db.backup"
    _backup(app, path)
    if BACKEND == "postgresql":
        # The source database itself already holds the backup's schema.
        result = app.test_cli_runner().invoke(args=["restore", str(path), "--target-url", _pg_base()])
        assert result.exit_code != 0 and "already has schema" in result.output
    else:
        result = app.test_cli_runner().invoke(args=["restore", str(path), "--target-url", url])
        assert result.exit_code != 0 and "already exists" in result.output


def test_backup_refuses_to_overwrite(source, tmp_path):
    app, _url, _ids = source
    path = tmp_path / "db.backup"
    path.write_bytes(b"keep me")
    result = app.test_cli_runner().invoke(args=["backup", "--output", str(path)])
    assert result.exit_code != 0 and "already exists" in result.output
    assert path.read_bytes() == b"keep me"


def test_chunks_cannot_be_reordered_or_dropped(app_ctx, tmp_path):
    """The file format on its own: many chunks, each bound to its place and the end."""
    import io

    ring = app_ctx.extensions["clinician_keys"].ring
    payload = secrets.token_bytes(backup_ops.CHUNK * 2 + 1000)
    sealed = io.BytesIO()
    backup_ops.seal(io.BytesIO(payload), sealed, ring, {"backend": "sqlite"})
    path = tmp_path / "chunks.backup"
    path.write_bytes(sealed.getvalue())
    _header, chunks = backup_ops.open_chunks(path, ring)
    assert b"".join(chunks) == payload

    raw = sealed.getvalue()
    header_end = len(backup_ops.MAGIC) + 4 + int.from_bytes(raw[len(backup_ops.MAGIC):len(backup_ops.MAGIC) + 4], "big")
    parts, offset = [], header_end
    while offset < len(raw):
        size = int.from_bytes(raw[offset:offset + 4], "big")
        parts.append(raw[offset:offset + 4 + 12 + size])
        offset += 4 + 12 + size
    assert len(parts) == 3
    for body in (parts[1] + parts[0] + parts[2], parts[0] + parts[2], parts[0] + parts[1]):
        path.write_bytes(raw[:header_end] + body)
        with pytest.raises(backup_ops.BackupError):
            backup_ops.check_file(path, ring)


def _assert_nothing_restored(target: str) -> None:
    if target.startswith("sqlite"):
        assert not os.path.exists(target.removeprefix("sqlite:///"))
        return
    engine = create_engine(target)
    try:
        with engine.connect() as conn:
            schemas = conn.execute(text("SELECT count(*) FROM information_schema.schemata "
                                        "WHERE schema_name LIKE 'bk\\_%'")).scalar_one()
        assert schemas == 0
    finally:
        engine.dispose()
