"""What the HTTP benchmarks share: gunicorn on a loopback port, keep-alive clients
driving it, and the figures they collect (latency percentiles, rate, and, when the
server runs with the probe, SQL statements and server time per request).

Used by bench/run.py, bench/queue_bench.py and bench/cad_ingest_bench.py.

The probe is a gunicorn config hook (``post_worker_init``), so the app itself
carries no benchmark code: it wraps each worker's WSGI app, counts the statements
each request thread sends (a ``before_cursor_execute`` listener on the app's
engine) and adds two response headers, ``X-SQL-Queries`` and ``X-Server-Time``
(milliseconds from the request reaching the app to its status line).
"""
from __future__ import annotations

import http.client
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60

# Gunicorn hooks for the probe; appended to the project's gunicorn.conf.py (when
# used) in a config file of the run's own.
PROBE_CONFIG = '''
import threading as _threading
import time as _time


def post_worker_init(worker):
    from sqlalchemy import event

    from clinician_app.extensions import db

    app = worker.wsgi
    counter = _threading.local()
    with app.app_context():
        engine = db.engine

    def count(conn, cursor, statement, parameters, context, executemany):
        counter.n = getattr(counter, "n", 0) + 1

    event.listen(engine, "before_cursor_execute", count)

    def probed(environ, start_response):
        counter.n = 0
        began = _time.perf_counter()

        def respond(status, headers, exc_info=None):
            headers = [*headers, ("X-SQL-Queries", str(counter.n)),
                       ("X-Server-Time", f"{(_time.perf_counter() - began) * 1000:.3f}")]
            return start_response(status, headers, exc_info)

        return app(environ, respond)

    worker.wsgi = probed
'''

# gthread runs requests on pool threads, and a cProfile.Profile sees only the
# thread that enabled it: so each request thread gets its own, wrapped around
# the WSGI app, and each is written out when the worker exits.
PROFILE_CONFIG = '''
import cProfile, os, threading

profiles = {}

def post_worker_init(worker):
    inner = worker.wsgi

    def profiled(environ, start_response):
        profile = profiles.setdefault(threading.get_ident(), cProfile.Profile())
        profile.enable()
        try:
            return list(inner(environ, start_response))
        finally:
            profile.disable()

    worker.wsgi = profiled

def worker_exit(server, worker):
    for ident, profile in profiles.items():
        profile.dump_stats(os.path.join(os.environ["BENCH_PROFILE_DIR"], f"worker-{worker.pid}-{ident}.prof"))
'''


@dataclass
class Result:
    route: str
    latencies: list[float] = field(default_factory=list)  # seconds, as the client saw them
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0
    queries: list[int] = field(default_factory=list)  # X-SQL-Queries, when the probe runs
    server_ms: list[float] = field(default_factory=list)  # X-Server-Time, when the probe runs

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def merge(self, other: Result) -> None:
        self.latencies += other.latencies
        self.queries += other.queries
        self.server_ms += other.server_ms
        self.seconds += other.seconds
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    def percentile(self, p: float) -> float:
        """Milliseconds (nearest rank) of the client-side latency."""
        return _percentile(self.latencies, p) * 1000

    def server_percentile(self, p: float) -> float:
        return _percentile(self.server_ms, p)

    @property
    def query_counts(self) -> tuple[int, int] | None:
        """(fewest, most) statements per request, or None without the probe."""
        return (min(self.queries), max(self.queries)) if self.queries else None

    def summary(self) -> dict:
        return {
            "route": self.route, "requests": self.count, "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1), "p50_ms": _round(self.percentile(50)), "p99_ms": _round(self.percentile(99)),
            "server_p50_ms": _round(self.server_percentile(50)), "server_p99_ms": _round(self.server_percentile(99)),
            "queries_min": self.query_counts[0] if self.queries else None,
            "queries_max": self.query_counts[1] if self.queries else None,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def schema_url(base: str, schema: str, *extra_settings: str) -> str:
    """``base`` with ``search_path`` (and other settings) passed as connection options."""
    sep = "&" if "?" in base else "?"
    options = "%20".join(f"-c{setting.replace('=', '%3D')}" for setting in (f"search_path={schema}", *extra_settings))
    return f"{base}{sep}options={options}"


@contextmanager
def scratch_database(database_url: str | None, prefix: str) -> Iterator[tuple[str, Path, str | None]]:
    """A fresh schema in the PostgreSQL database ``database_url`` names (or, without
    one, a SQLite file) and a work folder, both gone afterwards: yields
    (database URL, work folder, schema or None)."""
    from sqlalchemy import create_engine, text

    workdir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    admin = schema = None
    try:
        if database_url and database_url.startswith("postgresql"):
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            yield schema_url(database_url, schema), workdir, schema
        else:
            yield database_url or f"sqlite:///{workdir / 'bench.db'}", workdir, None
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def server_env(database_url: str, workdir: Path, **extra: str) -> dict:
    """The environment of a bench server: development config, its own keys and instance folder."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CLINICIAN_KEYS_JSON", "CLINICIAN_KEK"}}
    env.update({
        "CLINICIAN_ENV": "development",
        "DATABASE_URL": database_url,
        "CLINICIAN_KEYS_FILE": str(workdir / "keys.json"),
        "CLINICIAN_INSTANCE_DIR": str(workdir),
        "API_RATELIMIT": "1000000 per minute",  # measured, not tripped
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra)
    return env


def start_server(env: dict, workdir: Path, port: int, *, workers: int, threads: int, probe: bool = False,
                 profile: str | None = None, project_config: bool = False) -> subprocess.Popen:
    """gunicorn (gthread) serving ``wsgi:app`` on 127.0.0.1:``port``, logging to
    ``workdir/server.log``; returns once ``/healthz`` answers.

    ``project_config`` runs it with the project's gunicorn.conf.py (the production
    shape) under the bench's worker and thread counts; ``probe`` adds the
    query-count and server-time headers; ``profile`` (a folder) profiles every
    request thread with cProfile."""
    command = [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", str(workers),
               "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--keep-alive", "30",
               "--max-requests", "0"]  # no worker recycling in the middle of a measurement
    hooks = ""
    if project_config:
        hooks += (ROOT / "gunicorn.conf.py").read_text() + "\n"
    if probe:
        hooks += PROBE_CONFIG
    if profile:
        hooks += PROFILE_CONFIG
        env = {**env, "BENCH_PROFILE_DIR": str(Path(profile).resolve())}
        Path(profile).mkdir(parents=True, exist_ok=True)
    # Always a config of the run's own: otherwise gunicorn would pick up the
    # project's gunicorn.conf.py from the working directory.
    config = workdir / "bench_gunicorn_conf.py"
    config.write_text(hooks or "# defaults\n")
    command += ["--config", str(config)]
    # Command-line flags win over the config file, so the bench's counts hold either way.
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([*command, "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {workdir / 'server.log'}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the server did not answer within {START_TIMEOUT}s; see {workdir / 'server.log'}")


def stop_server(process: subprocess.Popen | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


# A request function sends one request on a keep-alive connection and returns the
# response, read to the end; ``n`` numbers the requests of one drive (from 0).
RequestFunction = Callable[[http.client.HTTPConnection, int], http.client.HTTPResponse]


def get(path: str, headers: dict | None = None) -> RequestFunction:
    """A request function for ``GET path``."""
    headers = dict(headers or {})

    def request(conn: http.client.HTTPConnection, n: int) -> http.client.HTTPResponse:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response

    return request


def drive(port: int, route: str, request: RequestFunction, clients: int, seconds: float, *,
          min_requests: int = 0, max_requests: int | None = None) -> Result:
    """``clients`` keep-alive connections sending requests back to back for ``seconds``,
    each at least ``min_requests`` of them, and all together at most ``max_requests``."""
    result = Result(route)
    lock = threading.Lock()
    budget = iter(range(max_requests)) if max_requests is not None else None
    numbers = iter(range(10 ** 12))
    stop_at = time.perf_counter() + seconds
    start = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies, statuses, queries, server_ms = [], {}, [], []
        start.wait()
        while time.perf_counter() < stop_at or len(latencies) < min_requests:
            with lock:
                n = next(numbers)
                if budget is not None and next(budget, None) is None:
                    break
            began = time.perf_counter()
            try:
                response = request(conn, n)
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status, response = 0, None
            latencies.append(time.perf_counter() - began)
            statuses[status] = statuses.get(status, 0) + 1
            if response is not None:
                if (count := response.getheader("X-SQL-Queries")) is not None:
                    queries.append(int(count))
                if (spent := response.getheader("X-Server-Time")) is not None:
                    server_ms.append(float(spent))
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.queries.extend(queries)
            result.server_ms.extend(server_ms)
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result
