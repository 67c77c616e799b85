"""The co-response queue page over HTTP with 100,000 calls in PostgreSQL, beside
a minimal HTML page of the same app, and the SQL it costs per render.

    .venv/bin/python bench/queue_bench.py [--calls 100000] [--open-per-town 75] [--towns 4]
        [--clients 4] [--seconds 5] [--rounds 3] [--min-samples 1000] [--workers 2] [--threads 4]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

What it does, all on this machine and cleaned up afterwards:

* a fresh schema in the PostgreSQL database (``search_path``, as tests/conftest.py
  does), a fresh key file, the migrations;
* ``--towns`` towns and the BHU, a clinician per town (the viewer is the first
  town's) and a few holders; ``--calls`` calls bulk-inserted with Core (most
  closed, spread over two years), of which ``--open-per-town`` per town are open
  co-response calls (flagged, triaged, assigned or on scene, some held, some routed
  to the BHU), those with an encrypted narrative and caution notes written
  through the key ring, as the app writes them;
* ``EXPLAIN ANALYZE`` of the queue's query, to show which index it uses;
* the number of SQL statements one queue render costs, counted in-process with a
  ``before_cursor_execute`` listener, for the viewer's full queue and for a nearly
  empty one (the same number means no N+1);
* a signed-in session (a server-side session row and a signed cookie, as sign-in
  makes them), gunicorn (gthread) on a free loopback port, and ``--clients``
  threads with keep-alive ``http.client`` connections taking turns over the
  routes for ``--rounds`` rounds of ``--seconds`` each, after a warm-up per
  route; a slow route runs on past ``--seconds`` until it has at least
  ``--min-samples`` requests over all rounds (a p99 needs about 1,000):

  - ``GET /auth/account``: a minimal signed-in HTML page (same session check, one query);
  - ``GET /auth/login``: the public sign-in page, minimal HTML without a session;
  - ``GET /calls/queue``: the queue page;
  - ``GET /calls/queue/rows``: the fragment the page polls for.

Prints p50/p99 per route and the queue's ratio to the minimal signed-in page.
Figures only: it asserts no timings (ARCHITECTURE.md, Tests).
"""
from __future__ import annotations

import argparse
import contextvars
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask.globals import _cv_app  # noqa: E402
from sqlalchemy import event, insert, text  # noqa: E402

from bench.loadgen import Result, drive, free_port, get, scratch_database, server_env, start_server, stop_server  # noqa: E402

DEFAULT_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WARM_UP_SECONDS = 1.5
BATCH = 5000
OPEN_STATUSES = ("flagged", "triaged", "assigned", "on_scene")
CALL_TYPES = ("well_being_check", "suicidal_person", "overdose", "disturbance", "domestic", "other")
ROUTES = {
    "account": ("GET /auth/account", "/auth/account", True),
    "login": ("GET /auth/login", "/auth/login", False),
    "queue": ("GET /calls/queue", "/calls/queue", True),
    "rows": ("GET /calls/queue/rows", "/calls/queue/rows", True),
}


def _base_call(agency_id: str, n: int, received: datetime) -> dict:
    indicators = {f"indicator_{code}": (n + i) % 5 == 0 for i, code in enumerate(
        ("mental_health", "suicidal", "substance_use", "intoxication", "developmental_disability", "dementia", "juvenile"))}
    cautions = {f"caution_{code}": (n + i) % 7 == 0 for i, code in enumerate(("weapon", "violence", "hazards"))}
    return {
        "id": str(uuid.uuid4()), "agency_id": agency_id, "incident_number": f"B-{n:07d}", "received_at": received,
        "address": f"{n % 900 + 1} Main Street", "address_key": f"{n % 900 + 1} MAIN ST", "call_type": CALL_TYPES[n % 6],
        "caller_relation": "family", **indicators, **cautions, "co_response": n % 3 != 0,
        "urgency": ("now", "same_day", "follow_up")[n % 3], "source": "cad", "created_at": received,
        "updated_at": received,
    }


def prepare(database_url: str, workdir: Path, args) -> dict:
    """Keys, migrations, agencies, users, calls and a session; returns what the run needs."""
    from flask_migrate import upgrade

    from clinician_app import create_app
    from clinician_app.agencies.models import Agency
    from clinician_app.auth import passwords, sessions
    from clinician_app.auth.models import User, UserRole
    from clinician_app.calls.models import Call
    from clinician_app.core.keyfile import new_material, write_material
    from clinician_app.extensions import db

    keys = workdir / "keys.json"
    write_material(keys, new_material())
    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, KEYS_FILE=str(keys))
    rng = random.Random(7)
    now = datetime.now(UTC)
    with app.app_context():
        upgrade()
        bhu = Agency(name="Bench BHU", code="BBHU", kind="bhu")
        towns = [Agency(name=f"Bench Town {i}", code=f"BT{i}", kind="town") for i in range(args.towns)]
        db.session.add_all([bhu, *towns])
        db.session.flush()
        password_hash = passwords.hash_password(uuid.uuid4().hex)
        users = {}
        for agency in [*towns, bhu]:
            for k in range(3):
                role = "bhu_clinician" if agency.is_bhu else "clinician"
                user = User(username=f"{role}.{agency.code.lower()}.{k}", display_name=f"Clinician {agency.code} {k}",
                            agency_id=agency.id, password_hash=password_hash, role_rows=[UserRole(role=role)])
                db.session.add(user)
                users.setdefault(agency.id, []).append(user)
        db.session.flush()

        # Closed history, most of the table: Core inserts in batches.
        history = args.calls - args.open_per_town * args.towns - 5
        started = time.perf_counter()
        rows = []
        for n in range(history):
            town = towns[n % len(towns)]
            received = now - timedelta(minutes=rng.randint(60, 2 * 365 * 24 * 60))
            row = _base_call(town.id, n, received)
            if row["co_response"]:
                row.update(status="closed", flagged_at=received, triaged_at=received + timedelta(minutes=5),
                           assigned_at=received + timedelta(minutes=8), first_contact_at=received + timedelta(minutes=20),
                           closed_at=received + timedelta(minutes=80), route="department", route_agency_id=town.id,
                           assignee_id=users[town.id][n % 3].id)
            else:
                row.update(status="recorded", urgency=None)
            rows.append(row)
            if len(rows) == BATCH:
                db.session.execute(insert(Call), rows)
                rows = []
        if rows:
            db.session.execute(insert(Call), rows)
        db.session.commit()
        inserted = time.perf_counter() - started

        # The open queue: through the ORM, so the narrative and caution notes are
        # encrypted and bound to their rows exactly as the app writes them.
        n = history
        for town in towns:
            for k in range(args.open_per_town):
                n += 1
                received = now - timedelta(minutes=rng.randint(1, 3 * 24 * 60))
                values = _base_call(town.id, n, received)
                values["co_response"] = True
                status = OPEN_STATUSES[k % 4]
                call = Call(**values, status=status, flagged_at=received + timedelta(minutes=1))
                call.narrative = "Neighbour reports the resident has not eaten for days and talks of ending it."
                call.caution_notes = "Dog in the yard." if k % 4 == 0 else None
                if status != "flagged":
                    to_bhu = k % 5 == 0
                    call.route = "bhu" if to_bhu else "department"
                    call.route_agency_id = bhu.id if to_bhu else town.id
                    call.triaged_at = received + timedelta(minutes=4)
                if status in ("assigned", "on_scene"):
                    call.assignee_id = users[call.route_agency_id][k % 3].id
                    call.assigned_at = received + timedelta(minutes=6)
                db.session.add(call)
        # A town with a nearly empty queue, for the query count.
        quiet = Agency(name="Bench Quiet Town", code="BQT", kind="town")
        db.session.add(quiet)
        db.session.flush()
        quiet_user = User(username="clinician.quiet", display_name="Quiet Clinician", agency_id=quiet.id,
                          password_hash=password_hash, role_rows=[UserRole(role="clinician")])
        db.session.add(quiet_user)
        for _ in range(5):
            n += 1
            db.session.add(Call(**_base_call(quiet.id, n, now - timedelta(minutes=30)) | {"co_response": True},
                                status="flagged", flagged_at=now - timedelta(minutes=29)))
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()

        viewer = users[towns[0].id][0]
        total = db.session.execute(text("SELECT count(*) FROM calls")).scalar_one()
        open_total = db.session.execute(text(
            "SELECT count(*) FROM calls WHERE co_response AND status IN ('flagged','triaged','assigned','on_scene')")).scalar_one()
        plan = explain_queue(app, viewer)
        counts = {"full": count_queries(app, viewer), "quiet": count_queries(app, quiet_user)}
        token = sessions.start_session(viewer, "127.0.0.1")
        db.session.commit()
        with app.test_request_context():
            cookie = app.session_interface.get_signing_serializer(app).dumps({"sid": token})
        info = {"cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}", "total": total, "open": open_total,
                "insert_seconds": inserted, "plan": plan, "counts": counts}
        db.session.remove()
        db.engine.dispose()
    return info


def explain_queue(app, viewer) -> str:
    from clinician_app.calls.queue import QUEUE_LIMIT, queue_statement
    from clinician_app.extensions import db

    stmt = queue_statement(viewer).limit(QUEUE_LIMIT + 1)
    compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    rows = db.session.execute(text(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}")).scalars().all()
    return "\n".join(rows)


def count_queries(app, user) -> dict:
    """SQL statements for one render of the queue page, in-process, with the user signed in."""
    from clinician_app.auth import sessions
    from clinician_app.calls.queue import load_queue
    from clinician_app.extensions import db

    token = sessions.start_session(user, "127.0.0.1")
    db.session.commit()
    rows = len(load_queue(user).rows)
    engine = db.engine
    client = app.test_client()

    def get(path):
        # Each request in an app context of its own (as tests/conftest.py's
        # IsolatedClient does): the caller's session and its identity map stay out.
        def run():
            _cv_app.set(None)
            return client.get(path)

        return contextvars.copy_context().run(run)

    with client.session_transaction() as sess:
        sess["sid"] = token
    get("/calls/queue")  # warm
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        status = get("/calls/queue").status_code
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return {"rows": rows, "queries": len(statements), "status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="calls in the table (default 100,000)")
    parser.add_argument("--towns", type=int, default=4, help="partner towns (default 4)")
    parser.add_argument("--open-per-town", type=int, default=75, help="open co-response calls per town (default 75)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent keep-alive clients (default 4)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per route and round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the routes (default 3)")
    parser.add_argument("--min-samples", type=int, default=1000,
                        help="requests per route at least, over all rounds, for a meaningful p99 (default 1,000)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL URL; a fresh schema is made in it")
    args = parser.parse_args()

    process = None
    with scratch_database(args.database_url, "queue-bench") as (database_url, workdir, _schema):
        try:
            info = prepare(database_url, workdir, args)
            port = free_port()
            process = start_server(server_env(database_url, workdir), workdir, port, workers=args.workers,
                                   threads=args.threads)

            def request(path, signed_in):
                return get(path, {"Cookie": info["cookie"]} if signed_in else None)

            for name, (_label, path, signed_in) in ROUTES.items():
                drive(port, name, request(path, signed_in), args.clients, WARM_UP_SECONDS)
            results = {name: Result(name) for name in ROUTES}
            per_client = -(-args.min_samples // (args.rounds * args.clients))  # each client's share per round
            for _ in range(args.rounds):  # rounds take turns, so other load on the machine hits every route alike
                for name, (_label, path, signed_in) in ROUTES.items():
                    results[name].merge(drive(port, name, request(path, signed_in), args.clients, args.seconds,
                                              min_requests=per_client))
        finally:
            stop_server(process)

    print(f"\n{info['total']:,} calls ({info['open']:,} open co-response calls), history inserted in "
          f"{info['insert_seconds']:.1f} s; PostgreSQL; {os.cpu_count()} CPU cores shared by clients, server and database")
    print("\nqueue query plan (viewer's town):")
    print("  " + info["plan"].replace("\n", "\n  "))
    print("\nSQL statements per queue page render (session check included):")
    for name, count in info["counts"].items():
        print(f"  {name:<6} queue: {count['rows']:>4} rows -> {count['queries']} statements (status {count['status']})")
    print(f"\ngunicorn gthread {args.workers} workers x {args.threads} threads, {args.clients} keep-alive clients, "
          f"{args.rounds} rounds of {args.seconds:g} s per route\n")
    print(f"{'route':<24} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for name, result in results.items():
        statuses = ", ".join(f"{s}: {c}" for s, c in sorted(result.statuses.items()))
        print(f"{ROUTES[name][0]:<24} {result.count:>9} {result.rate:>9.1f} {result.percentile(50):>8.1f} "
              f"{result.percentile(99):>8.1f}  {statuses}")
    base = results["account"]
    for name in ("queue", "rows"):
        r = results[name]
        print(f"\n{ROUTES[name][0]} / minimal signed-in page: p50 {r.percentile(50) / base.percentile(50):.2f}x, "
              f"p99 {r.percentile(99) / base.percentile(99):.2f}x", end="")
    print()


if __name__ == "__main__":
    main()
