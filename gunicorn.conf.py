"""Gunicorn settings for clinician_app: ``gunicorn wsgi:app`` picks this file up
from the working directory (or name it with ``-c gunicorn.conf.py``).

Every setting can be changed by environment variable, so one image serves a
laptop and a region; README.md ("Deployment and scaling") explains the shape:
several app servers like this one behind a TLS proxy (deploy/nginx.conf), one
PostgreSQL (through a pool, deploy/pgbouncer.ini) and Redis.

Why these values
* ``gthread``: a request mostly waits on PostgreSQL, Redis or the client, so
  threads overlap that waiting at little memory cost; workers (processes) use
  the cores. Default 2 workers per core, 4 threads each.
* ``timeout`` 30 s: a worker silent that long is stuck and is replaced; no page
  takes more than a fraction of a second (bench/run.py), and long work (exports,
  reminders) runs as jobs, not requests.
* ``graceful_timeout`` 30 s: on a deploy (SIGTERM / SIGHUP) requests in flight finish.
* ``max_requests`` with jitter: workers are recycled now and then, so a slow leak
  never grows, and never all at once.
* ``keepalive`` 5 s: the proxy keeps connections open to the app servers.
* Logs: the app logs every request itself (one line, JSON in production, with
  request id, user id, endpoint, status and duration; never query strings, form
  fields or bodies). Gunicorn's access log is off unless ``GUNICORN_ACCESS_LOG``
  names a file (``-`` for stdout); its lines then carry the path without the query
  string, since URLs may carry search parameters.
"""
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:5000")
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count())
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)
# Requests larger than this in any header line are refused before the app sees them.
limit_request_line = 8190

# Behind the proxy: trust X-Forwarded-For / -Proto only from it (comma-separated addresses).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

logger_class = "clinician_app.core.logging.GunicornLogger"
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
# Used only if a plain gunicorn logger replaces ours: the path (%(U)s) without the
# query string, never %(r)s, %(q)s or the referrer.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
