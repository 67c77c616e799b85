"""Structured logs that carry ids, never names, notes or narratives.

Exception messages can quote SQL parameters or user input, so handlers are
given records whose ``exc_info`` has been reduced to the exception type and
the stack frames (file, line, function), never the message.

With ``LOG_JSON`` (the production default) every line is one JSON object::

    {"ts": "2026-11-24T07:22:01.836651+00:00", "level": "INFO", "logger": "clinician_app.request",
     "message": "request", "request_id": "3f2a...", "user_id": "<uuid>", "endpoint": "calls.queue",
     "status": 200, "duration_ms": 12.4, ...}

Records logged while a request is handled carry its ``request_id`` and, once the
user is known, ``user_id`` (ids only). Nothing else of the request is added: paths
hold opaque ids, and query strings, form fields and bodies are never logged.
Gunicorn's own lines go through the same formatter (``GunicornLogger``, named by
gunicorn.conf.py), and its access lines, when enabled, carry the path without the
query string (search parameters may name people).
"""
import json
import logging
import os
import sys
import traceback
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"
JSON_RENAMES = {"levelname": "level", "name": "logger"}


class SafeExceptionFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            record.error_type = exc_type.__name__
            record.trace = "".join(traceback.format_tb(tb))
            record.exc_info = None
            record.exc_text = None
        return True


class RequestContextFilter(logging.Filter):
    """Adds the current request's id and signed-in user's id to every record logged
    while it is handled. Reads only what the request already holds (``g``): loading
    the user from here could run a query, and log again, from inside a log call."""

    def filter(self, record: logging.LogRecord) -> bool:
        from flask import g, has_app_context, has_request_context

        if not (has_request_context() and has_app_context()):
            return True
        if getattr(record, "request_id", None) is None:
            record.request_id = g.get("request_id")
        if getattr(record, "user_id", None) is None:
            record.user_id = user_id_of(g.get("_login_user"))
        return True


def user_id_of(user) -> str | None:
    """A signed-in user's id without a query: after the request's commit the user
    object is expired, and reading ``user.id`` would load the row (and its roles)
    again just to log it."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    from sqlalchemy import inspect

    state = inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return state.identity[0]
    return getattr(user, "id", None)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and k != "trace"}
        tail = " ".join(f"{k}={v}" for k, v in extras.items() if v is not None)
        trace = getattr(record, "trace", None)
        return f"{base} {tail}".rstrip() + (f"\n{trace}" if trace else "")


class OneLineJsonFormatter(JsonFormatter):
    """One JSON object per line, ``ts`` (UTC, ISO 8601) first, then level, logger,
    message and the record's extras (ids, codes, figures)."""

    def __init__(self):
        super().__init__(JSON_FIELDS, rename_fields=JSON_RENAMES, timestamp=False)

    def add_fields(self, log_record, record, message_dict) -> None:
        super().add_fields(log_record, record, message_dict)
        log_record["ts"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def jsonify_log_record(self, log_record: dict) -> str:
        ts = log_record.pop("ts", None)
        return super().jsonify_log_record({"ts": ts, **log_record})


def make_handler(json_logs: bool, stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(SafeExceptionFilter())
    handler.addFilter(RequestContextFilter())
    if json_logs:
        handler.setFormatter(OneLineJsonFormatter())
    else:
        handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def configure_logging(json_logs: bool, level: str) -> None:
    handler = make_handler(json_logs)
    root = logging.getLogger("clinician_app")
    root.handlers = [handler]
    root.setLevel(level)
    root.propagate = True  # lets pytest's caplog see records
    # Werkzeug's access log prints full URLs including query strings: keep ours only.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


# --- gunicorn ----------------------------------------------------------------------------

def _gunicorn_logger_base():
    from gunicorn.glogging import Logger

    return Logger


class GunicornLogger(_gunicorn_logger_base()):
    """Gunicorn's logger with our handlers: its error lines in the app's format
    (JSON with ``LOG_JSON``), and access lines (only when an access log is set)
    without the query string, the referrer or the user agent."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        json_logs = _json_wanted()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(SafeExceptionFilter())
                if json_logs:
                    handler.setFormatter(OneLineJsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict or self.cfg.syslog):
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        fields = {
            "remote_addr": environ.get("REMOTE_ADDR", "-"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),  # never QUERY_STRING or RAW_URI
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
        }
        if _json_wanted():
            self.access_log.info("access", extra=fields)
        else:
            self.access_log.info(" ".join(f"{k}={json.dumps(v)}" for k, v in fields.items()))


def _json_wanted() -> bool:
    """JSON lines when ``LOG_JSON`` says so; otherwise as the configuration wsgi.py
    picks defaults (JSON in production)."""
    from config import _bool

    return _bool("LOG_JSON", os.environ.get("CLINICIAN_ENV", "development") == "production")
