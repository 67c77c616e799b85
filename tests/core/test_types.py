"""The protected-field layer (SECURITY.md promises 8-10), through a real model
(``User.totp_secret``) on the test database: what is stored, what is refused, and
that every failure to decrypt raises instead of returning something."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from clinician_app.auth.models import User
from clinician_app.core import crypto, types
from clinician_app.core.keyfile import current_keys, load_keys, new_material, write_material
from clinician_app.core.types import (
    BlindIndexField,
    EncryptedField,
    ProtectedFieldError,
    blind_index,
    blind_index_candidates,
)
from clinician_app.extensions import db

SECRET = "SENTINEL-Zoë-Ağaoğlu-名前-🙂"


def raw_cell(user_id: str) -> bytes | None:
    """The stored bytes, read with plain SQL (no ORM, no descriptor)."""
    value = db.session.execute(text("SELECT totp_secret_enc FROM users WHERE id = :id"), {"id": user_id}).scalar()
    return None if value is None else bytes(value)


def write_raw(user_id: str, blob: bytes | None) -> None:
    """Bypasses the ORM and its flush guard, as a tampering attacker would."""
    db.session.execute(text("UPDATE users SET totp_secret_enc = :b WHERE id = :id"), {"b": blob, "id": user_id})
    db.session.expire_all()


@pytest.fixture()
def user(app_ctx, agencies, make_user):
    return make_user(agencies["A"], "clinician", enrolled=False)


@pytest.mark.parametrize("value", [SECRET, "", "x" * 5000, "line\nbreak\ttab \x00 nul"])
def test_round_trip_through_the_database(user, value):
    user.totp_secret = value
    db.session.flush()
    db.session.expire_all()
    assert user.totp_secret == value
    stored = raw_cell(user.id)
    assert stored is not None and stored[0] == crypto.RAW_VERSION
    assert crypto.KeyRing.key_id_of_raw(stored) == current_keys().ring.active_key_id
    if value:
        assert value.encode() not in stored


def test_none_is_stored_as_null_and_read_as_none(user):
    user.totp_secret = SECRET
    db.session.flush()
    user.totp_secret = None
    db.session.flush()
    assert raw_cell(user.id) is None and user.totp_secret is None


def test_raw_database_never_holds_the_plaintext(user):
    user.totp_secret = SECRET
    db.session.flush()
    stored = raw_cell(user.id)
    for form in (SECRET.encode(), SECRET.encode("utf-16-le"), SECRET.encode().hex().encode(), b"SENTINEL"):
        assert form not in stored
    # Two writes of the same value differ (fresh nonce): equal values can't be spotted.
    user.totp_secret = SECRET
    db.session.flush()
    assert raw_cell(user.id) != stored


def test_type_errors_are_refused_before_anything_is_stored(user):
    with pytest.raises(TypeError):
        user.totp_secret = 123456
    with pytest.raises(ValueError, match="lone surrogate") as info:
        user.totp_secret = "bad \ud800 text"
    assert "bad" not in str(info.value)
    assert user.totp_secret_enc is None


def test_id_is_assigned_before_the_first_encrypted_write(app_ctx, agencies):
    fresh = User(username="fresh.user", display_name="Fresh", agency_id=agencies["A"].id, password_hash="x")
    assert fresh.id is None
    fresh.totp_secret = SECRET
    assigned = fresh.id
    assert assigned
    db.session.add(fresh)
    db.session.flush()
    db.session.expire_all()
    assert fresh.id == assigned and fresh.totp_secret == SECRET  # the insert kept the id the token is bound to


def test_ciphertext_copied_to_another_row_does_not_decrypt(user, agencies, make_user):
    other = make_user(agencies["A"], "clinician", enrolled=False)
    user.totp_secret = SECRET
    db.session.flush()
    write_raw(other.id, raw_cell(user.id))
    with pytest.raises(crypto.DecryptionError) as info:
        _ = other.totp_secret
    assert SECRET not in str(info.value)
    # Through the ORM too: the guard accepts a well-formed token, the binding still refuses it.
    other.totp_secret_enc = user.totp_secret_enc
    db.session.flush()
    with pytest.raises(crypto.DecryptionError):
        _ = other.totp_secret


@pytest.mark.parametrize("damage", ["flip_last", "flip_nonce", "truncate", "header", "empty"])
def test_corrupted_ciphertext_raises_on_read(user, damage):
    user.totp_secret = SECRET
    db.session.flush()
    blob = bytearray(raw_cell(user.id))
    if damage == "flip_last":
        blob[-1] ^= 0x01
    elif damage == "flip_nonce":
        blob[5] ^= 0x80
    elif damage == "truncate":
        blob = blob[:20]
    elif damage == "header":
        blob[0] = 0x02
    else:
        blob = bytearray()
    write_raw(user.id, bytes(blob))
    with pytest.raises(crypto.DecryptionError) as info:
        _ = user.totp_secret
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("raw", [SECRET.encode(), b"", b"\x01\x02k1short", "a str, not bytes"])
def test_assigning_plaintext_to_the_raw_column_is_refused_at_flush(user, raw):
    user.totp_secret = "kept"
    db.session.commit()  # a savepoint release here: the rollback below undoes only what follows
    before = raw_cell(user.id)
    user.totp_secret_enc = raw
    with pytest.raises(ProtectedFieldError, match=r"Assign the plaintext field \(totp_secret\)") as info:
        db.session.flush()
    assert SECRET not in str(info.value)
    db.session.rollback()
    assert raw_cell(user.id) == before and user.totp_secret == "kept"


def test_a_token_under_a_key_the_ring_does_not_hold_is_refused_at_flush(user):
    stranger = crypto.KeyRing.generate()
    for _ in range(3):
        stranger.add_data_key()  # k4: not in the app's ring
    user.totp_secret_enc = stranger.encrypt_raw(SECRET.encode(), table="users", column="totp_secret", row_id=user.id)
    with pytest.raises(ProtectedFieldError):
        db.session.flush()
    db.session.rollback()


@pytest.fixture()
def swapped_keys(app):
    """Run a test with other keys in place of the app's, then put the app's back."""
    original = app.extensions["clinician_keys"]

    def swap(keys):
        app.extensions["clinician_keys"] = keys

    yield swap
    app.extensions["clinician_keys"] = original


def test_wrong_key_file_fails_closed_on_read(user, swapped_keys, tmp_path):
    user.totp_secret = SECRET
    db.session.flush()
    db.session.expire_all()
    wrong = tmp_path / "wrong.json"
    write_material(wrong, new_material())  # also has a "k1", but not this one
    swapped_keys(load_keys(str(wrong)))
    with pytest.raises(crypto.DecryptionError, match="cannot decrypt users.totp_secret") as info:
        _ = user.totp_secret
    assert SECRET not in str(info.value)


def test_key_missing_from_the_ring_fails_closed_on_read(user, swapped_keys, app):
    user.totp_secret = SECRET
    db.session.flush()
    keys = app.extensions["clinician_keys"]
    ring = crypto.KeyRing.from_material(keys.ring.to_material())
    ring.add_data_key()
    ring.retire_data_key(keys.ring.active_key_id)  # the key the value was written with
    swapped_keys(type(keys)(keys.secret_key, keys.audit_key, ring, None))
    db.session.expire_all()
    with pytest.raises(crypto.MissingKeyError, match="no data key"):
        _ = user.totp_secret


# --- a field of each kind on a plain object: the descriptor needs only __tablename__ and id

@pytest.fixture()
def scratch_registry(monkeypatch):
    """Classes declared inside a test register here, not in the app's registry."""
    monkeypatch.setattr(types, "REGISTRY", list(types.REGISTRY))
    monkeypatch.setattr(types, "BLIND_INDEXES", list(types.BLIND_INDEXES))


def test_json_field_round_trip_and_registration(app_ctx, scratch_registry):
    class Record:
        __tablename__ = "records"
        id = None
        aliases_enc = None
        notes_enc = None
        aliases = EncryptedField("aliases", kind="json")
        notes = EncryptedField()  # the attribute name is the field name

    assert [(e.model, e.name, e.kind) for e in types.REGISTRY[-2:]] == [
        (Record, "aliases", "json"), (Record, "notes", "text")]
    row = Record()
    value = {"names": ["Zoë", "名前"], "n": 3, "none": None}
    row.aliases = value
    assert row.id and isinstance(row.aliases_enc, bytes) and b"Zo" not in row.aliases_enc
    assert row.aliases == value and row.aliases is not value
    row.aliases = []
    assert row.aliases == []
    row.notes = SECRET
    assert row.notes == SECRET
    row.aliases = None
    assert row.aliases_enc is None and row.aliases is None
    with pytest.raises(ValueError):
        row.aliases = float("nan")
    with pytest.raises(ValueError, match="lone surrogate") as info:
        row.aliases = ["SENTINEL \ud800"]
    assert "SENTINEL" not in str(info.value) and info.value.__context__ is None
    # Decrypted bytes that are not of the field's kind raise, quoting nothing.
    row.aliases_enc = current_keys().ring.encrypt_raw(b"not json " + SECRET.encode(), table="records",
                                                      column="aliases", row_id=row.id)
    with pytest.raises(crypto.DecryptionError) as info:
        _ = row.aliases
    assert SECRET not in str(info.value) and info.value.__context__ is None


def test_field_names_are_checked():
    with pytest.raises(ValueError, match="kind"):
        EncryptedField("x", kind="pickle")


def test_blind_index_values_and_candidates(app, app_ctx, swapped_keys):
    a = blind_index("  Maria DE LA cruz ", table="persons", column="name_bidx", bits=16)
    b = blind_index("maria de la Cruz", table="persons", column="name_bidx", bits=16)
    ring = current_keys().ring
    assert a == b and a.startswith(f"{ring.active_index_key_id}:") and len(a.split(":")[1]) == 4
    assert blind_index("maria", table="persons", column="other_bidx", bits=16) != \
        blind_index("maria", table="persons", column="name_bidx", bits=16)
    assert blind_index_candidates("maria de la cruz", table="persons", column="name_bidx", bits=16) == [a]
    for bits in (0, 129, 16.0):
        with pytest.raises(ValueError):
            blind_index("x", table="persons", column="name_bidx", bits=bits)
    # During a rotation: one candidate per index key, the active key's first.
    keys = app.extensions["clinician_keys"]
    rotating = crypto.KeyRing.from_material(keys.ring.to_material())
    new_id = rotating.add_index_key()
    swapped_keys(type(keys)(keys.secret_key, keys.audit_key, rotating, None))
    candidates = blind_index_candidates("Maria de la Cruz", table="persons", column="name_bidx", bits=16)
    assert len(candidates) == len(rotating.index_key_ids) and candidates[0].startswith(f"{new_id}:") and a in candidates


def test_blind_index_field_refresh_and_candidates(app_ctx, scratch_registry):
    class Person:
        __tablename__ = "people_test"
        id = "0b7a4a8e-3f4e-4c55-9d0e-2a6d5f1c9b11"
        name = None
        name_bidx = None
        name_index = BlindIndexField("name_bidx", source=lambda p: p.name, bits=12)

    entry = types.BLIND_INDEXES[-1]
    assert (entry.model, entry.column, entry.bits) == (Person, "name_bidx", 12)
    person = Person()
    assert Person.name_index.refresh(person) is None and person.name_bidx is None
    person.name = "Jane  ROE"
    stored = person.name_index.refresh(person)
    assert person.name_bidx == stored == blind_index("jane roe", table="people_test", column="name_bidx", bits=12)
    assert stored in Person.name_index.candidates("jane roe")
    with pytest.raises(ValueError):
        BlindIndexField("x_bidx", source=lambda p: p, bits=200)
