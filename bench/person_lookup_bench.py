"""Person lookup by name + date of birth among N persons (default 100,000).

    .venv/bin/python bench/person_lookup_bench.py [--n 100000] [--quick] [--lookups 400]
                                                  [--database-url URL]

Builds a throwaway database (a temporary SQLite file; or, with --database-url naming
PostgreSQL, a temporary schema that is dropped afterwards) holding the tables a lookup
touches, created from the same models (and so the same indexes) the migrations
were generated from, and bulk-inserts N persons of one agency (the worst case: every candidate is in scope)
through the encryption layer: each Person is built with its encrypted fields and
blind index set by the model's own descriptors, and the resulting rows are written
in batches with executemany. One person in ten has an alias.

Then it times the lookup the pages use (``people.services._exact_matches``: an
indexed IN over the blind index, then decrypting and comparing only the candidates),
for persons that exist and for names that don't, and prints milliseconds per lookup
(median, 95th percentile, mean), the candidates decrypted per lookup, and the query
plan, which shows the index being used rather than a scan. The goal is under 5 ms.
Prints figures only: it asserts no timings (ARCHITECTURE.md, Tests).
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402

from bench.loadgen import scratch_database  # noqa: E402

SYLLABLES = ["al", "an", "ar", "be", "bel", "ca", "cor", "da", "del", "el", "en", "fa", "gar", "ha", "is", "ja",
             "ka", "la", "lin", "ma", "mar", "na", "nor", "o", "pa", "quin", "ra", "ros", "sa", "sel", "ta", "tor",
             "u", "va", "wen", "ya", "zel"]


def random_name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def random_person(rng: random.Random) -> tuple[str, str, date]:
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 80 * 365))
    return random_name(rng, rng.choice((2, 3))), random_name(rng, rng.choice((2, 3, 4))), born


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="persons to insert (default 100,000)")
    parser.add_argument("--quick", action="store_true", help="10,000 persons and 200 lookups: a smoke run")
    parser.add_argument("--lookups", type=int, default=400, help="lookups of each kind to time (default 400)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL to use a temporary schema in (default: SQLite file)")
    parser.add_argument("--seed", type=int, default=4, help="random seed (default 4)")
    args = parser.parse_args()
    if args.quick:
        args.n, args.lookups = min(args.n, 10_000), min(args.lookups, 200)

    from clinician_app.core.keyfile import new_material, write_material

    with scratch_database(args.database_url, "person-bench") as (url, workdir, _schema):
        keys = workdir / "keys.json"
        write_material(keys, new_material())
        run(url, keys, args)


def run(url: str, keys: Path, args) -> None:
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from clinician_app import create_app
    from clinician_app.agencies.models import Agency
    from clinician_app.core.types import new_id
    from clinician_app.extensions import db
    from clinician_app.people.models import Person, PersonAlias
    from clinician_app.people.services import _agency_scope, _exact_matches

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, KEYS_FILE=str(keys), LOG_LEVEL="WARNING")
    rng = random.Random(args.seed)
    with app.app_context():
        tables = ["agencies", "users", "persons", "person_merges", "person_aliases"]
        db.metadata.create_all(db.engine, tables=[db.metadata.tables[t] for t in tables])
        agency = Agency(name="Bench Police Department", code="BENCH", kind="town")
        db.session.add(agency)
        db.session.commit()
        dialect = db.engine.dialect.name
        print(f"database: {dialect}; persons: {args.n:,}; blind index bits: {Person.name_dob_index.bits}")

        person_columns = [c.key for c in Person.__table__.columns]
        alias_columns = [c.key for c in PersonAlias.__table__.columns]
        sample: list[tuple[str, str, date]] = []
        started, batch, alias_batch = time.perf_counter(), [], []
        for i in range(args.n):
            first, last, born = random_person(rng)
            person = Person(id=new_id(), agency_id=agency.id, sex="unknown", race="unknown", ethnicity="unknown",
                            veteran_status="unknown", housing_status="unknown")
            person.first_name, person.last_name, person.date_of_birth = first, last, born
            person.phone = f"978-555-{rng.randrange(10000):04d}"
            Person.name_dob_index.refresh(person)
            person.created_at = person.updated_at = _now()
            batch.append({c: getattr(person, c) for c in person_columns})
            if i % 10 == 0:
                alias = PersonAlias(id=new_id(), person_id=person.id)
                alias.name = f"{random_name(rng, 2)} {last}"
                alias.person = person
                PersonAlias.alias_index.refresh(alias)
                alias.created_at = person.created_at
                alias_batch.append({c: getattr(alias, c) for c in alias_columns})
                alias.person = None
            if len(sample) < args.lookups and rng.random() < max(args.lookups * 4 / args.n, 0.001):
                sample.append((first, last, born))
            if len(batch) >= 5000:
                _write(db, Person, batch, PersonAlias, alias_batch)
        _write(db, Person, batch, PersonAlias, alias_batch)
        elapsed = time.perf_counter() - started
        print(f"inserted {args.n:,} persons in {elapsed:.1f} s ({args.n / elapsed:,.0f}/s, encryption included)")
        if dialect == "postgresql":
            db.session.execute(text("ANALYZE persons; ANALYZE person_aliases"))
            db.session.commit()
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()

        misses = [random_person(rng) for _ in range(args.lookups)]
        scope = _agency_scope(agency.id)
        hits_ms, misses_ms, found_ok = [], [], 0
        for first, last, born in sample[:5]:  # warm the subkey caches and the connection
            _exact_matches(scope, first, last, born)
        for (first, last, born), (m_first, m_last, m_born) in zip(sample, misses, strict=False):
            db.session.expunge_all()  # time decryption too, not the identity map
            t0 = time.perf_counter()
            found = _exact_matches(scope, f"  {first.upper()} ", last.lower(), born)
            hits_ms.append((time.perf_counter() - t0) * 1000)
            found_ok += bool(found)
            db.session.expunge_all()
            t0 = time.perf_counter()
            _exact_matches(scope, m_first, m_last, m_born)
            misses_ms.append((time.perf_counter() - t0) * 1000)

        candidates = _mean_candidates(db, Person, sample)
        for label, values in (("existing person", hits_ms), ("no such person", misses_ms)):
            print(f"lookup, {label:<16} n={len(values):>4}: median {statistics.median(values):.2f} ms, "
                  f"p95 {percentile(values, 0.95):.2f} ms, mean {statistics.fmean(values):.2f} ms")
        print(f"found {found_ok}/{len(hits_ms)} existing persons (upper-cased, padded first names)")
        print(f"candidates decrypted per lookup of an existing person (it and those sharing its index value): mean {candidates:.1f} "
              f"(expected 1 + N / 2^bits = {1 + args.n / 2 ** Person.name_dob_index.bits:.1f})")
        _print_plan(db, dialect, Person, agency.id)


def _now():
    from clinician_app.core.timeutil import utcnow

    return utcnow()


def _write(db, person_model, batch, alias_model, alias_batch) -> None:
    if batch:
        db.session.execute(insert(person_model.__table__), batch)
        batch.clear()
    if alias_batch:
        db.session.execute(insert(alias_model.__table__), alias_batch)
        alias_batch.clear()
    db.session.commit()


def _mean_candidates(db, person_model, sample) -> float:
    from clinician_app.people.models import full_name_key, match_key

    counts = []
    for first, last, born in sample:
        values = person_model.name_dob_index.candidates(match_key(full_name_key(first, last), born))
        counts.append(db.session.execute(select(func.count()).select_from(person_model).where(
            person_model.name_dob_bidx.in_(values))).scalar_one())
    return statistics.fmean(counts) if counts else 0.0


def _print_plan(db, dialect, person_model, agency_id) -> None:
    from clinician_app.people.models import PersonAlias

    by_name = select(person_model).where(person_model.name_dob_bidx.in_(["i1:abc"]), person_model.agency_id == agency_id)
    by_alias = (select(PersonAlias, person_model).join(person_model, PersonAlias.person_id == person_model.id)
                .where(PersonAlias.alias_bidx.in_(["i1:abc"]), person_model.agency_id == agency_id))
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    for label, stmt in (("by name", by_name), ("by alias", by_alias)):
        sql = str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
        print(f"query plan, {label}:")
        for row in db.session.execute(text(prefix + sql)).all():
            print("   ", row[-1])


if __name__ == "__main__":
    main()
