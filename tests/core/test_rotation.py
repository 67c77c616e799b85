"""Key rotation through the real commands (SECURITY.md promise 11): `keys rotate`
interrupted inside its second batch and resumed, `keys retire` refused until nothing
uses the old key, `keys status` counts, KEK re-wrap, and running processes picking up
a key file another process changed. Runs on SQLite and PostgreSQL alike.

The rows are users' TOTP secrets (the encrypted field every install has). A blind index
is exercised by registering one, for these tests only, over ``users.email`` (a plain
string column), so the index half of rotation runs without a table of its own.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import time

import pytest
from sqlalchemy import select, text

from clinician_app.auth.models import User
from clinician_app.core import crypto, rotation, types
from clinician_app.core.audit import AuditEvent
from clinician_app.core.keyfile import current_keys, load_keys, write_material
from clinician_app.core.types import new_id
from clinician_app.extensions import db

ROWS, BATCH = 180, 50


@pytest.fixture()
def own_keys(app, tmp_path):
    """A key file of this test's own, so rotation changes neither the suite's keys nor its file."""
    original = app.extensions["clinician_keys"]
    path = tmp_path / "keys.json"
    write_material(path, original.to_material())
    app.extensions["clinician_keys"] = load_keys(str(path))
    yield str(path)
    app.extensions["clinician_keys"] = original


@pytest.fixture()
def email_index(monkeypatch):
    """A blind index over users.email computed from the TOTP secret (see module docstring)."""
    monkeypatch.setattr(types, "BLIND_INDEXES", [
        *types.BLIND_INDEXES, types.BlindIndexEntry(User, "email", lambda u: u.totp_secret, 16)])


@pytest.fixture()
def stored(own_keys, email_index, agencies):
    """ROWS users; every seventh has no secret (NULL must stay NULL). Returns id -> secret."""
    return store_users(agencies)


@pytest.fixture()
def stored_without_index(own_keys, agencies):
    """The same rows with no blind index declared: rotation reads them without the ORM."""
    return store_users(agencies)


def store_users(agencies) -> dict:
    users, expected = [], {}
    for i in range(ROWS):
        user = User(id=new_id(), username=f"rotation.{i:04d}", display_name="Rotation",
                    agency_id=agencies["A"].id, password_hash="unused")
        secret = None if i % 7 == 3 else f"ROTATE-{i:04d}-Zoë"
        user.totp_secret = secret
        users.append(user)
        expected[user.id] = secret
    db.session.add_all(users)
    db.session.flush()  # the guard computes each row's index
    db.session.commit()
    return expected


def read_back(expected: dict) -> None:
    """Every row decrypts to what was stored (a double-encrypted value would not)."""
    db.session.expire_all()
    users = db.session.execute(select(User).where(User.id.in_(expected))).scalars().all()
    assert len(users) == len(expected)
    indexed = any(entry.column == "email" for entry in types.BLIND_INDEXES)
    for user in users:
        assert user.totp_secret == expected[user.id]
        if not indexed:
            assert user.email is None
            continue
        want = None if expected[user.id] is None else types.blind_index(
            expected[user.id], table="users", column="email", bits=16)
        assert user.email == want or user.email in types.blind_index_candidates(
            expected[user.id], table="users", column="email", bits=16)


def usage():
    return rotation.key_usage(db.session, current_keys().ring)


def test_rotation_interrupted_in_the_second_batch_then_resumed(app, stored, monkeypatch, own_keys):
    runner = app.test_cli_runner()
    non_null = sum(v is not None for v in stored.values())
    old_ring = current_keys().ring
    old_data, old_index = old_ring.active_key_id, old_ring.active_index_key_id
    assert usage().data["users.totp_secret"] == {old_data: non_null, rotation.OTHER: 0}

    real_reencrypt, seen = rotation._reencrypt_row, []

    def crash_midway_through_batch_two(ring, plan, row):
        seen.append(row.id)
        if len(seen) == BATCH + 10:  # batch one committed; ten rows of batch two changed in memory
            raise RuntimeError("simulated crash")
        return real_reencrypt(ring, plan, row)

    monkeypatch.setattr(rotation, "_reencrypt_row", crash_midway_through_batch_two)
    first = runner.invoke(args=["keys", "rotate", "--batch-size", str(BATCH), "--grace", "0"])
    assert first.exit_code != 0 and isinstance(first.exception, RuntimeError)
    assert "after 50 rows" in first.stderr and "keys rotate --resume" in first.stderr
    monkeypatch.setattr(rotation, "_reencrypt_row", real_reencrypt)

    ring = current_keys().ring
    new_data, new_index = ring.active_key_id, ring.active_index_key_id
    assert (new_data, new_index) != (old_data, old_index)
    on_disk = json.loads(open(own_keys).read())["encryption"]
    assert on_disk["active"] == new_data and on_disk["active_index"] == new_index  # saved before any row moved
    counts = usage().data["users.totp_secret"]
    moved = BATCH  # rows without a value are never pending, so batch one held 50 values
    assert counts == {old_data: non_null - moved, new_data: moved, rotation.OTHER: 0}
    read_back(stored)  # nothing lost: moved and unmoved rows both read

    refused = runner.invoke(args=["keys", "retire", old_data])
    assert refused.exit_code == 1
    assert f"{old_data} still protects" in refused.output and f"users.totp_secret: {non_null - moved}" in refused.output
    assert runner.invoke(args=["keys", "retire", old_index]).exit_code == 1

    resumed = runner.invoke(args=["keys", "rotate", "--resume", "--batch-size", str(BATCH)])
    assert resumed.exit_code == 0, resumed.output
    assert current_keys().ring.active_key_id == new_data  # --resume adds no key
    final = usage()
    assert final.data["users.totp_secret"] == {old_data: 0, new_data: non_null, rotation.OTHER: 0}
    assert final.index["users.email"] == {old_index: 0, new_index: non_null, rotation.OTHER: 0}
    read_back(stored)
    raw = db.session.execute(text("SELECT totp_secret_enc FROM users WHERE totp_secret_enc IS NOT NULL")).scalars()
    assert {crypto.KeyRing.key_id_of_raw(bytes(b)) for b in raw} == {new_data}

    again = runner.invoke(args=["keys", "rotate", "--resume"])
    assert again.exit_code == 0 and "re-encrypted 0 values" in again.output

    for key_id in (old_data, old_index):
        retired = runner.invoke(args=["keys", "retire", key_id])
        assert retired.exit_code == 0, retired.output
    material = json.loads(open(own_keys).read())["encryption"]
    assert [k["id"] for k in material["data_keys"]] == [new_data]
    assert [k["id"] for k in material["index_keys"]] == [new_index]
    # The saved file alone reads everything back.
    current_app_keys = load_keys(own_keys)
    for user_id, secret in stored.items():
        blob = db.session.get(User, user_id).totp_secret_enc
        if secret is not None:
            assert current_app_keys.ring.decrypt_raw(blob, table="users", column="totp_secret",
                                                     row_id=user_id).decode() == secret

    events = db.session.execute(select(AuditEvent).where(AuditEvent.action.like("keys.%"))
                                .order_by(AuditEvent.seq)).scalars().all()
    assert [(e.action, e.outcome) for e in events] == [
        ("keys.rotate", "interrupted"), ("keys.rotate", "success"), ("keys.rotate", "success"),
        ("keys.retire", "success"), ("keys.retire", "success")]
    assert events[0].details_dict["rows"] == BATCH and events[1].details_dict["rows"] == non_null - BATCH
    assert all("ROTATE" not in (e.details or "") for e in events)


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_interrupted_by_the_operator_then_resumed(app, stored_without_index, monkeypatch, how):
    stored = stored_without_index
    runner = app.test_cli_runner()
    sigterm_before = signal.getsignal(signal.SIGTERM)
    real_commit, commits = db.session.commit, []

    def interrupted_commit():
        commits.append(1)
        if len(commits) == 3:  # the count, batch one, then the operator stops batch two before it commits
            if how == "kill":
                os.kill(os.getpid(), signal.SIGTERM)  # the command turns it into an interrupt
            raise KeyboardInterrupt
        real_commit()

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", interrupted_commit)
        stopped = runner.invoke(args=["keys", "rotate", "--batch-size", str(BATCH), "--grace", "0"])
    assert stopped.exit_code == 1 and "rotation stopped (KeyboardInterrupt) after 50 rows" in stopped.output
    assert signal.getsignal(signal.SIGTERM) is sigterm_before  # the command put the handler back
    partial = usage().data_totals()
    assert partial[current_keys().ring.active_key_id] == BATCH
    resumed = runner.invoke(args=["keys", "rotate", "--resume", "--batch-size", "1000"])
    assert resumed.exit_code == 0, resumed.output
    active, totals = current_keys().ring.active_key_id, usage().data_totals()
    assert totals[active] == sum(v is not None for v in stored.values())
    assert not [n for k, n in totals.items() if k != active and n]
    read_back(stored)


def test_a_value_that_does_not_decrypt_stops_rotation_naming_the_cell(app, stored):
    victim = sorted(i for i, s in stored.items() if s)[0]
    db.session.execute(text("UPDATE users SET totp_secret_enc = :b WHERE id = :id"),
                       {"b": b"\x01\x02k1" + b"\x00" * 40, "id": victim})
    result = app.test_cli_runner().invoke(args=["keys", "rotate", "--grace", "0"])
    assert result.exit_code == 1
    assert f"users.totp_secret of row {victim} can't be re-encrypted" in result.output
    assert "ROTATE" not in result.output


def test_status_counts_every_key_and_unknown_values(app, stored):
    runner = app.test_cli_runner()
    ring = current_keys().ring
    non_null = sum(v is not None for v in stored.values())
    out = runner.invoke(args=["keys", "status"])
    assert out.exit_code == 0
    assert f"active {ring.active_key_id}" in out.output
    row = next(line for line in out.output.splitlines() if line.startswith("users.totp_secret"))
    assert row.split()[1:] == [str(non_null)]
    # A value under a key this file doesn't hold is counted apart (and can't be read).
    stranger = crypto.KeyRing.generate()
    stranger.add_data_key(), stranger.add_data_key()
    victim = next(i for i, s in stored.items() if s)
    db.session.execute(text("UPDATE users SET totp_secret_enc = :b WHERE id = :id"), {
        "b": stranger.encrypt_raw(b"x", table="users", column="totp_secret", row_id=victim), "id": victim})
    out = runner.invoke(args=["keys", "status"])
    row = next(line for line in out.output.splitlines() if line.startswith("users.totp_secret"))
    assert row.split()[1:] == [str(non_null - 1), "1"] and rotation.OTHER in out.output


def test_retire_refuses_the_active_key_and_unknown_ids(app, own_keys):
    runner = app.test_cli_runner()
    ring = current_keys().ring
    active = runner.invoke(args=["keys", "retire", ring.active_key_id])
    assert active.exit_code == 1 and "is the active key" in active.output
    unknown = runner.invoke(args=["keys", "retire", "k99"])
    assert unknown.exit_code == 1 and "no key 'k99'" in unknown.output


def test_rewrap_kek_in_the_key_file(app, stored, own_keys):
    before = json.loads(open(own_keys).read())["encryption"]
    result = app.test_cli_runner().invoke(args=["keys", "rewrap-kek"])
    assert result.exit_code == 0 and own_keys in result.output
    after = json.loads(open(own_keys).read())["encryption"]
    assert after["kek"] != before["kek"] and after["kek"] not in result.output
    assert [k["wrapped"] for k in after["data_keys"]] != [k["wrapped"] for k in before["data_keys"]]
    with pytest.raises(crypto.CryptoError):  # the old KEK no longer unwraps the saved keys
        crypto.KeyRing.from_material({**after, "kek": before["kek"]})
    read_back(stored)
    reloaded = load_keys(own_keys)
    victim = next(i for i, s in stored.items() if s)
    blob = db.session.get(User, victim).totp_secret_enc
    assert reloaded.ring.decrypt_raw(blob, table="users", column="totp_secret", row_id=victim).decode() == stored[victim]


def test_rewrap_kek_kept_in_the_environment(app, tmp_path, monkeypatch):
    original = app.extensions["clinician_keys"]
    material = original.to_material()
    kek = material["encryption"].pop("kek")
    path = tmp_path / "keys.json"
    write_material(path, material)  # the file holds only wrapped keys
    monkeypatch.setenv("CLINICIAN_KEK", kek)
    app.extensions["clinician_keys"] = load_keys(str(path))
    try:
        result = app.test_cli_runner().invoke(args=["keys", "rewrap-kek"])
    finally:
        app.extensions["clinician_keys"] = original
    assert result.exit_code == 0, result.output
    new_kek = result.output.split("restart them:\n", 1)[1].splitlines()[0]
    saved = json.loads(path.read_text())
    assert "kek" not in saved["encryption"]  # never written next to the keys it wraps
    assert load_keys(str(path), {"CLINICIAN_KEK": new_kek}).ring.data_key_ids == original.ring.data_key_ids
    with pytest.raises(Exception, match="wrong key-encryption key"):
        load_keys(str(path), {"CLINICIAN_KEK": kek})


def test_running_process_picks_up_a_changed_key_file(app, own_keys, caplog):
    keys = current_keys()
    elsewhere = load_keys(own_keys)  # another process (e.g. `keys rotate`) adds a key
    new_id = elsewhere.ring.add_data_key()
    elsewhere.save()
    keys.next_check = time.monotonic() + 60
    assert current_keys() is keys  # checked at most every RELOAD_INTERVAL_SECONDS
    keys.next_check = 0
    fresh = current_keys()
    assert fresh is not keys and fresh.ring.active_key_id == new_id and app.extensions["clinician_keys"] is fresh
    assert fresh.next_check > time.monotonic()
    assert current_keys() is fresh
    # A half-written or unusable file leaves the keys in use as they are, with a warning.
    with open(own_keys, "w") as handle:
        handle.write('{"secret_key": ')
    fresh.next_check = 0
    with caplog.at_level(logging.WARNING, logger="clinician_app.core.keyfile"):
        assert current_keys() is fresh
    assert "keeping the keys in use" in caplog.text
    fresh.next_check = 0
    assert current_keys() is fresh  # warned once per change, not retried on every check


def test_saving_keys_does_not_trigger_a_reload_in_the_saving_process(app, own_keys):
    keys = current_keys()
    keys.ring.add_index_key()
    keys.save()
    keys.next_check = 0
    assert current_keys() is keys
