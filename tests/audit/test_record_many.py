"""``audit.record_many``: several events appended at once (a page showing several
records, each an audited read) keep one unbroken, verifiable chain, in a fixed
number of statements however many events; tampering inside a batch is named."""
import uuid

from sqlalchemy import event, select

from clinician_app.core import audit
from clinician_app.core.audit import AuditEvent, AuditHead, verify_chain
from clinician_app.core.keyfile import current_keys
from clinician_app.extensions import db
from tests.audit.test_chain import _mentions, _tamper


def _verify():
    return verify_chain(db.session, current_keys().audit_key)


def _batch(count: int, action: str = "test.batch") -> list[AuditEvent]:
    return audit.record_many([{"action": action, "record_type": "thing", "record_id": str(uuid.uuid4()),
                               "details": {"n": i}, "actor_username": "tester"} for i in range(count)])


def _statements(work) -> int:
    count = [0]

    def counter(*_args):
        count[0] += 1

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count[0]


def test_a_batch_continues_the_chain_in_order_and_verifies():
    before = audit.record("test.single", actor_username="tester")
    written = _batch(5)
    after = audit.record("test.single", actor_username="tester")
    db.session.flush()
    assert [e.seq for e in written] == list(range(before.seq + 1, before.seq + 6))
    assert written[0].prev_mac == before.mac
    assert all(later.prev_mac == earlier.mac for earlier, later in zip(written, written[1:], strict=False))
    assert after.seq == written[-1].seq + 1 and after.prev_mac == written[-1].mac
    stored = db.session.execute(select(AuditEvent.seq, AuditEvent.action, AuditEvent.details, AuditEvent.mac)
                                .where(AuditEvent.seq.in_([e.seq for e in written])).order_by(AuditEvent.seq)).all()
    assert [(s.seq, s.action, s.details, s.mac) for s in stored] == [
        (e.seq, "test.batch", f'{{"n":{i}}}', e.mac) for i, e in enumerate(written)]
    head = db.session.execute(select(AuditHead.last_seq, AuditHead.last_mac)).one()
    assert tuple(head) == (after.seq, after.mac)
    result = _verify()
    assert result.ok, result.problems


def test_an_empty_batch_writes_nothing():
    audit.record("test.single", actor_username="tester")
    db.session.flush()
    assert _statements(lambda: audit.record_many([])) == 0
    assert _verify().ok


def test_a_batch_takes_the_same_statements_whatever_its_size():
    _batch(1)  # warm
    one = _statements(lambda: _batch(1))
    many = _statements(lambda: _batch(12))
    assert one == many
    if db.session.get_bind().dialect.name == "postgresql":
        assert many == 2  # take the head; insert the events and set the head's MAC
    assert _verify().ok


def test_a_batch_longer_than_one_statement_holds_stays_one_chain():
    written = _batch(audit._EVENTS_PER_STATEMENT * 2 + 5)
    stored = db.session.execute(select(AuditEvent.seq, AuditEvent.mac).where(
        AuditEvent.seq.in_([e.seq for e in written])).order_by(AuditEvent.seq)).all()
    assert [(s.seq, s.mac) for s in stored] == [(e.seq, e.mac) for e in written]
    head = db.session.execute(select(AuditHead.last_seq, AuditHead.last_mac)).one()
    assert tuple(head) == (written[-1].seq, written[-1].mac)
    result = _verify()
    assert result.ok, result.problems


def test_a_batch_takes_each_events_own_actor_and_fields(agencies, make_user):
    user = make_user(agencies["A"], "clinician")
    written = audit.record_many([
        {"action": "person.lookup", "actor": user, "record_type": "person", "details": {"results": 1}},
        {"action": "person.read", "actor": user, "record_type": "person", "record_id": "p1",
         "outcome": "denied", "reason": "why", "agency_id": agencies["B"].id},
    ])
    db.session.flush()
    db.session.expire_all()
    first, second = (db.session.get(AuditEvent, e.seq) for e in written)
    assert (first.actor_id, first.actor_username, first.agency_id, first.record_id) == (
        user.id, user.username, user.agency_id, None)
    assert (second.action, second.record_id, second.outcome, second.reason, second.agency_id) == (
        "person.read", "p1", "denied", "why", agencies["B"].id)
    assert _verify().ok


def test_an_edited_event_inside_a_batch_is_named():
    seqs = [e.seq for e in _batch(4)]
    db.session.flush()
    _tamper("UPDATE audit_events SET record_id = 'someone-else' WHERE seq = :seq", seq=seqs[2])
    result = _verify()
    assert not result.ok
    assert result.first_bad_seq == seqs[2]
    assert _mentions(result, f"event {seqs[2]} was altered") and len(result.problems) == 1


def test_an_event_deleted_from_a_batch_is_named():
    seqs = [e.seq for e in _batch(4)]
    db.session.flush()
    _tamper("DELETE FROM audit_events WHERE seq = :seq", seq=seqs[1])
    result = _verify()
    assert not result.ok and result.first_bad_seq == seqs[2]
    assert _mentions(result, f"events {seqs[1]}..{seqs[1]} are missing (deleted) before event {seqs[2]}")
    assert _mentions(result, f"event {seqs[2]} does not follow")


def test_a_rolled_back_batch_leaves_the_head_as_it_was():
    """The batch is in the caller's transaction: rolled back, neither it nor the head moves."""
    head = tuple(db.session.execute(select(AuditHead.last_seq, AuditHead.last_mac)).one())
    savepoint = db.session.begin_nested()
    _batch(3)
    savepoint.rollback()
    assert tuple(db.session.execute(select(AuditHead.last_seq, AuditHead.last_mac)).one()) == head
    assert _verify().ok
