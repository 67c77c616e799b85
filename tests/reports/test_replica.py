"""The monthly report reads its figures on the read replica when
REPORTS_DATABASE_URL names one: what the replica holds is what the report counts,
nothing is written there, the audit event stays on the primary, and a replica
that does not answer leaves the report to the primary."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from clinician_app.core.audit import AuditEvent
from clinician_app.extensions import db
from clinician_app.reports.database import _ENGINES, report_session
from tests.calls.factories import make_call
from tests.reports.factories import build_fixture, local

MARCH = {"start": "2025-03", "end": "2025-03", "table": "headline"}


@pytest.fixture()
def month(agencies, make_user):
    return build_fixture(agencies, make_user(agencies["A"], "supervisor"))


@pytest.fixture()
def replica_url(app, monkeypatch):
    """Sets REPORTS_DATABASE_URL for the test; the URL is the test's to give."""
    def use(url: str) -> str:
        monkeypatch.setitem(app.config, "REPORTS_DATABASE_URL", url)
        return url

    yield use
    for engine in app.extensions.pop(_ENGINES, {}).values():
        engine.dispose()


def _snapshot(tmp_path) -> str:
    """A replica caught up to this moment: every row the primary's session sees, copied
    into a database of its own (a SQLite file, whatever the primary's backend)."""
    url = f"sqlite:///{tmp_path / 'replica.db'}"
    engine = create_engine(url)
    db.metadata.create_all(engine)
    with engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            rows = [dict(row) for row in db.session.execute(table.select()).mappings()]
            if rows:
                conn.execute(table.insert(), rows)
    engine.dispose()
    return url


def _flagged(client) -> str:
    response = client.get("/reports/table.csv", query_string=MARCH)
    assert response.status_code == 200
    return next(line for line in response.get_data(as_text=True).splitlines()
                if line.startswith("Calls flagged for co-response,"))


def _report_events() -> int:
    return db.session.execute(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "report.export")).scalar_one()


def test_the_report_counts_what_the_replica_holds(client, agencies, make_user, login_as, month, tmp_path,
                                                  replica_url):
    login_as(make_user(agencies["A"], "supervisor"))
    url = replica_url(_snapshot(tmp_path))
    caught_up = _flagged(client)
    assert caught_up == "Calls flagged for co-response,6"
    # A call the replica has not received yet: the primary counts it, the report does not.
    make_call(agencies["A"].id, received_at=local(2025, 3, 18), co_response=True)
    assert _flagged(client) == caught_up
    replica_url("")
    assert _flagged(client) == "Calls flagged for co-response,7"

    replica_url(url)
    before = _report_events()
    _flagged(client)
    assert _report_events() == before + 1  # the audit event is written on the primary
    replica = create_engine(url)
    with replica.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'report.export'")).scalar_one() == 0
    replica.dispose()


def test_a_replica_behind_the_primary_reports_what_it_has(client, agencies, make_user, login_as, month,
                                                          database_url, replica_url):
    """The primary's own database through a connection of its own, which sees only
    what is committed: this test's records are not, as on a replica they would not
    have arrived yet. The report then counts none of them."""
    login_as(make_user(agencies["A"], "supervisor"))
    assert _flagged(client) == "Calls flagged for co-response,6"
    replica_url(database_url)
    assert _flagged(client) == "Calls flagged for co-response,0"


@pytest.mark.parametrize("kind", ["sqlite", "primary"])
def test_nothing_is_written_through_the_replica(app_ctx, tmp_path, database_url, replica_url, kind):
    replica_url(_snapshot(tmp_path) if kind == "sqlite" else database_url)
    with report_session() as session:
        assert session is not db.session
        assert session.execute(text("SELECT count(*) FROM dispositions")).scalar_one() > 0
        with pytest.raises(DBAPIError):
            session.execute(text("UPDATE dispositions SET label = label"))


def test_a_replica_that_does_not_answer_leaves_the_report_to_the_primary(client, agencies, make_user, login_as,
                                                                        month, replica_url, caplog):
    login_as(make_user(agencies["A"], "supervisor"))
    replica_url("postgresql+psycopg://reports@127.0.0.1:1/replica")  # nothing listens on port 1
    caplog.set_level(logging.WARNING, logger="clinician_app.reports.database")
    assert _flagged(client) == "Calls flagged for co-response,6"
    warnings = [r.getMessage() for r in caplog.records if r.name == "clinician_app.reports.database"]
    assert warnings == ["reports database did not answer (OperationalError); the report is read on the primary"]
    assert "127.0.0.1" not in caplog.text and "reports@" not in caplog.text
