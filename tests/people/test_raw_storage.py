"""SECURITY.md promise 8, for persons: after ``seed-demo`` the raw database holds
none of the demo persons' names, dates of birth or phone numbers.

Two views of "raw": the bytes of a SQLite database file (a fresh install built
and seeded in this test, then closed), and every row of every table read back
through plain SQL on the suite's own database (SQLite or PostgreSQL)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, text

from clinician_app import create_app
from clinician_app.demo import DEMO_PERSONS
from clinician_app.extensions import db
from tests.conftest import FAST_ARGON2, _capture_suite_logs
from tests.people.factories import demo_identifying_values

PERSON_TABLES = ("persons", "person_aliases", "person_merges")


def _needles() -> list[bytes]:
    values = demo_identifying_values()
    # Also as UTF-16, in case anything ever stored text that way.
    return [v.encode() for v in values] + [v.encode("utf-16-le") for v in values]


@pytest.mark.no_transaction
def test_sqlite_database_file_holds_no_demo_person_plaintext(tmp_path, keys_file):
    db_file = tmp_path / "raw.db"
    app = create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_file}", KEYS_FILE=keys_file,
                     ARGON2_PARAMS=FAST_ARGON2)
    try:
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            result = app.test_cli_runner().invoke(args=["seed-demo", "--json"])
            assert result.exit_code == 0, result.output
            assert json.loads(result.output)["persons"] == len(DEMO_PERSONS)
            counted = db.session.execute(text("SELECT count(*) FROM persons")).scalar_one()
            db.session.remove()
            db.engine.dispose()  # closes the connections; the committed data is in the files below
    finally:
        _capture_suite_logs()  # Alembic's logging set-up replaced the suite's log capture
    assert counted == len(DEMO_PERSONS)
    files = [p for p in tmp_path.iterdir() if p.name.startswith("raw.db")]
    raw = b"".join(p.read_bytes() for p in files)
    # The scan reads real data: clear-text fields of the same seed are there.
    assert b"Chelmsford Police Department" in raw and b"clinician.chelmsford" in raw
    found = [n for n in _needles() if n in raw]
    assert found == [], f"{len(found)} demo person value(s) found in the database file"


def _all_rows_as_bytes() -> dict[str, bytes]:
    """Every row of every table, each value as the driver returns it."""
    connection = db.session.connection()
    dumped = {}
    for table in inspect(connection).get_table_names():
        parts = []
        for row in connection.execute(text(f'SELECT * FROM "{table}"')):  # noqa: S608 (names from the schema)
            for value in row:
                if isinstance(value, bytes | bytearray | memoryview):
                    parts.append(bytes(value))
                elif value is not None:
                    parts.append(str(value).encode())
        dumped[table] = b"\x00".join(parts)
    return dumped


def test_database_rows_hold_no_demo_person_plaintext(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--json"])
    assert result.exit_code == 0, result.output
    dumped = _all_rows_as_bytes()
    assert set(PERSON_TABLES) <= set(dumped)
    persons = db.session.execute(text("SELECT count(*) FROM persons")).scalar_one()
    assert persons >= len(DEMO_PERSONS)
    assert b"Chelmsford Police Department" in dumped["agencies"]  # the dump reads real values
    for table, blob in dumped.items():
        found = [n for n in _needles() if n in blob]
        assert found == [], f"{len(found)} demo person value(s) in table {table}"
    if db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL's own text rendering of whole rows (bytea as hex), searched as text.
        for table in PERSON_TABLES:
            rows = db.session.execute(text(f"SELECT t::text FROM {table} t")).scalars().all()  # noqa: S608
            joined = "\n".join(rows)
            assert not [v for v in demo_identifying_values() if v in joined], table


def test_demo_persons_are_findable_through_the_index_after_seeding(app, agencies, make_user):
    """The other side of the raw scan: the encrypted seed is real data, found by exact match."""
    from datetime import date

    from clinician_app.agencies.models import Agency
    from clinician_app.people.services import find_matches

    app.test_cli_runner().invoke(args=["seed-demo", "--json"])
    chelmsford = db.session.execute(db.select(Agency).where(Agency.code == "CPD")).scalar_one()
    reader = make_user(chelmsford, "clinician")
    for code, first, last, born, *_rest in DEMO_PERSONS:
        found = find_matches(reader, first.upper(), f" {last} ", date.fromisoformat(born))
        assert len(found) == (1 if code == "CPD" else 0), (code, len(found))
