"""Engine set-up that differs between the embedded SQLite default and PostgreSQL."""
from sqlalchemy import event
from sqlalchemy.orm import scoped_session


def configure_sqlite(engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        # Let SQLAlchemy issue BEGIN itself, so transactions and SAVEPOINTs
        # behave as they do on PostgreSQL (pysqlite's own handling does not).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")


def commit_keeping_loaded(session) -> None:
    """Commit without expiring what the session loaded, for a view that commits
    (audited reads) and then renders what it read. A plain commit expires every
    object, and the template would load the user, the record and each row shown
    again, one query each; rendering before the commit instead would hold the
    audit chain's lock (taken by the audit events) for as long as rendering takes."""
    target = session.registry() if isinstance(session, scoped_session) else session
    previous = target.expire_on_commit
    target.expire_on_commit = False
    try:
        target.commit()
    finally:
        target.expire_on_commit = previous
