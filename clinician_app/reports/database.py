"""Where the monthly report's figures are read: the read replica when
``REPORTS_DATABASE_URL`` names one (README, "Deployment and scaling"), else the
app's own database.

* The replica's transactions are read-only (PostgreSQL ``READ ONLY``, SQLite
  ``query_only``): the report never writes there. Its audit event is written by
  the caller through the app's own session, on the primary, as every event is.
* Figures read there are as old as the replica's lag (normally under a second).
  Scopes, users and agencies are still read on the primary; only aggregate
  counts come from the replica, so a lagging replica can't let anyone see more.
* A replica that does not answer is not an outage: the report is read on the
  primary (a fraction of a second for a region's year, bench/run.py) and a
  warning names only the kind of error, never the URL or a figure.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from clinician_app.extensions import db

log = logging.getLogger(__name__)

_ENGINES = "clinician_reports_engines"
_LOCK = threading.Lock()
CONNECT_TIMEOUT_SECONDS = 3  # a replica host that is down answers nothing: don't hold the page for long


def _sqlite_query_only(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def _new_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_query_only)
        return engine
    options = dict(current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("connect_args", {"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    return create_engine(url, **options).execution_options(postgresql_readonly=True)


def reports_engine(url: str) -> Engine:
    """One engine (and pool) per app and URL, made on first use."""
    engines = current_app.extensions.setdefault(_ENGINES, {})
    with _LOCK:
        if url not in engines:
            engines[url] = _new_engine(url)
        return engines[url]


@contextmanager
def report_session() -> Iterator[Session]:
    """The session to read the report's figures through, for the ``with`` block."""
    url = current_app.config.get("REPORTS_DATABASE_URL")
    if not url:
        yield db.session
        return
    session = Session(reports_engine(url))
    try:
        session.connection()  # a replica that is down shows here, not halfway through the figures
    except DBAPIError as exc:
        session.close()
        log.warning("reports database did not answer (%s); the report is read on the primary",
                    type(exc.orig or exc).__name__)
        yield db.session
        return
    try:
        yield session
    finally:
        session.close()  # ends the read-only transaction
