"""The case page of a person with 50 calls and 300 notes: latency, SQL statements
and decryptions per render.

    .venv/bin/python bench/case_page_bench.py [--calls 50] [--notes 300] [--renders 300]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

What it does, all on this machine and cleaned up afterwards:

* a fresh SQLite file (or a fresh schema in the PostgreSQL database given), a
  fresh key file, the migrations;
* a town, a clinician (signed in through a real server-side session), a person
  with ``--calls`` calls (one in five with safety cautions and encrypted caution
  notes, half triaged through the triage service) all in one case, and ``--notes``
  case notes on it (one in six Part 2, one in ten an addendum), bodies encrypted
  through the key ring as the notes service writes them;
* ``--renders`` GETs of ``/cases/<id>`` through the Flask test client (in process:
  no network, so the figures are the app's own cost), after a warm-up;
* for one render: the SQL statements it runs (``before_cursor_execute``) and the
  fields it decrypts (``KeyRing.decrypt_raw`` calls, by table.column), to show that
  no note body is decrypted for a page that shows none.

Prints p50/p99 latency, the statement count and the decryptions. Figures only: it
asserts no timings (ARCHITECTURE.md, Tests).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bench.loadgen import scratch_database  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--notes", type=int, default=300)
    parser.add_argument("--renders", type=int, default=300)
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL to use a temporary schema in (default: SQLite file)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile the renders (cProfile) and print the N costliest functions")
    args = parser.parse_args()

    from clinician_app.core.keyfile import new_material, write_material

    with scratch_database(args.database_url, "case-page-bench") as (url, workdir, _schema):
        keys = workdir / "keys.json"
        write_material(keys, new_material())
        run(url, keys, args)


def seed(db, args):
    from clinician_app.agencies.models import Agency
    from clinician_app.auth import passwords
    from clinician_app.auth.models import User, UserRole
    from clinician_app.auth.services import create_api_client
    from clinician_app.calls.services import NewCall, create_call
    from clinician_app.cases.models import Case
    from clinician_app.cases.note_models import SENSITIVITY_NORMAL, SENSITIVITY_PART2, CaseNote
    from clinician_app.core.timeutil import utcnow
    from clinician_app.people.services import PersonData, ensure_person
    from clinician_app.triage.services import TriageInput, record_triage

    agency = Agency(name="Bench Police Department", code="BENCH", kind="town", timezone="America/New_York")
    db.session.add(agency)
    db.session.flush()
    clinician = User(username="bench.clinician", display_name="Bench Clinician", agency_id=agency.id,
                     password_hash=passwords.hash_password("bench password 12345"), role_rows=[UserRole(role="clinician")])
    db.session.add(clinician)
    db.session.flush()
    person, _ = ensure_person(agency.id, PersonData(first_name="Bench", last_name="Person", date_of_birth=date(1980, 1, 2)))
    cad, _ = create_api_client(None, "Bench CAD", ["calls:create", "calls:read"], 30, agency_id=agency.id)
    now = utcnow()
    case = Case(agency_id=agency.id, person_id=person.id, assignee_id=clinician.id, status="open",
                opened_at=now - timedelta(days=400), opened_by_id=clinician.id)
    db.session.add(case)
    db.session.flush()
    for index in range(args.calls):
        hazard = index % 5 == 0
        call = create_call(cad, NewCall(
            incident_number=f"B-{index:05d}", received_at=now - timedelta(days=index * 7, hours=1), address="1 Bench Street",
            call_type="well_being_check", caller_relation="family", indicators=["mental_health"], co_response=True,
            urgency="same_day", caution_weapon=hazard, caution_notes="Dog in the yard; knock at the side door." if hazard else "",
            narrative="Family asks for a check after missed appointments."))
        call.person_id, call.case_id = person.id, case.id
        if index % 2 == 0:
            record_triage(clinician, call.id, TriageInput(acuity="urgent", route="department", override_reason="Bench."))
    previous = None
    for index in range(args.notes):
        note = CaseNote(case_id=case.id, agency_id=agency.id, kind="contact", author_id=clinician.id,
                        sensitivity=SENSITIVITY_PART2 if index % 6 == 0 else SENSITIVITY_NORMAL,
                        addendum_to_id=previous.id if previous is not None and index % 10 == 9 else None,
                        created_at=now - timedelta(hours=index * 20))
        note.body = f"Bench note {index}: spoke with the person about the week, plans for the next visit. " * 4
        db.session.add(note)
        db.session.flush()
        previous = note
    db.session.commit()
    return clinician, case


def run(url: str, keys: Path, args) -> None:
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import logging

    from flask_migrate import upgrade

    from clinician_app import create_app
    from clinician_app.auth import sessions
    from clinician_app.core import crypto
    from clinician_app.extensions import db

    app = create_app("test", SQLALCHEMY_DATABASE_URI=url, KEYS_FILE=str(keys), SERVER_NAME="localhost",
                     ARGON2_PARAMS={"time_cost": 1, "memory_cost": 8 * 1024, "parallelism": 1})
    with app.app_context():
        upgrade()
        logging.getLogger().setLevel(logging.WARNING)
        for name in ("alembic", "clinician_app", "clinician_app.request"):
            logging.getLogger(name).setLevel(logging.WARNING)
        clinician, case = seed(db, args)
        token = sessions.start_session(clinician, "127.0.0.1")
        db.session.commit()
        case_id = case.id
        dialect = db.engine.dialect.name

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["sid"] = token
    path = f"/cases/{case_id}"
    for _ in range(10):  # warm-up: template compilation, connection pool
        assert client.get(path).status_code == 200

    statements: list[str] = []
    decrypted: Counter = Counter()
    original = crypto.KeyRing.decrypt_raw

    def counting_decrypt(self, blob, *, table, column, row_id):
        decrypted[f"{table}.{column}"] += 1
        return original(self, blob, table=table, column=column, row_id=row_id)

    timings_ms: list[float] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)
        conn.info["bench_started"] = time.perf_counter()

    def timed(conn, cursor, statement, parameters, context, executemany):
        timings_ms.append((time.perf_counter() - conn.info.pop("bench_started")) * 1000)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    event.listen(engine, "after_cursor_execute", timed)
    crypto.KeyRing.decrypt_raw = counting_decrypt
    try:
        page = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        event.remove(engine, "after_cursor_execute", timed)
        crypto.KeyRing.decrypt_raw = original
    body = page.get_data(as_text=True)
    if os.environ.get("BENCH_SHOW_SQL"):
        print("\n---\n".join(f"[{ms:.2f} ms] {sql}" for ms, sql in zip(timings_ms, statements, strict=True)))

    timings = []
    for _ in range(args.renders):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200

    if args.profile:
        print_profile(lambda: client.get(path), args.renders, args.profile)

    print(f"database: {dialect}; calls: {args.calls}; notes: {args.notes} (1 in 6 Part 2); renders: {args.renders}")
    print(f"timeline entries shown: {body.count('app-timeline__item ')}; page size: {len(body) / 1024:.0f} KiB")
    print(f"case page latency: p50 {percentile(timings, 0.5):.1f} ms, p99 {percentile(timings, 0.99):.1f} ms, "
          f"max {max(timings):.1f} ms")
    print(f"SQL statements per render: {len(statements)} (session check and audit chain included)")
    print("fields decrypted per render: " + (", ".join(f"{k} x{v}" for k, v in sorted(decrypted.items())) or "none"))
    print(f"note bodies decrypted: {decrypted.get('case_notes.body', 0)} (the page shows no body)")


def print_profile(render, renders: int, top: int) -> None:
    """Where a render's time goes, by own time and by cumulative time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(renders):
        render()
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    if os.environ.get("BENCH_PROFILE_APP"):
        stats.sort_stats("cumulative").print_stats("clinician_app|templates|html", top)


if __name__ == "__main__":
    main()
