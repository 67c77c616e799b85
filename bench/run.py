"""The app end to end at the size of a region: seeded data in PostgreSQL, gunicorn
in the production shape, Redis, real sign-ins, concurrent clients.

    .venv/bin/python bench/run.py [--quick] [--scale 1.0] [--seed 1] [--reseed]
        [--clients 4] [--seconds 5] [--rounds 3] [--min-samples 1000] [--workers 2] [--threads 4]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/clinician_bench]
        [--redis-url redis://127.0.0.1:6379/14] [--routes queue,case,...]

What it does
* Seeds the bench database with bench/seed.py at ``--scale`` (once: a later run
  with the same scale and seed reuses it; ``--reseed`` starts again). ``--quick``
  seeds a small copy (scale 0.01, database ``clinician_bench_quick``) every time
  and measures briefly: under two minutes in all, for .ci/run.
* Starts gunicorn with the project's gunicorn.conf.py (gthread; the bench sets
  workers and threads), production-like logging (JSON request lines, to a file),
  Redis for rate limits, and the probe from bench/loadgen.py, which adds the SQL
  statements and the server time of each request as response headers.
* Signs in real users over HTTP (password, then a TOTP code) in the first town: a
  clinician, a dispatcher and a supervisor (a sixth town's dispatcher and CAD
  client write, so new calls don't grow the queue being measured).
* Drives each route with ``--clients`` keep-alive connections, in rounds that take
  turns (other load on the machine hits every route alike), each route on until
  ``--min-samples`` requests for a meaningful p99:

  minimal     GET  /auth/account      a minimal signed-in page: the ceiling for pages
  queue       GET  /calls/queue       the co-response queue
  case        GET  /cases/<id>        case pages, the busiest cases of the town first
  lookup      POST /people/           exact person lookup by name and date of birth
  dispatch    POST /calls/new         the dispatch form, a new call each time
  ping        GET  /api/v1/ping       the API's minimal route: the ceiling for the API
  ingest      POST /api/v1/calls      CAD ingest, a new call each time (Idempotency-Key)
  report      GET  /reports/          the monthly report: the BHU's, all towns, the last 12 months

Prints requests/s, client p50/p99, server-time p50/p99 and SQL statements per
request (fewest..most) per route, with each route's rate as a share of its ceiling,
and writes the same as JSON under bench/results/ (git-ignored). Figures only: it
asserts nothing (ARCHITECTURE.md, Tests).
"""
from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import url_for  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench import seed as seeder  # noqa: E402
from bench.loadgen import Result, drive, free_port, get, server_env, start_server, stop_server  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/clinician_bench"
QUICK_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/clinician_bench_quick"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
ZONE = ZoneInfo("America/New_York")
# route -> (label, ceiling route)
ROUTES = {
    "minimal": ("GET /auth/account (minimal page)", None),
    "queue": ("GET /calls/queue", "minimal"),
    "case": ("GET /cases/<id>", "minimal"),
    "lookup": ("POST /people/ (lookup)", "minimal"),
    "dispatch": ("POST /calls/new (dispatch)", "minimal"),
    "report": ("GET /reports/ (BHU, 12 months)", "minimal"),
    "ping": ("GET /api/v1/ping (minimal API)", None),
    "ingest": ("POST /api/v1/calls (CAD ingest)", "ping"),
}


# --- the database -------------------------------------------------------------------------------

def database_ready(database_url: str, scale: float, seed_value: int) -> bool:
    """True if the bench database holds a seed of this scale and seed already."""
    manifest = manifest_path(database_url)
    if not manifest.exists():
        return False
    saved = json.loads(manifest.read_text())
    if (saved.get("scale"), saved.get("seed"), saved.get("database_url")) != (scale, seed_value, database_url):
        return False
    if not Path(saved.get("keys", "")).exists():
        return False
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return bool(conn.execute(text("SELECT count(*) FROM calls")).scalar_one())
    except Exception:  # noqa: BLE001 - no database, no table: seed it
        return False
    finally:
        engine.dispose()


def migrate_to_head(database_url: str, keys: Path) -> None:
    from flask_migrate import upgrade

    app = seeder.make_app(database_url, keys)
    with app.app_context():
        upgrade()
        from clinician_app.extensions import db

        db.engine.dispose()


def manifest_path(database_url: str) -> Path:
    return seeder.RESULTS / f"seed-{make_url(database_url).database}.json"


def prepare(database_url: str, keys: Path, manifest: dict) -> dict:
    """What the clients need from the database: a CAD token, case ids and persons to
    look up (read through the app, so names are decrypted as the app does), the
    report's URL if there is one."""
    from clinician_app.agencies.models import Agency
    from clinician_app.auth.services import create_api_client
    from clinician_app.calls.models import Call
    from clinician_app.cases.models import Case
    from clinician_app.extensions import db
    from clinician_app.people.models import Person

    app = seeder.make_app(database_url, keys)
    with app.app_context():
        agencies = {a.code: a for a in db.session.execute(select(Agency)).scalars()}
        viewer_town, writer_town = agencies["BT1"], agencies[f"BT{manifest['towns']}"]
        _client, token = create_api_client(None, f"bench {uuid.uuid4().hex[:6]}", ["calls:create", "calls:read"], 1,
                                           agency_id=writer_town.id)
        calls_per_case = (select(Call.case_id, func.count().label("n")).where(Call.case_id.is_not(None))
                          .group_by(Call.case_id).subquery())
        busiest = db.session.execute(
            select(Case.id, calls_per_case.c.n).join(calls_per_case, calls_per_case.c.case_id == Case.id)
            .where(Case.agency_id == viewer_town.id).order_by(calls_per_case.c.n.desc(), Case.id).limit(100)).all()
        people = db.session.execute(select(Person).where(Person.agency_id == viewer_town.id)
                                    .order_by(Person.id).limit(200)).scalars().all()
        lookups = [(p.first_name, p.last_name, p.date_of_birth.isoformat()) for p in people]
        lookup_service = time_lookups(viewer_town.id, lookups)
        report_path = report_url(app)
        writer_code = writer_town.code
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return {"token": token, "cases": [c for c, _n in busiest], "case_calls": [n for _c, n in busiest],
            "lookups": lookups, "lookup_service": lookup_service, "report": report_path, "viewer": "BT1",
            "writer": writer_code}


def time_lookups(agency_id: str, lookups: list[tuple[str, str, str]]) -> dict:
    """The lookup itself, in process (``people.services._exact_matches``: the blind
    index narrows, the candidates are decrypted and compared), as the goal counts
    it: milliseconds per lookup of a person who exists, nothing cached."""
    from clinician_app.extensions import db
    from clinician_app.people.services import _agency_scope, _exact_matches

    scope, timings, found = _agency_scope(agency_id), [], 0
    for first, last, born in lookups[:5]:  # warm the subkey caches and the connection
        _exact_matches(scope, first, last, date.fromisoformat(born))
    for first, last, born in lookups:
        db.session.expunge_all()
        began = time.perf_counter()
        found += bool(_exact_matches(scope, first, last, date.fromisoformat(born)))
        timings.append((time.perf_counter() - began) * 1000)
    timings.sort()
    return {"lookups": len(timings), "found": found, "p50_ms": round(timings[len(timings) // 2], 2),
            "p99_ms": round(timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))], 2)}


def report_url(app) -> str | None:
    """The BHU's monthly report over the last twelve full months, all partner towns,
    if clinician_app/reports serves it (``reports.index``)."""
    if "reports.index" not in app.view_functions:
        return None
    end = datetime.now(UTC).date().replace(day=1) - timedelta(days=1)
    start = date(end.year - 1, end.month, 1) + timedelta(days=31)
    with app.test_request_context():
        path = url_for("reports.index")
    return f"{path}?{urlencode({'scope': 'all', 'start': start.strftime('%Y-%m'), 'end': end.strftime('%Y-%m')})}"


# --- signing in ---------------------------------------------------------------------------------

class Browser:
    """Just enough of a browser for the sign-in: cookies and form posts."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str | None]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": self.cookie_header} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        page = response.read().decode(errors="replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header or "expires=Thu, 01 Jan 1970" in header:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        conn.close()
        return response.status, page, response.getheader("Location")

    def csrf(self, path: str) -> str:
        status, page, _ = self.request("GET", path)
        match = CSRF.search(page)
        if status != 200 or not match:
            raise SystemExit(f"no form at {path} (status {status})")
        return match.group(1)

    def sign_in(self, username: str, password: str, totp_secret: str) -> None:
        import pyotp

        status, _page, _ = self.request("POST", "/auth/login", {"csrf_token": self.csrf("/auth/login"),
                                                                "username": username, "password": password})
        if status != 302:
            raise SystemExit(f"sign-in of {username} refused at the password step ({status})")
        code = pyotp.TOTP(totp_secret).now()
        status, _page, location = self.request("POST", "/auth/verify", {"csrf_token": self.csrf("/auth/verify"),
                                                                        "code": code})
        if status != 302 or "/auth/" in (location or ""):
            raise SystemExit(f"sign-in of {username} refused at the code step ({status} {location})")


def signed_in(port: int, username: str, seed_value: int) -> Browser:
    browser = Browser(port)
    browser.sign_in(username, seeder.BENCH_PASSWORD, seeder.totp_secret(seed_value, username))
    return browser


# --- the routes ---------------------------------------------------------------------------------

def request_functions(port: int, info: dict, seed_value: int) -> dict:
    clinician = signed_in(port, "clinician0.bt1", seed_value)
    dispatcher = signed_in(port, f"dispatcher0.{info['writer'].lower()}", seed_value)
    lookup_token = clinician.csrf("/people/")
    dispatch_token = dispatcher.csrf("/calls/new")
    clinician_cookie, dispatcher_cookie = {"Cookie": clinician.cookie_header}, {"Cookie": dispatcher.cookie_header}
    run = uuid.uuid4().hex[:6].upper()
    serial = itertools.count()  # unique incident numbers across every drive of the run
    functions = {"minimal": get("/auth/account", clinician_cookie), "queue": get("/calls/queue", clinician_cookie),
                 "ping": get("/api/v1/ping", {"Authorization": f"Bearer {info['token']}"})}
    cases, lookups = info["cases"], info["lookups"]
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}

    def case(conn, n):
        conn.request("GET", f"/cases/{cases[n % len(cases)]}", headers=clinician_cookie)
        return _read(conn)

    def lookup(conn, n):
        first, last, born = lookups[n % len(lookups)]
        body = urlencode({"csrf_token": lookup_token, "first_name": first, "last_name": last, "date_of_birth": born})
        conn.request("POST", "/people/", body=body, headers={**clinician_cookie, **form_headers})
        return _read(conn)

    def dispatch(conn, n):
        received = (datetime.now(UTC) - timedelta(minutes=4)).astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")
        body = urlencode({
            "csrf_token": dispatch_token, "incident_number": f"D{run}-{next(serial)}", "received_at": received,
            "address": f"{n % 300 + 1} Main Street", "latitude": "", "longitude": "", "call_type": "well_being_check",
            "caller_relation": "family", "received_via": "911", "co_response": "y", "urgency": "same_day",
            "indicators": ["mental_health"], "narrative": "Neighbour worried: not seen for two days, mail piling up.",
        }, doseq=True)
        conn.request("POST", "/calls/new", body=body, headers={**dispatcher_cookie, **form_headers})
        return _read(conn)

    def ingest(conn, n):
        body = json.dumps({
            "incident_number": f"C{run}-{next(serial)}", "received_at": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
            "address": f"{n % 400 + 1} Main Street", "call_type": "well_being_check", "caller_relation": "family",
            "indicators": ["mental_health"], "cautions": [], "co_response": True, "urgency": "same_day",
            "narrative": "Caller worried about a neighbour who has not been seen for two days.",
        })
        conn.request("POST", "/api/v1/calls", body=body, headers={
            "Authorization": f"Bearer {info['token']}", "Content-Type": "application/json",
            "Idempotency-Key": str(uuid.uuid4())})
        return _read(conn)

    functions.update(case=case, lookup=lookup, dispatch=dispatch, ingest=ingest)
    if info["report"]:
        supervisor = signed_in(port, "supervisor0.bbhu", seed_value)
        functions["report"] = get(info["report"], {"Cookie": supervisor.cookie_header})
    return functions


def _read(conn):
    response = conn.getresponse()
    response.read()
    return response


# --- the run ------------------------------------------------------------------------------------

def redis_env(url: str | None) -> dict:
    if not url:
        return {}
    try:
        from redis import Redis

        client = Redis.from_url(url, socket_connect_timeout=2)
        client.flushdb()  # the bench's own database number: stale rate-limit counters go
        client.close()
    except Exception as exc:  # noqa: BLE001 - measured without Redis then, and said so
        print(f"Redis at {url} unavailable ({type(exc).__name__}): rate limits in memory", file=sys.stderr)
        return {}
    return {"REDIS_URL": url}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, short rounds: under 2 minutes (CI)")
    parser.add_argument("--scale", type=float, default=None, help="seed scale (default 1; 0.01 with --quick)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reseed", action="store_true", help="seed again even if the database holds this seed")
    parser.add_argument("--database-url", default=None, help=f"bench database (default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="Redis for rate limits ('' for none)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent keep-alive clients (default 4)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per route and round (default 5; 1 quick)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds over the routes (default 3; 1 quick)")
    parser.add_argument("--min-samples", type=int, default=None,
                        help="requests per route at least, over all rounds (default 1,000; 0 quick)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
    parser.add_argument("--routes", default=",".join(ROUTES), help="routes to drive, in order")
    parser.add_argument("--keep-log", action="store_true", help="print where the server log is kept")
    args = parser.parse_args()
    quick = args.quick
    scale = args.scale if args.scale is not None else (0.01 if quick else 1.0)
    database_url = args.database_url or (QUICK_DATABASE_URL if quick else DEFAULT_DATABASE_URL)
    seconds = args.seconds if args.seconds is not None else (1.0 if quick else 5.0)
    rounds = args.rounds if args.rounds is not None else (1 if quick else 3)
    min_samples = args.min_samples if args.min_samples is not None else (0 if quick else 1000)
    warm_up = 0.5 if quick else 1.5
    started = time.perf_counter()
    seeder.RESULTS.mkdir(parents=True, exist_ok=True)
    keys = seeder.RESULTS / f"keys-{make_url(database_url).database}.json"

    if args.reseed or quick or not database_ready(database_url, scale, args.seed):
        print(f"seeding {make_url(database_url).database} at scale {scale:g} (seed {args.seed})...", file=sys.stderr)
        seeder.recreate_database(database_url)
        keys.unlink(missing_ok=True)
        manifest = seeder.seed(database_url, keys, scale=scale, seed_value=args.seed, progress=not quick)
        seeder.write_manifest(manifest, database_url, keys)
    else:
        migrate_to_head(database_url, keys)  # a seed kept from an older schema gets the newer migrations
        seeder.apply_planner_settings(database_url)  # and deploy/postgresql.conf's newer settings
    manifest = json.loads(manifest_path(database_url).read_text())
    seed_seconds = time.perf_counter() - started

    info = prepare(database_url, keys, manifest)
    routes = [r for r in args.routes.split(",") if r]
    if "report" in routes and not info["report"]:
        print("report: not available (clinician_app/reports serves no monthly report yet); skipped")
        routes.remove("report")
    workdir = Path(tempfile.mkdtemp(prefix="bench-run-"))
    shutil.copy(keys, workdir / "keys.json")
    env = server_env(database_url, workdir, LOG_JSON="1", LOG_LEVEL="INFO", **redis_env(args.redis_url))
    port = free_port()
    process = None
    results: dict[str, Result] = {}
    try:
        process = start_server(env, workdir, port, workers=args.workers, threads=args.threads, probe=True,
                               project_config=True)
        functions = request_functions(port, info, args.seed)
        for route in routes:
            drive(port, route, functions[route], args.clients, warm_up)
        results = {route: Result(route) for route in routes}
        per_client = -(-min_samples // (rounds * args.clients)) if min_samples else 0
        for _ in range(rounds):
            for route in routes:
                results[route].merge(drive(port, route, functions[route], args.clients, seconds,
                                           min_requests=per_client))
    finally:
        stop_server(process)
        if args.keep_log:
            print(f"server log: {workdir / 'server.log'}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    report = summarise(results, manifest, info, args, scale, seconds, rounds, seed_seconds, time.perf_counter() - started)
    print_table(report)
    path = seeder.RESULTS / f"run-{'quick' if quick else 'full'}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"\nresults: {path}")


def summarise(results: dict[str, Result], manifest: dict, info: dict, args, scale, seconds, rounds,
              seed_seconds, total_seconds) -> dict:
    rows = {}
    for route, result in results.items():
        row = result.summary()
        row["label"] = ROUTES[route][0]
        ceiling = ROUTES[route][1]
        if ceiling in results and results[ceiling].rate:
            row["ceiling"] = ceiling
            row["share_of_ceiling"] = round(result.rate / results[ceiling].rate, 3)
        if route in ("dispatch", "ingest"):
            created = result.statuses.get(302 if route == "dispatch" else 201, 0)
            row["created_per_second"] = round(created / result.seconds, 1) if result.seconds else 0.0
        rows[route] = row
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "quick": args.quick, "scale": scale,
        "seed": args.seed, "rows_seeded": manifest["rows"], "cpu_cores": os.cpu_count(),
        "gunicorn": {"workers": args.workers, "threads": args.threads}, "clients": args.clients,
        "seconds_per_round": seconds, "rounds": rounds, "case_pages": len(info["cases"]),
        "calls_in_busiest_case": max(info["case_calls"], default=0), "seed_or_reuse_seconds": round(seed_seconds, 1),
        "total_seconds": round(total_seconds, 1), "lookup_service": info.get("lookup_service"), "routes": rows,
    }


def print_table(report: dict) -> None:
    rows = report["routes"]
    seeded = report["rows_seeded"]
    print(f"\nscale {report['scale']:g}: {seeded.get('calls', 0):,} calls, {seeded.get('persons', 0):,} persons, "
          f"{seeded.get('case_notes', 0):,} notes, {seeded.get('followups', 0):,} follow-ups, "
          f"{seeded.get('audit_events', 0):,} audit events; busiest case page: {report['calls_in_busiest_case']} calls")
    print(f"gunicorn gthread {report['gunicorn']['workers']}x{report['gunicorn']['threads']}, {report['clients']} clients, "
          f"{report['rounds']} x {report['seconds_per_round']:g} s per route; {report['cpu_cores']} cores shared by "
          "clients, server, PostgreSQL and Redis\n")
    print(f"{'route':<34} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'srv p50':>8} {'srv p99':>8} {'SQL':>7} "
          f"{'vs ceiling':>10}  statuses")
    for row in rows.values():
        sql = "" if row["queries_min"] is None else (
            f"{row['queries_min']}" if row["queries_min"] == row["queries_max"] else f"{row['queries_min']}..{row['queries_max']}")
        share = f"{row['share_of_ceiling']:.0%} {row['ceiling']}" if "share_of_ceiling" in row else "ceiling"
        statuses = ", ".join(f"{k}: {v}" for k, v in row["statuses"].items())
        print(f"{row['label']:<34} {row['rate']:>8.1f} {_ms(row['p50_ms']):>7} {_ms(row['p99_ms']):>7} "
              f"{_ms(row['server_p50_ms']):>8} {_ms(row['server_p99_ms']):>8} {sql:>7} {share:>10}  {statuses}")
    service = report.get("lookup_service")
    if service:
        print(f"\nperson lookup service alone (in process, {service['lookups']} persons, {service['found']} found): "
              f"p50 {service['p50_ms']:.2f} ms, p99 {service['p99_ms']:.2f} ms")
    print(f"\n(total {report['total_seconds']:.0f} s, of which seeding or checking the seed {report['seed_or_reuse_seconds']:.0f} s)")


def _ms(value) -> str:
    return "-" if value is None else f"{value:.1f}"


if __name__ == "__main__":
    main()
