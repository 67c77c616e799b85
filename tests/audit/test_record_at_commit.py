"""``audit.record_at_commit``: audited reads queued in the session are appended to
the chain as the transaction commits (so the chain's lock is held for the commit,
not for the rest of the page), in the order queued, and vanish with a rollback."""
import uuid

from sqlalchemy import event, func, select

from clinician_app.core import audit
from clinician_app.core.audit import AuditEvent, AuditHead, verify_chain
from clinician_app.core.keyfile import current_keys
from clinician_app.extensions import db


def _reads(count: int, action: str) -> list[dict]:
    return [{"action": action, "record_type": "thing", "record_id": str(uuid.uuid4()),
             "details": {"n": i}, "actor_username": "tester"} for i in range(count)]


def _stored(action: str) -> list[AuditEvent]:
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq)).scalars().all()


def _head_seq() -> int:
    return db.session.execute(select(AuditHead.last_seq)).scalar_one()


def test_queued_reads_are_written_at_commit_in_order_and_the_chain_verifies():
    db.session.commit()
    head_before = _head_seq()
    queued = _reads(3, "test.deferred")
    audit.record_many_at_commit(queued)
    written_now = audit.record("test.immediate", actor_username="tester")
    assert _stored("test.deferred") == []  # nothing yet: only the immediate event moved the head
    assert _head_seq() == head_before + 1
    db.session.commit()
    stored = _stored("test.deferred")
    assert [e.record_id for e in stored] == [item["record_id"] for item in queued]
    assert [e.seq for e in stored] == [written_now.seq + 1, written_now.seq + 2, written_now.seq + 3]
    assert stored[0].prev_mac == written_now.mac
    result = verify_chain(db.session, current_keys().audit_key)
    assert result.ok, result.problems


def test_a_rollback_discards_queued_reads_and_the_next_commit_does_not_write_them():
    db.session.commit()
    audit.record_many_at_commit(_reads(2, "test.rolled_back"))
    db.session.rollback()
    db.session.commit()
    assert _stored("test.rolled_back") == []


def test_a_savepoint_neither_writes_nor_discards_the_outer_transactions_reads():
    db.session.commit()
    audit.record_many_at_commit(_reads(1, "test.outer"))
    with db.session.begin_nested():
        audit.record_many_at_commit(_reads(1, "test.inner"))
    assert _stored("test.outer") == [] and _stored("test.inner") == []  # released, not committed
    savepoint = db.session.begin_nested()
    savepoint.rollback()
    db.session.commit()
    assert len(_stored("test.outer")) == 1 and len(_stored("test.inner")) == 1


def test_the_case_page_takes_the_chain_lock_only_when_it_commits(client, make_user, login_as, agencies):
    from datetime import date

    from clinician_app.cases.models import Case
    from clinician_app.core.timeutil import utcnow
    from clinician_app.people.services import PersonData, ensure_person

    clinician = make_user(agencies["A"], "clinician")
    person, _ = ensure_person(agencies["A"].id, PersonData(first_name="Dana", last_name="Whitfield",
                                                          date_of_birth=date(1979, 4, 2)))
    case = Case(agency_id=agencies["A"].id, person_id=person.id, assignee_id=clinician.id, status="open",
                opened_at=utcnow(), opened_by_id=clinician.id)
    db.session.add(case)
    db.session.commit()
    login_as(clinician)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get(f"/cases/{case.id}").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    touching_head = [i for i, sql in enumerate(statements) if "audit_head" in sql]
    assert touching_head, "the page's reads were not audited"
    # Here the view's commit is a savepoint's release (tests/conftest.py).
    committed = next(i for i, sql in enumerate(statements) if i > touching_head[0] and sql.startswith("RELEASE"))
    reads_holding_lock = [sql for sql in statements[touching_head[0]:committed]
                          if sql.lstrip().upper().startswith("SELECT") and "audit" not in sql]
    assert reads_holding_lock == []  # every read of the page came before the lock or after the commit
    assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "case.read", AuditEvent.record_id == case.id)).scalar_one() == 1
