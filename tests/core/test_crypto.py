"""The field-encryption key ring (SECURITY.md promises 8-11): round trips, binding to
the cell, tamper and wrong-key failures, rotation of data, index and key-encryption
keys, and the blind index. Needs no app and no database."""
from __future__ import annotations

import base64
import binascii
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clinician_app.core import crypto
from clinician_app.core.crypto import (
    CryptoError,
    DecryptionError,
    KeyRing,
    MissingKeyError,
    new_key_material,
    normalise_for_index,
)

RING = KeyRing.from_material(new_key_material())
OTHER_RING = KeyRing.from_material(new_key_material())
CELL = {"table": "persons", "column": "narrative", "row_id": "0b7a4a8e-3f4e-4c55-9d0e-2a6d5f1c9b11"}
SENTINEL = "SENTINEL-Jane-Roe-1984-03-07"
names = st.from_regex(r"[A-Za-z0-9_]{1,20}", fullmatch=True)


def token_parts(token: str) -> tuple[str, str, bytes]:
    version, key_id, body = token.split(":", 2)
    return version, key_id, base64.b64decode(body, validate=True)


def with_blob(token: str, blob: bytes) -> str:
    version, key_id, _ = token_parts(token)
    return f"{version}:{key_id}:{base64.b64encode(blob).decode()}"


# -- round trips ---------------------------------------------------------------------
@given(st.text())
def test_any_text_round_trips(text):
    token = RING.encrypt(text, **CELL)
    assert token.isascii() and token.isprintable()
    assert RING.decrypt(token, **CELL) == text


@given(st.binary())
def test_any_bytes_round_trip(data):
    assert RING.decrypt_bytes(RING.encrypt_bytes(data, **CELL), **CELL) == data


@pytest.mark.parametrize("text", ["", " ", "\x00", "Zoë Ñúñez", "李小龍", "🙂‍↔️ family", "a" * 1_000_000, "é\n" * 5000])
def test_edge_texts_round_trip(text):
    token = RING.encrypt(text, **CELL)
    assert token.startswith(f"v1:{RING.active_key_id}:") and token.isascii()
    assert RING.decrypt(token, **CELL) == text


def test_empty_string_is_a_value_and_none_is_not():
    assert RING.decrypt(RING.encrypt("", **CELL), **CELL) == ""
    with pytest.raises(TypeError):
        RING.encrypt(None, **CELL)
    with pytest.raises(TypeError):
        RING.encrypt_bytes(None, **CELL)
    with pytest.raises(TypeError):
        RING.encrypt_bytes("text", **CELL)
    with pytest.raises(TypeError):
        RING.decrypt(None, **CELL)


def test_nonce_is_fresh_each_time():
    tokens = {RING.encrypt(SENTINEL, **CELL) for _ in range(200)}
    assert len(tokens) == 200
    assert len({token_parts(t)[2][:12] for t in tokens}) == 200


def test_token_layout():
    token = RING.encrypt("x" * 2048, **CELL)
    version, key_id, blob = token_parts(token)
    assert (version, key_id) == ("v1", RING.active_key_id)
    assert len(blob) == 12 + 2048 + 16
    assert RING.key_id_of(token) == key_id


@pytest.mark.parametrize("field, value", [("row_id", ""), ("row_id", None), ("row_id", 42), ("table", "a|b"),
                                          ("column", "a.b"), ("table", ""), ("column", None)])
def test_cell_must_be_well_formed(field, value):
    with pytest.raises((TypeError, ValueError)):
        RING.encrypt("x", **{**CELL, field: value})


# -- integrity and binding -------------------------------------------------------------
@given(st.text(max_size=300), st.data())
def test_a_flipped_bit_in_the_ciphertext_fails(text, data):
    token = RING.encrypt(text, **CELL)
    blob = bytearray(token_parts(token)[2])
    bit = data.draw(st.integers(0, len(blob) * 8 - 1))
    blob[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError):
        RING.decrypt(with_blob(token, bytes(blob)), **CELL)


@given(st.text(max_size=100), st.data())
def test_a_flipped_bit_anywhere_in_the_token_fails(text, data):
    token = RING.encrypt(text, **CELL)
    raw = bytearray(token.encode())
    bit = data.draw(st.integers(0, len(raw) * 8 - 1))
    raw[bit // 8] ^= 1 << (bit % 8)
    altered = raw.decode("latin-1")
    # a change in the key id names a key this ring lacks; anything else is a bad token
    expected = MissingKeyError if 3 <= bit // 8 < 5 else DecryptionError
    with pytest.raises(expected):
        RING.decrypt(altered, **CELL)


@given(st.text(max_size=100), st.integers(min_value=1, max_value=200))
def test_truncated_or_extended_tokens_fail(text, cut):
    token = RING.encrypt(text, **CELL)
    with pytest.raises(CryptoError):
        RING.decrypt(token[:-cut], **CELL)
    for suffix in ("A", "AAAA", "=", "\n", " "):
        with pytest.raises(DecryptionError):
            RING.decrypt(token + suffix, **CELL)


def test_another_key_ring_cannot_decrypt():
    token = RING.encrypt(SENTINEL, **CELL)
    assert OTHER_RING.key_id_of(token) == "k1"  # same id, different key
    with pytest.raises(DecryptionError):
        OTHER_RING.decrypt(token, **CELL)


@given(st.text(max_size=50), st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_token_moved_to_another_row_fails(text, row_a, row_b):
    if row_a == row_b:
        return
    token = RING.encrypt(text, table="persons", column="name", row_id=row_a)
    with pytest.raises(DecryptionError):
        RING.decrypt(token, table="persons", column="name", row_id=row_b)


@given(names, names, names, names)
def test_token_moved_to_another_table_or_column_fails(table_a, column_a, table_b, column_b):
    if (table_a, column_a) == (table_b, column_b):
        return
    token = RING.encrypt(SENTINEL, table=table_a, column=column_a, row_id="r1")
    with pytest.raises(DecryptionError):
        RING.decrypt(token, table=table_b, column=column_b, row_id="r1")


def test_swapping_two_rows_ciphertexts_fails_both_ways():
    a = RING.encrypt("Alice", table="persons", column="name", row_id="row-a")
    b = RING.encrypt("Bob", table="persons", column="name", row_id="row-b")
    for token, row in ((a, "row-b"), (b, "row-a")):
        with pytest.raises(DecryptionError):
            RING.decrypt(token, table="persons", column="name", row_id=row)


def test_ambiguous_cells_are_distinct():
    token = RING.encrypt(SENTINEL, table="persons", column="name", row_id="a|b")
    with pytest.raises(DecryptionError):
        RING.decrypt(token, table="persons", column="name", row_id="a")


# -- malformed tokens ------------------------------------------------------------------
GOOD = RING.encrypt("hello!", **CELL)  # 34 bytes: the body ends in "=="
GOOD_BODY = GOOD.split(":", 2)[2]


@pytest.mark.parametrize("token", [
    "", "v1", "v1:k1", "v1:k1:", ":::", "v2:k1:" + GOOD_BODY, "V1:k1:" + GOOD_BODY, "v1:k1:AAAA",
    "v1:k1:" + "A" * 36, "v1:k1:" + GOOD_BODY.rstrip("="), "v1:k1:" + GOOD_BODY + "=", "v1:k1:" + GOOD_BODY + "====",
    "v1:k1:" + GOOD_BODY[:-1],
    "v1:k1: " + GOOD_BODY, "v1:k1:" + GOOD_BODY[:4] + "é" + GOOD_BODY[5:], "v1:k1:" + GOOD_BODY[:8] + "\n" + GOOD_BODY[8:],
    "hello", "v1:k1:!!!!", "v1:k1:" + GOOD_BODY + ":" + GOOD_BODY,
])
def test_malformed_tokens_raise_decryption_error(token):
    with pytest.raises(DecryptionError):
        RING.decrypt(token, **CELL)


def test_url_safe_spelling_is_refused():
    token = next(t for t in (RING.encrypt("x" * 60, **CELL) for _ in range(100)) if "+" in t or "/" in t)
    with pytest.raises(DecryptionError):
        RING.decrypt(token.replace("+", "-").replace("/", "_"), **CELL)


def test_non_canonical_base64_is_refused():
    # the same bytes spelt with non-zero unused bits in the last character
    for length in (1, 3, 4, 6):  # 28 + length bytes: bodies with one or two "="
        token = RING.encrypt("x" * length, **CELL)
        body = token.split(":", 2)[2]
        pos = len(body) - 1 - body.count("=")
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        twin = body[:pos] + alphabet[alphabet.index(body[pos]) ^ 1] + body[pos + 1:]
        assert binascii.a2b_base64(twin) == binascii.a2b_base64(body)
        with pytest.raises(DecryptionError):
            RING.decrypt(token.replace(body, twin), **CELL)


@settings(max_examples=300)
@given(st.text())
def test_arbitrary_text_is_never_accepted(token):
    with pytest.raises(CryptoError):
        RING.decrypt(token, **CELL)
    try:
        assert RING.key_id_of(token)
    except DecryptionError:
        pass


def test_unknown_key_id_is_a_missing_key():
    with pytest.raises(MissingKeyError, match="k9"):
        RING.decrypt("v1:k9:" + GOOD_BODY, **CELL)
    with pytest.raises(DecryptionError):
        RING.key_id_of("not a token")


def test_non_utf8_plaintext_fails_without_quoting_it():
    token = RING.encrypt_bytes(b"\xffSENTINEL\xfe", **CELL)
    with pytest.raises(DecryptionError) as info:
        RING.decrypt(token, **CELL)
    assert "SENTINEL" not in str(info.value) and "\\x" not in str(info.value)


def test_errors_never_carry_plaintext_or_keys():
    material = new_key_material()
    token = RING.encrypt(SENTINEL, **CELL)
    failures = []
    for call in (lambda: OTHER_RING.decrypt(token, **CELL),
                 lambda: RING.decrypt(token, **{**CELL, "row_id": "other"}),
                 lambda: RING.encrypt("\ud800" + SENTINEL, **CELL),
                 lambda: RING.blind_index("\ud800" + SENTINEL, table="persons", column="name"),
                 lambda: KeyRing.from_material({**material, "kek": new_key_material()["kek"]})):
        with pytest.raises((CryptoError, ValueError)) as info:
            call()
        failures.append(info.value)
    for exc in failures:
        text = f"{exc} {exc!r} {exc.__cause__!r} {exc.__context__!r}"
        assert SENTINEL not in text and "\ud800" not in text
        assert material["kek"] not in text and material["data_keys"][0]["wrapped"] not in text
    assert material["kek"] not in repr(KeyRing.from_material(material))


# -- key material ------------------------------------------------------------------------
def test_material_is_json_and_round_trips():
    material = new_key_material()
    assert material["active"] == "k1" and material["active_index"] == "i1"
    ring = KeyRing.from_material(json.loads(json.dumps(material)))
    token = ring.encrypt(SENTINEL, **CELL)
    again = KeyRing.from_material(json.loads(json.dumps(ring.to_material())))
    assert again.decrypt(token, **CELL) == SENTINEL
    assert again.blind_index("x", table="t", column="c") == ring.blind_index("x", table="t", column="c")
    assert ring.to_material() == material  # stable: no re-wrapping on save


def test_wrong_kek_is_refused():
    material = new_key_material()
    with pytest.raises(DecryptionError, match="KEK"):
        KeyRing.from_material({**material, "kek": new_key_material()["kek"]})


@pytest.mark.parametrize("field", ["kek", "data_keys", "active", "index_keys", "active_index"])
def test_incomplete_material_names_what_is_missing(field):
    material = new_key_material()
    del material[field]
    with pytest.raises(MissingKeyError, match=field):
        KeyRing.from_material(material)


@pytest.mark.parametrize("change, error", [
    (lambda m: m.update(active="k7"), MissingKeyError),
    (lambda m: m.update(active_index="k1"), MissingKeyError),
    (lambda m: m.update(kek="not base64!"), CryptoError),
    (lambda m: m.update(kek=base64.b64encode(b"short").decode()), CryptoError),
    (lambda m: m.update(format=2), CryptoError),
    (lambda m: m["data_keys"][0].update(id="k2"), DecryptionError),  # renamed: AAD no longer fits
    (lambda m: m["data_keys"][0].update(wrapped=m["index_keys"][0]["wrapped"]), DecryptionError),
    (lambda m: m["data_keys"][0].update(wrapped=m["data_keys"][0]["wrapped"][:-8] + "AAAAAAA="), DecryptionError),
    (lambda m: m["data_keys"].append(dict(m["data_keys"][0])), CryptoError),
    (lambda m: m["data_keys"].append({"id": "k2"}), MissingKeyError),
    (lambda m: m["index_keys"].append(dict(m["data_keys"][0])), DecryptionError),  # wrapping is bound to its role
])
def test_bad_material_is_refused(change, error):
    material = json.loads(json.dumps(new_key_material()))
    change(material)
    with pytest.raises(error):
        KeyRing.from_material(material)


def test_material_must_be_an_object():
    with pytest.raises(MissingKeyError):
        KeyRing.from_material(None)


def test_kek_can_be_kept_apart():
    ring = KeyRing.generate()
    without = ring.to_material(include_kek=False)
    assert "kek" not in without
    with pytest.raises(MissingKeyError, match="kek"):
        KeyRing.from_material(without)
    KeyRing.from_material({**without, "kek": ring.to_material()["kek"]})


# -- rotation -----------------------------------------------------------------------------
def test_add_data_key_keeps_old_tokens_and_uses_the_new_id():
    ring = KeyRing.generate()
    old = ring.encrypt(SENTINEL, **CELL)
    assert ring.add_data_key() == "k2" and ring.active_key_id == "k2"
    new = ring.encrypt(SENTINEL, **CELL)
    assert ring.key_id_of(old) == "k1" and ring.key_id_of(new) == "k2"
    reloaded = KeyRing.from_material(ring.to_material())
    for r in (ring, reloaded):
        assert r.decrypt(old, **CELL) == r.decrypt(new, **CELL) == SENTINEL
    assert reloaded.active_key_id == "k2" and reloaded.data_key_ids == ["k1", "k2"]


def test_reencrypt_then_retire():
    ring = KeyRing.generate()
    old = ring.encrypt(SENTINEL, **CELL)
    ring.decrypt(old, **CELL)  # warm the k1 cache, which retiring must drop
    ring.add_data_key()
    moved = ring.reencrypt(old, **CELL)
    assert ring.key_id_of(moved) == "k2" and ring.reencrypt(moved, **CELL) == moved
    with pytest.raises(CryptoError):
        ring.retire_data_key("k2")  # the active key
    ring.retire_data_key("k1")
    assert ring.decrypt(moved, **CELL) == SENTINEL
    with pytest.raises(MissingKeyError):
        ring.decrypt(old, **CELL)
    with pytest.raises(MissingKeyError):
        ring.retire_data_key("k1")
    assert ring.add_data_key() == "k3"


def test_rewrap_changes_wrapped_values_and_keeps_everything_readable():
    ring = KeyRing.generate()
    ring.add_data_key()
    token = ring.encrypt(SENTINEL, **CELL)
    index = ring.blind_index("Jane Roe", table="persons", column="name")
    before = ring.to_material()
    new_kek = bytes(range(32))
    ring.rewrap(new_kek)
    after = ring.to_material()
    assert after["kek"] == base64.b64encode(new_kek).decode() != before["kek"]
    for list_name in ("data_keys", "index_keys"):
        assert [k["id"] for k in after[list_name]] == [k["id"] for k in before[list_name]]
        assert all(a["wrapped"] != b["wrapped"] for a, b in zip(after[list_name], before[list_name], strict=True))
    for r in (ring, KeyRing.from_material(after)):
        assert r.decrypt(token, **CELL) == SENTINEL
        assert r.blind_index("jane  roe", table="persons", column="name") == index
    with pytest.raises(DecryptionError):  # the old KEK no longer opens the new wrapping
        KeyRing.from_material({**after, "kek": before["kek"]})
    ring.rewrap()
    assert ring.to_material()["kek"] != after["kek"]
    with pytest.raises(CryptoError):
        ring.rewrap(b"too short")


def test_no_active_key_refuses_to_encrypt():
    ring = KeyRing.generate()
    ring._active[crypto.DATA] = None  # only reachable by a bug; the guard is defence in depth
    with pytest.raises(MissingKeyError):
        ring.encrypt("x", **CELL)


def test_subkeys_are_derived_once_per_key_and_column(monkeypatch):
    calls = []
    real = crypto._subkey
    monkeypatch.setattr(crypto, "_subkey", lambda key, info: calls.append(info) or real(key, info))
    ring = KeyRing.generate()
    for i in range(50):
        ring.decrypt(ring.encrypt("x", table="persons", column="name", row_id=str(i)),
                     table="persons", column="name", row_id=str(i))
        ring.encrypt("x", table="persons", column="alias", row_id=str(i))
        ring.blind_index(str(i), table="persons", column="name")
    assert sorted(calls) == ["index:persons.name", "persons.alias", "persons.name"]


# -- blind index --------------------------------------------------------------------------
def bidx(value, column="name", table="persons", **kw):
    return RING.blind_index(value, table=table, column=column, **kw)


@pytest.mark.parametrize("variant", ["John Smith", "john smith", "JOHN SMITH", "  John   Smith ", "John\tSMITH\n",
                                     "Ｊｏｈｎ Ｓｍｉｔｈ", "john\u00a0smith", "John\u2003Smith"])
def test_blind_index_ignores_case_width_and_spacing(variant):
    assert bidx(variant) == bidx("John Smith")


def test_blind_index_folds_unicode_case():
    assert bidx("STRASSE") == bidx("straße")
    assert bidx("Zoë") == bidx("ZOE\u0308")  # composed and decomposed


@pytest.mark.parametrize("other", ["John", "Smith", "John Smit", "JohnSmith", "John Smith Jr", "Jon Smith"])
def test_blind_index_differs_for_other_and_partial_names(other):
    assert bidx(other) != bidx("John Smith")


def test_blind_index_differs_across_columns_tables_and_rings():
    values = {bidx("John Smith"), bidx("John Smith", column="alias"), bidx("John Smith", table="contacts"),
              OTHER_RING.blind_index("John Smith", table="persons", column="name")}
    assert len(values) == 4


@given(st.integers(1, 256), st.text(max_size=30))
def test_blind_index_truncates_to_the_requested_bits(bits, value):
    index = bidx(value, bits=bits)
    assert len(index) == (bits + 3) // 4 and index == index.lower()
    assert int(index, 16) < 2 ** bits
    assert int(bidx(value, bits=256), 16) >> (256 - bits) == int(index, 16)  # same HMAC, cut


def test_blind_index_default_is_32_bits():
    assert len(bidx("x")) == 8


@pytest.mark.parametrize("bits", [0, -1, 257, True, 8.0, "32"])
def test_blind_index_bits_must_be_sensible(bits):
    with pytest.raises(ValueError):
        bidx("x", bits=bits)


def test_blind_index_spreads_over_its_range():
    indexes = [bidx(f"person {i}", bits=4) for i in range(2000)]
    counts = [indexes.count(f"{n:x}") for n in range(16)]
    assert min(counts) > 60  # ~125 each; a constant or biased index would fail


def test_blind_index_rejects_none():
    with pytest.raises(TypeError):
        bidx(None)


def test_index_key_rotation():
    ring = KeyRing.generate()
    old = ring.blind_index("Jane Roe", table="persons", column="name")
    assert ring.add_index_key() == "i2" and ring.active_index_key_id == "i2"
    assert ring.blind_index("Jane Roe", table="persons", column="name") != old
    assert ring.blind_index("jane roe", table="persons", column="name", key_id="i1") == old
    ring.retire_index_key("i1")
    with pytest.raises(MissingKeyError):
        ring.blind_index("Jane Roe", table="persons", column="name", key_id="i1")
    with pytest.raises(CryptoError):
        ring.retire_index_key("i2")


@given(st.text())
def test_normalisation_is_idempotent_and_decides_the_index(value):
    once = normalise_for_index(value)
    assert normalise_for_index(once) == once
    assert once == once.strip() and "  " not in once
    assert bidx(value) == bidx(once)


def test_normalise_examples():
    assert normalise_for_index("  Ｍａｒｉａ\t DE  la\u00a0CRUZ ") == "maria de la cruz"
    assert normalise_for_index("") == normalise_for_index("   ") == ""


# -- binary tokens (LargeBinary columns; the path EncryptedField takes) -----------------
@given(st.binary())
def test_any_bytes_round_trip_as_a_binary_token(data):
    blob = RING.encrypt_raw(data, **CELL)
    assert isinstance(blob, bytes) and RING.decrypt_raw(blob, **CELL) == data
    assert RING.decrypt_raw(bytearray(blob), **CELL) == data == RING.decrypt_raw(memoryview(blob), **CELL)


def test_binary_token_layout():
    blob = RING.encrypt_raw(SENTINEL.encode(), **CELL)
    key_id = RING.active_key_id.encode()
    assert blob[0] == crypto.RAW_VERSION and blob[1] == len(key_id) and blob[2:2 + len(key_id)] == key_id
    assert len(blob) == 2 + len(key_id) + 12 + len(SENTINEL.encode()) + 16
    assert KeyRing.key_id_of_raw(blob) == RING.active_key_id
    assert SENTINEL.encode() not in blob and RING.encrypt_raw(SENTINEL.encode(), **CELL)[-40:] != blob[-40:]


@given(st.binary(max_size=100), st.data())
def test_a_flipped_bit_anywhere_in_a_binary_token_fails(data, draw):
    blob = bytearray(RING.encrypt_raw(data, **CELL))
    position = draw.draw(st.integers(0, len(blob) * 8 - 1))
    blob[position // 8] ^= 1 << (position % 8)
    with pytest.raises(CryptoError):  # DecryptionError, or MissingKeyError for a changed key id
        RING.decrypt_raw(bytes(blob), **CELL)


@given(st.binary(max_size=60))
def test_arbitrary_bytes_are_never_accepted_as_a_binary_token(blob):
    with pytest.raises(CryptoError):
        RING.decrypt_raw(blob, **CELL)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01\x02k1", b"\x01\x02k1" + b"\x00" * 27, b"\x02\x02k1" + b"\x00" * 40,
                                  b"\x01\x00" + b"\x00" * 40, b"\x01\x02k\xff" + b"\x00" * 40, "v1:k1:abc", None, 5])
def test_malformed_binary_tokens_raise_decryption_error(blob):
    with pytest.raises(DecryptionError):
        RING.decrypt_raw(blob, **CELL)
    with pytest.raises(DecryptionError):
        KeyRing.key_id_of_raw(blob)


def test_binary_token_is_bound_to_its_cell_and_ring():
    blob = RING.encrypt_raw(SENTINEL.encode(), **CELL)
    for other in ({**CELL, "row_id": "another"}, {**CELL, "column": "alias"}, {**CELL, "table": "cases"}):
        with pytest.raises(DecryptionError) as info:
            RING.decrypt_raw(blob, **other)
        assert SENTINEL not in str(info.value)
    with pytest.raises(DecryptionError):
        OTHER_RING.decrypt_raw(blob, **CELL)
    with pytest.raises(ValueError):
        RING.encrypt_raw(b"x", **{**CELL, "row_id": ""})
    with pytest.raises(TypeError):
        RING.encrypt_raw(SENTINEL, **CELL)


def test_binary_tokens_follow_key_rotation_and_retirement():
    ring = KeyRing.generate()
    old = ring.encrypt_raw(b"value", **CELL)
    ring.decrypt_raw(old, **CELL)  # warm both caches, which adding and retiring must reset
    assert ring.add_data_key() == "k2"
    new = ring.encrypt_raw(b"value", **CELL)
    assert KeyRing.key_id_of_raw(new) == "k2" and ring.decrypt_raw(old, **CELL) == b"value"
    moved = ring.reencrypt_raw(old, **CELL)
    assert KeyRing.key_id_of_raw(moved) == "k2" and ring.reencrypt_raw(moved, **CELL) is moved
    ring.retire_data_key("k1")
    assert ring.decrypt_raw(moved, **CELL) == b"value"
    with pytest.raises(MissingKeyError):
        ring.decrypt_raw(old, **CELL)
