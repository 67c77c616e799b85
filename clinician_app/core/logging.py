"""Structured logs that carry ids, never names, notes or narratives.

Exception messages can quote SQL parameters or user input, so handlers are
given records whose ``exc_info`` has been reduced to the exception type and
the stack frames (file, line, function), never the message.
"""
import logging
import sys
import traceback

from pythonjsonlogger.json import JsonFormatter

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class SafeExceptionFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _, tb = record.exc_info
            record.error_type = exc_type.__name__
            record.trace = "".join(traceback.format_tb(tb))
            record.exc_info = None
            record.exc_text = None
        return True


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD and k != "trace"}
        tail = " ".join(f"{k}={v}" for k, v in extras.items() if v is not None)
        trace = getattr(record, "trace", None)
        return f"{base} {tail}".rstrip() + (f"\n{trace}" if trace else "")


def configure_logging(json_logs: bool, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SafeExceptionFilter())
    if json_logs:
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("clinician_app")
    root.handlers = [handler]
    root.setLevel(level)
    root.propagate = True  # lets pytest's caplog see records
    # Werkzeug's access log prints full URLs including query strings: keep ours only.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
