"""How fast `keys rotate` moves stored values to a new key.

    .venv/bin/python bench/rotation_bench.py [--persons 100000] [--notes 300000] [--quick]
        [--note-bytes 2048] [--batch-size 500] [--database-url postgresql+psycopg://...]

Builds a scratch database (a temporary SQLite file, or a fresh schema in the given
PostgreSQL database, dropped afterwards) with two bench-only tables shaped like the
app's: persons (six short encrypted fields and a name+date-of-birth blind index, as
people.models.Person) and notes (one note-sized encrypted field). The values are
encrypted through the key ring exactly as EncryptedField stores them, then the real
command, `flask keys rotate --grace 0`, moves them all and its wall time is printed as
values per second. Every value is then checked to use the new key and a sample is
decrypted. Prints figures only; asserts no timings (ARCHITECTURE.md, Tests).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import String, create_engine, insert, select, text  # noqa: E402
from sqlalchemy.orm import Mapped, mapped_column  # noqa: E402

from clinician_app import create_app  # noqa: E402
from clinician_app.core import rotation  # noqa: E402
from clinician_app.core.keyfile import current_keys, new_material, write_material  # noqa: E402
from clinician_app.core.types import (  # noqa: E402
    BlindIndexField,
    EncryptedField,
    blind_index,
    blind_index_column,
    encrypted_column,
    new_id,
)
from clinician_app.extensions import db  # noqa: E402

PERSON_FIELDS = ("first_name", "last_name", "date_of_birth", "phone", "address", "identifying_notes")


class BenchPerson(db.Model):
    __tablename__ = "bench_persons"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    first_name_enc: Mapped[bytes | None] = encrypted_column()
    last_name_enc: Mapped[bytes | None] = encrypted_column()
    date_of_birth_enc: Mapped[bytes | None] = encrypted_column()
    phone_enc: Mapped[bytes | None] = encrypted_column()
    address_enc: Mapped[bytes | None] = encrypted_column()
    identifying_notes_enc: Mapped[bytes | None] = encrypted_column()
    name_dob_bidx: Mapped[str | None] = blind_index_column()
    first_name = EncryptedField("first_name")
    last_name = EncryptedField("last_name")
    date_of_birth = EncryptedField("date_of_birth")
    phone = EncryptedField("phone")
    address = EncryptedField("address")
    identifying_notes = EncryptedField("identifying_notes")
    name_dob_index = BlindIndexField("name_dob_bidx", bits=16,
                                     source=lambda p: f"{p.first_name} {p.last_name} {p.date_of_birth}")


class BenchNote(db.Model):
    __tablename__ = "bench_notes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    body_enc: Mapped[bytes | None] = encrypted_column()
    body = EncryptedField("body")


def person_values(i: int) -> dict[str, str]:
    return {"first_name": f"Given{i}", "last_name": f"Family{i % 5000}", "date_of_birth": f"19{i % 90 + 10}-0{i % 9 + 1}-1{i % 9}",
            "phone": f"978-555-{i % 10000:04d}", "address": f"{i % 900 + 1} Main Street, Chelmsford MA 01824",
            "identifying_notes": "tattoo on left forearm; wears glasses" if i % 3 else ""}


def fill(ring, persons: int, notes: int, note_bytes: int, chunk: int = 5000) -> None:
    """Core inserts of tokens made as EncryptedField makes them (same cell binding)."""
    note_text = ("Client calm on arrival; reports no plan or intent. " * (note_bytes // 50 + 1))[:note_bytes].encode()
    for start in range(0, persons, chunk):
        rows = []
        for i in range(start, min(start + chunk, persons)):
            row_id, values = new_id(), person_values(i)
            row = {"id": row_id}
            for name in PERSON_FIELDS:
                row[f"{name}_enc"] = ring.encrypt_raw(values[name].encode(), table="bench_persons", column=name, row_id=row_id)
            row["name_dob_bidx"] = blind_index(f"{values['first_name']} {values['last_name']} {values['date_of_birth']}",
                                               table="bench_persons", column="name_dob_bidx", bits=16)
            rows.append(row)
        db.session.execute(insert(BenchPerson), rows)
        db.session.commit()
    for start in range(0, notes, chunk):
        rows = []
        for _ in range(start, min(start + chunk, notes)):
            row_id = new_id()
            rows.append({"id": row_id, "body_enc": ring.encrypt_raw(note_text, table="bench_notes", column="body", row_id=row_id)})
        db.session.execute(insert(BenchNote), rows)
        db.session.commit()


def scratch_database(url: str | None, workdir: Path):
    if not url:
        return f"sqlite:///{workdir / 'bench.db'}", None
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--notes", type=int, default=300_000)
    parser.add_argument("--note-bytes", type=int, default=2048)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="10,000 persons and 30,000 notes")
    parser.add_argument("--database-url", help="PostgreSQL URL; a scratch schema is made and dropped")
    args = parser.parse_args()
    if args.quick:
        args.persons, args.notes = 10_000, 30_000

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        keys_file = workdir / "keys.json"
        write_material(keys_file, new_material())
        url, drop = scratch_database(args.database_url, workdir)
        try:
            run(args, url, str(keys_file))
        finally:
            if drop:
                drop()


def run(args, url: str, keys_file: str) -> None:
    app = create_app("test", KEYS_FILE=keys_file, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        db.create_all()  # bench-only tables exist only in this scratch database
        from clinician_app.core.audit import AuditHead

        db.session.add(AuditHead(id=1, last_seq=0))
        db.session.commit()
        ring = current_keys().ring
        started = time.perf_counter()
        fill(ring, args.persons, args.notes, args.note_bytes)
        filled = time.perf_counter() - started
        values = args.persons * len(PERSON_FIELDS) + args.notes
        indexes = args.persons
        backend = db.engine.dialect.name
        print(f"{backend}: {args.persons:,} persons ({len(PERSON_FIELDS)} fields + 1 blind index each) and "
              f"{args.notes:,} notes of {args.note_bytes} bytes: {values:,} values, {indexes:,} blind indexes")
        print(f"  filled in {filled:.1f} s")

        started = time.perf_counter()
        result = app.test_cli_runner().invoke(args=["keys", "rotate", "--grace", "0", "--batch-size", str(args.batch_size)])
        elapsed = time.perf_counter() - started
        if result.exit_code != 0:
            raise SystemExit(f"rotation failed: {result.output}")
        rows = args.persons + args.notes
        print(f"  keys rotate (batch {args.batch_size}): {elapsed:.1f} s = {values / elapsed:,.0f} values/s "
              f"({(values + indexes) / elapsed:,.0f} values+indexes/s, {rows / elapsed:,.0f} rows/s)")

        started = time.perf_counter()
        usage = rotation.key_usage(db.session, current_keys().ring)
        counted = time.perf_counter() - started
        ring = current_keys().ring
        stale = {k: n for k, n in usage.data_totals().items() if k != ring.active_key_id and n}
        stale_index = {k: n for k, n in usage.index_totals().items() if k != ring.active_index_key_id and n}
        assert not stale and not stale_index, (stale, stale_index)
        assert usage.data_totals()[ring.active_key_id] >= values  # the app's own columns may hold a few more
        print(f"  keys status counted {sum(usage.data_totals().values()):,} values in {counted:.2f} s; all on "
              f"{ring.active_key_id}/{ring.active_index_key_id}")
        person = db.session.execute(select(BenchPerson).limit(1)).scalar_one()
        note = db.session.execute(select(BenchNote).limit(1)).scalar_one()
        assert person.first_name.startswith("Given") and note.body.startswith("Client calm")
        assert BenchPerson.name_dob_index.compute(person) == person.name_dob_bidx


if __name__ == "__main__":
    main()
