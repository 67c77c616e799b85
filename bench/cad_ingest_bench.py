"""CAD ingest over HTTP: calls created per second, beside a minimal JSON route.

    .venv/bin/python bench/cad_ingest_bench.py [--clients 8] [--seconds 5] [--rounds 3] [--workers 2] [--threads 4]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--routes ingest --profile DIR]

What it does, all on this machine and cleaned up afterwards:

* a fresh schema in the PostgreSQL database (``search_path``, as tests/conftest.py
  does), a fresh key file, the migrations, a town and a CAD API client;
* gunicorn (gthread) serving ``wsgi:app`` on a free loopback port, logging to a file;
* ``--clients`` threads, each holding one keep-alive ``http.client`` connection,
  sending requests back to back for ``--seconds`` (and at most ``--max-requests``)
  per route, after a short warm-up; ``--rounds`` times over the routes in turn:

  - ``GET /healthz``: the minimal JSON route, no authentication;
  - ``GET /api/v1/ping``: minimal JSON behind the API's token check and rate limit;
  - ``POST /api/v1/calls``: a new call per request (unique incident number and
    Idempotency-Key): validation, the idempotency claim, the call with its
    encrypted narrative, its audit event, and the reply;
  - with ``--routes ...,ingest_nokey``, the same without the header (the
    incident number is the only retry guard: one transaction fewer).

Prints requests per second and p50/p99 latency per route, and ingest as a share
of the ping rate. With ``--profile DIR`` (an empty folder) every request thread
of the server is profiled with cProfile and the sum is printed, by own time.
Prints figures only: it asserts no timings (ARCHITECTURE.md, Tests).
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.loadgen import Result, drive, free_port, schema_url, scratch_database, server_env, start_server, stop_server  # noqa: E402

DEFAULT_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
WARM_UP_SECONDS = 1.5


def prepare(database_url: str, workdir: Path) -> str:
    """Keys, migrations, a town and a CAD client; returns the client's token."""
    from flask_migrate import upgrade

    from clinician_app import create_app
    from clinician_app.agencies.models import Agency
    from clinician_app.auth.services import create_api_client
    from clinician_app.core.keyfile import new_material, write_material
    from clinician_app.extensions import db

    keys = workdir / "keys.json"
    write_material(keys, new_material())
    app = create_app("development", SQLALCHEMY_DATABASE_URI=database_url, KEYS_FILE=str(keys))
    with app.app_context():
        upgrade()
        agency = Agency(name="Bench Police Department", code="BENCH", kind="town", timezone="America/New_York")
        db.session.add(agency)
        db.session.flush()
        _client, token = create_api_client(None, "CAD bench", ["calls:create", "calls:read"], 1, agency_id=agency.id)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return token


def call_body(run: str, n: int) -> bytes:
    received = (datetime.now(UTC) - timedelta(minutes=3)).isoformat()
    return json.dumps({
        "incident_number": f"B{run}-{n}",
        "received_at": received,
        "address": f"{n % 400 + 1} Main Street",
        "call_type": "well_being_check",
        "caller_relation": "family",
        "indicators": ["mental_health"],
        "cautions": [],
        "narrative": "Caller worried about a neighbour who has not been seen for two days.",
        "co_response": True,
        "urgency": "same_day",
    }).encode()


def request_for(route: str, token: str):
    """The request function (bench/loadgen.py) for one of the routes."""
    run = secrets.token_hex(3).upper()
    auth = {"Authorization": f"Bearer {token}"}

    def request(conn, n):
        if route in ("ingest", "ingest_nokey"):
            headers = {**auth, "Content-Type": "application/json"}
            if route == "ingest":
                headers["Idempotency-Key"] = str(uuid.uuid4())
            conn.request("POST", "/api/v1/calls", body=call_body(run, n), headers=headers)
        elif route == "ping":
            conn.request("GET", "/api/v1/ping", headers=auth)
        else:
            conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        return response

    return request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients (default 8)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per route and round (default 5)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the routes (default 3)")
    parser.add_argument("--max-requests", type=int, default=50_000, help="at most this many requests per route")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL URL; a fresh schema is made in it")
    parser.add_argument("--routes", default="healthz,ping,ingest", help="which routes to drive, in order (default all three)")
    parser.add_argument("--no-disk-wait", action="store_true",
                        help="experiment only: the server commits without waiting for the WAL to reach the disk "
                             "(synchronous_commit=off), to show what that wait costs; never so in production")
    parser.add_argument("--profile", default=None, help="profile every request thread into this folder (use with --routes ingest)")
    args = parser.parse_args()

    process = None
    with scratch_database(args.database_url, "cad-bench") as (database_url, workdir, schema):
        try:
            token = prepare(database_url, workdir)
            port = free_port()
            server_url = schema_url(args.database_url, schema, "synchronous_commit=off") if args.no_disk_wait else database_url
            process = start_server(server_env(server_url, workdir), workdir, port, workers=args.workers,
                                   threads=args.threads, profile=args.profile)
            routes = args.routes.split(",")
            for route in routes:
                drive(port, route, request_for(route, token), args.clients, WARM_UP_SECONDS, max_requests=args.max_requests)
            # Rounds take turns, so a burst of other load on the machine hits every route alike.
            results = {route: Result(route) for route in routes}
            for _ in range(args.rounds):
                for route in routes:
                    results[route].merge(drive(port, route, request_for(route, token), args.clients, args.seconds,
                                               max_requests=args.max_requests))
            results = list(results.values())
        finally:
            stop_server(process)

    cores = os.cpu_count()
    if args.no_disk_wait:
        print("\nEXPERIMENT: synchronous_commit=off (commits do not wait for the disk)")
    print(f"\ngunicorn gthread {args.workers} workers x {args.threads} threads, {args.clients} keep-alive clients, "
          f"{args.rounds} rounds of {args.seconds:g} s per route, PostgreSQL, {cores} CPU cores shared by clients, server "
          f"and database\n")
    print(f"{'route':<24} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    labels = {"healthz": "GET /healthz", "ping": "GET /api/v1/ping", "ingest": "POST /api/v1/calls",
              "ingest_nokey": "POST, no Idempotency-Key"}
    for result in results:
        statuses = ", ".join(f"{s}: {c}" for s, c in sorted(result.statuses.items()))
        print(f"{labels[result.route]:<24} {result.count:>9} {result.rate:>9.1f} {result.percentile(50):>8.1f} "
              f"{result.percentile(99):>8.1f}  {statuses}")
    by_route = {r.route: r for r in results}
    for ingest in ("ingest", "ingest_nokey"):
        if ingest not in by_route:
            continue
        created = by_route[ingest].statuses.get(201, 0) / by_route[ingest].seconds
        print(f"\n{labels[ingest]}: calls created per second: {created:.1f}")
        for base in ("ping", "healthz"):
            if base in by_route:
                print(f"  as a share of {labels[base]}: {created / by_route[base].rate:.0%}")
    if args.profile:
        print_profile(Path(args.profile))


def print_profile(folder: Path, lines: int = 25) -> None:
    import pstats

    files = sorted(str(f) for f in folder.glob("worker-*.prof"))
    if not files:
        print("no profiles were written")
        return
    print(f"\nprofile of every request thread ({len(files)} files in {folder}), by own time:")
    pstats.Stats(*files).sort_stats("tottime").print_stats(lines)


if __name__ == "__main__":
    main()
