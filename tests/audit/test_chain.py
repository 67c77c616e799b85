"""The audit chain's tamper evidence (SECURITY.md promise 14): an edited, deleted,
inserted or reordered event is found and named, by the service and by
``flask audit verify``; on PostgreSQL the table refuses UPDATE and DELETE; an
audit write that fails takes the change it records down with it; concurrent
writers keep one unbroken chain."""
import threading
import uuid

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from clinician_app.auth import services as auth_services
from clinician_app.auth.models import SignInFailure, User
from clinician_app.core import audit
from clinician_app.core.audit import AuditEvent, AuditHead, verify_chain
from clinician_app.core.keyfile import current_keys
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db


def _key():
    return current_keys().audit_key


def _record_events(count=4):
    """A few fresh events at the end of the chain; returns their sequence numbers."""
    seqs = [audit.record(f"test.event{i}", record_type="thing", record_id=str(uuid.uuid4()),
                         details={"n": i}, actor_username="tester").seq for i in range(count)]
    db.session.flush()
    return seqs


def _tamper(sql, **params):
    """Run SQL as someone with database access would. PostgreSQL's trigger would
    refuse it, so it is disabled (for this transaction only) the way a superuser could."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
    db.session.execute(text(sql), params)


def _verify():
    return verify_chain(db.session, _key())


def _mentions(result, phrase):
    return any(phrase in problem for problem in result.problems)


def test_a_clean_chain_verifies():
    seqs = _record_events()
    result = _verify()
    assert result.ok, result.problems
    assert result.first_bad_seq is None
    assert result.checked >= len(seqs)
    assert result.checked == db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def test_an_edited_event_is_named():
    seqs = _record_events()
    _tamper("UPDATE audit_events SET action = 'x' WHERE seq = :seq", seq=seqs[1])
    result = _verify()
    assert not result.ok
    assert result.first_bad_seq == seqs[1]
    assert _mentions(result, f"event {seqs[1]} was altered")
    # Only the edited event is named: the chain links themselves are intact.
    assert len(result.problems) == 1


def test_an_edited_remote_address_is_named():
    seqs = _record_events()
    _tamper("UPDATE audit_events SET remote_addr = '10.0.0.9' WHERE seq = :seq", seq=seqs[2])
    result = _verify()
    assert result.first_bad_seq == seqs[2] and _mentions(result, f"event {seqs[2]} was altered")


def test_a_deleted_middle_event_is_named():
    seqs = _record_events()
    _tamper("DELETE FROM audit_events WHERE seq = :seq", seq=seqs[1])
    result = _verify()
    assert not result.ok
    assert result.first_bad_seq == seqs[2]
    assert _mentions(result, f"events {seqs[1]}..{seqs[1]} are missing (deleted) before event {seqs[2]}")
    assert _mentions(result, f"event {seqs[2]} does not follow")


def test_a_deleted_last_event_is_named():
    seqs = _record_events()
    _tamper("DELETE FROM audit_events WHERE seq = :seq", seq=seqs[-1])
    result = _verify()
    assert not result.ok
    assert result.first_bad_seq == seqs[-1]
    assert _mentions(result, f"ends at event {seqs[-2]} but its head records event {seqs[-1]}")


def _forged(seq, prev_mac):
    """An event made by someone without the audit key: a MAC under a guessed key."""
    forged = AuditEvent(seq=seq, occurred_at=utcnow(), actor_username="intruder", agency_id=None,
                        action="user.roles_changed", record_type="user", record_id=str(uuid.uuid4()),
                        remote_addr=None, outcome="success", reason=None, details=None, prev_mac=prev_mac)
    mac = audit.compute_mac(b"not-the-audit-key" * 2, prev_mac, forged.canonical())
    return {c: getattr(forged, c) for c in ("seq", "occurred_at", "actor_username", "agency_id", "action",
                                            "record_type", "record_id", "remote_addr", "outcome", "reason",
                                            "details", "prev_mac")} | {"mac": mac}


def test_an_event_inserted_at_the_end_is_named():
    seqs = _record_events()
    last_mac = db.session.execute(select(AuditEvent.mac).where(AuditEvent.seq == seqs[-1])).scalar_one()
    db.session.execute(insert(AuditEvent.__table__).values(**_forged(seqs[-1] + 1, last_mac)))
    result = _verify()
    assert not result.ok
    assert result.first_bad_seq == seqs[-1] + 1
    assert _mentions(result, f"event {seqs[-1] + 1} was altered")


def test_an_event_inserted_between_two_is_named():
    seqs = _record_events()
    # Make room after seqs[1] by renumbering the later events (in two steps, so no
    # two rows ever share a number), then slip a forged event into the gap.
    _tamper("UPDATE audit_events SET seq = seq + 1000000 WHERE seq > :seq", seq=seqs[1])
    _tamper("UPDATE audit_events SET seq = seq - 1000000 + 1 WHERE seq > 1000000")
    mac_before = db.session.execute(select(AuditEvent.mac).where(AuditEvent.seq == seqs[1])).scalar_one()
    db.session.execute(insert(AuditEvent.__table__).values(**_forged(seqs[2], mac_before)))
    result = _verify()
    assert not result.ok
    assert result.first_bad_seq == seqs[2]
    assert _mentions(result, f"event {seqs[2]} was altered")
    # The event that used to hold that number now follows the forgery, not its real predecessor.
    assert _mentions(result, f"event {seqs[3]} does not follow")


def test_two_swapped_events_are_named():
    seqs = _record_events()
    first, second = seqs[1], seqs[2]
    columns = ["occurred_at", "actor_id", "actor_username", "agency_id", "action", "record_type", "record_id",
               "remote_addr", "outcome", "reason", "details", "prev_mac", "mac"]
    rows = {row.seq: row._asdict() for row in db.session.execute(
        select(AuditEvent.__table__).where(AuditEvent.seq.in_([first, second])))}
    assignments = ", ".join(f"{c} = :{c}" for c in columns)
    for target, source in ((first, second), (second, first)):
        _tamper(f"UPDATE audit_events SET {assignments} WHERE seq = :target",
                target=target, **{c: rows[source][c] for c in columns})
    result = _verify()
    assert not result.ok
    assert result.first_bad_seq == first
    assert _mentions(result, f"event {first} does not follow") and _mentions(result, f"event {first} was altered")
    assert _mentions(result, f"event {second} was altered")


def test_cli_verify_exits_0_on_a_clean_chain_and_1_naming_the_event_after_tampering(app):
    seqs = _record_events()
    runner = app.test_cli_runner()
    clean = runner.invoke(args=["audit", "verify"])
    assert clean.exit_code == 0, clean.output
    assert "audit chain intact" in clean.output and "TAMPERED" not in clean.output
    _tamper("UPDATE audit_events SET reason = 'nothing to see' WHERE seq = :seq", seq=seqs[1])
    tampered = runner.invoke(args=["audit", "verify"])
    assert tampered.exit_code == 1
    assert f"TAMPERED: event {seqs[1]} was altered" in tampered.output


@pytest.mark.postgres_only
def test_postgresql_refuses_update_and_delete_on_the_audit_table():
    seqs = _record_events(2)
    for statement in ("UPDATE audit_events SET action = 'x' WHERE seq = :seq",
                      "DELETE FROM audit_events WHERE seq = :seq"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(text(statement), {"seq": seqs[0]})
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text("TRUNCATE audit_events CASCADE"))
    # Both events are still there, unchanged.
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.seq == seqs[0])).scalar_one() == "test.event0"
    assert _verify().ok


# --- a failed audit write undoes the change it records ----------------------------------

@pytest.fixture()
def failing_audit_mac(monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "compute_mac", refuse)
    return monkeypatch


def test_failed_audit_write_rolls_back_the_unlock_it_records(agencies, make_user, failing_audit_mac):
    admin = make_user(agencies["A"], "admin")
    locked = make_user(agencies["A"], "clinician")
    locked.locked_at = utcnow()
    db.session.add(SignInFailure(username_key=locked.username, remote_addr="10.0.0.1", stage="password"))
    db.session.commit()  # the state before the request
    head_before = db.session.execute(select(AuditHead.last_seq)).scalar_one()

    with pytest.raises(RuntimeError):
        auth_services.unlock_user(admin, locked)
    db.session.rollback()  # what the request's error handling does
    failing_audit_mac.undo()

    db.session.expire_all()
    still_locked = db.session.get(User, locked.id)
    assert still_locked.locked_at is not None
    assert db.session.execute(select(func.count()).select_from(SignInFailure).where(
        SignInFailure.username_key == locked.username)).scalar_one() == 1
    assert db.session.execute(select(AuditHead.last_seq)).scalar_one() == head_before
    assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "user.unlocked", AuditEvent.record_id == locked.id)).scalar_one() == 0
    assert _verify().ok
    # With the audit store back, the same unlock goes through and is recorded.
    auth_services.unlock_user(admin, still_locked)
    db.session.flush()
    assert still_locked.locked_at is None
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.record_id == locked.id)).scalars().all() == [
        "user.unlocked"]


def test_failed_audit_write_through_a_request_keeps_the_old_password(app, client, csrf, agencies, make_user, login_as,
                                                                     failing_audit_mac):
    from clinician_app.auth import passwords
    from tests.conftest import TEST_PASSWORD

    user = make_user(agencies["A"], "dispatcher")
    login_as(user)
    hash_before = user.password_hash
    page = client.get("/auth/password")
    response = client.post("/auth/password", data={"csrf_token": csrf(page), "current_password": TEST_PASSWORD,
                                                    "new_password": "a brand new passphrase 42",
                                                    "confirm": "a brand new passphrase 42"})
    assert response.status_code == 500
    failing_audit_mac.undo()
    db.session.expire_all()
    reloaded = db.session.get(User, user.id)
    assert reloaded.password_hash == hash_before
    assert passwords.verify_password(reloaded.password_hash, TEST_PASSWORD)
    # The password change would have ended every session; rolled back, this one still works.
    assert client.get("/").status_code == 200
    assert db.session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == user.id, AuditEvent.action == "auth.password_changed")).scalar_one() == 0


# --- concurrent writers (PostgreSQL) ------------------------------------------------------

@pytest.mark.postgres_only
@pytest.mark.no_transaction
def test_concurrent_writers_keep_one_unbroken_chain(app):
    """8 threads x 10 events, each committed on its own connection. The events
    stay (the trigger forbids deleting them); they are found by a unique action."""
    action = f"test.concurrent.{uuid.uuid4().hex[:12]}"
    threads, per_thread = 8, 10
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def writer(n):
        try:
            start.wait(timeout=30)
            for i in range(per_thread):
                with app.app_context():
                    audit.record(action, actor_username=f"writer{n}", record_type="thread", record_id=f"{n}-{i}")
                    db.session.commit()
        except BaseException as exc:  # noqa: BLE001  (reported below: a thread can't fail the test itself)
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(w.is_alive() for w in workers), "a writer hung"
    assert errors == []

    with app.app_context():
        mine = db.session.execute(select(AuditEvent.seq, AuditEvent.record_id).where(
            AuditEvent.action == action).order_by(AuditEvent.seq)).all()
        assert len(mine) == threads * per_thread
        assert {r.record_id for r in mine} == {f"{n}-{i}" for n in range(threads) for i in range(per_thread)}
        seqs = [r.seq for r in mine]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # no other writer ran: one contiguous run
        total, highest = db.session.execute(select(func.count(), func.max(AuditEvent.seq))).one()
        assert total == highest  # 1..N without a gap or a duplicate
        head = db.session.execute(select(AuditHead.last_seq)).scalar_one()
        assert head == highest
        result = verify_chain(db.session, _key())
        assert result.ok, result.problems
        db.session.remove()
