"""Realistic data at a chosen scale, for the benchmarks and for trying the app at
the size of a region.

    .venv/bin/python bench/seed.py [--scale 1.0] [--seed 1] [--towns 6] [--years 10]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/clinician_bench] [--recreate]
        [--keys bench/results/keys-<database>.json]

At ``--scale 1`` (the default): 6 towns and the BHU over 10 years, about 100,000
calls, 60,000 persons, 35,000 cases, 45,000 encounters, 300,000 case notes,
200,000 follow-ups, 20,000 referrals, engagement records, and 2 million audit
events; ``--scale 0.01`` is a smoke run of a few seconds.

How it is fast and still the app's own data
* Rows are written in bulk: PostgreSQL ``COPY`` (psycopg), SQLite executemany.
* Every encrypted field is produced by the app's own descriptor
  (``EncryptedField.__set__``: ``KeyRing.encrypt_raw`` bound to table, column and
  row id) and every blind index by the model's ``BlindIndexField.compute``, so the
  app reads, searches and rotates these rows like any other.
* Audit events form one valid chain (``AuditEvent.canonical`` and ``compute_mac``
  under the key file's audit key), continuing whatever chain exists, so
  ``flask audit verify`` passes.
* Deterministic: the same ``--seed``, scale and ``--anchor`` (a date; default
  today, UTC) give the same records (ciphertexts differ: their nonces are random).

Users: per town 2 dispatchers, 2 officers, 3 clinicians, a supervisor, a
liaison, an engagement officer, an auditor and an admin; at the BHU 4 clinicians,
a supervisor, a liaison and an admin. All share the password
``BENCH_PASSWORD`` and have a TOTP secret derived from the seed (``totp_secret``):
bench/run.py signs in with them. Usernames: ``<role><n>.<town code>`` (e.g.
``clinician0.bt1``). A bench database only: never seed a real one.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import random
import sys
import time
import uuid
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/clinician_bench"
RESULTS = ROOT / "bench" / "results"
BENCH_PASSWORD = "bench-password-not-for-real-use"  # noqa: S105 - a throwaway bench database
BATCH = 5000

# Volumes at scale 1.
VOLUMES = {
    "calls": 100_000, "persons": 60_000, "notes": 300_000, "followups": 200_000, "referrals": 20_000,
    "audit_events": 2_000_000, "engagement": 30_000,
}
OPEN_PER_TOWN = 30  # the co-response queue: what is open now does not grow with history

TOWN_NAMES = ["Ashby", "Brookfield", "Carver", "Dunmore", "Easton", "Fairhaven", "Granby", "Halifax", "Ipswich",
              "Jamestown", "Kingston", "Lakeville"]
SYLLABLES = ["al", "an", "ar", "be", "bel", "ca", "cor", "da", "del", "el", "en", "fa", "gar", "ha", "is", "ja",
             "ka", "la", "lin", "ma", "mar", "na", "nor", "o", "pa", "quin", "ra", "ros", "sa", "sel", "ta", "tor",
             "u", "va", "wen", "ya", "zel"]
STREETS = ["Main Street", "Elm Street", "Chelmsford Road", "Pine Hill Road", "Mill Pond Lane", "Church Street",
           "Riverside Drive", "Oak Avenue", "Maple Court", "School Street", "Depot Road", "Bridge Street"]
CALL_TYPES = ["well_being_check", "suicidal_person", "overdose", "disturbance", "domestic", "trespass", "other"]
CALL_TYPE_WEIGHTS = [30, 14, 8, 20, 12, 6, 10]
RELATIONS = ["self", "family", "partner", "friend", "bystander", "professional", "police", "anonymous"]
INDICATORS = ["mental_health", "suicidal", "substance_use", "intoxication", "developmental_disability", "dementia",
              "juvenile"]
NARRATIVES = [
    "Caller reports the resident has not left the apartment in days and is talking about not wanting to go on.",
    "Family member worried: stopped taking medication, agitated, shouting at neighbours late at night.",
    "Neighbour found the person confused in the street, unsure where they live; no injuries seen.",
    "Person called from a parking lot, intoxicated, says they took more pills than prescribed.",
    "School counsellor asks for a check on a student who posted about self-harm.",
    "Ongoing dispute with landlord; caller says the tenant is hearing voices and barricaded the door.",
]
NOTE_BODIES = [
    "Met at home with the person and their sister. Mood low but engaged; safety plan reviewed and updated. "
    "Agreed to an appointment at the clinic on Thursday; will call on Wednesday to remind.",
    "Phone contact. Reports sleeping better since the medication change; still worried about rent arrears. "
    "Gave the number of the housing advocate and the warm line.",
    "Collateral call with the primary care office: they will see the person this week and share the plan.",
    "Outreach visit, no answer at the door; left a card with the BHU number. Will try again in two days.",
    "Consult with the supervisor about escalating concerns; agreed to offer an evaluation at the next contact.",
]
PART2_BODY = ("Discussed alcohol use over the weekend and the detox referral; the person wants to think about it "
              "and will call back. Consent for the treatment program discussed.")
PURPOSES = ["Check in after the crisis call", "Confirm the clinic appointment happened", "Review the safety plan",
            "Follow up on the housing referral", "Offer a second visit with the family"]
AUDIT_ACTIONS = [  # (action, record type, weight)
    ("case.read", "case", 22), ("person.read", "person", 25), ("call.create", "call", 6),
    ("call.narrative_read", "call", 10), ("case_note.create", "case_note", 6), ("case_note.read", "case_note", 8),
    ("person.lookup", None, 6), ("triage.create", "call", 3), ("followup.attempt", "followup", 4),
    ("auth.signin", None, 8), ("encounter.create", "call", 2),
]


# --- helpers ------------------------------------------------------------------------------------

class Progress:
    """One stderr line per step, rewritten in place; a new line when the step ends."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self.live = enabled and sys.stderr.isatty()  # a bar that moves only on a terminal
        self.started = time.perf_counter()
        self._label, self._total, self._last = "", 0, 0.0

    def begin(self, label: str, total: int) -> None:
        self._label, self._total, self._step_started = label, max(total, 1), time.perf_counter()
        self.update(0)

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if not self.live or (now - self._last < 0.25 and done < self._total):
            return
        self._last = now
        width = 30
        filled = min(width, int(width * done / self._total))
        rate = done / max(now - self._step_started, 1e-6)
        sys.stderr.write(f"\r{self._label:<22} [{'#' * filled}{'.' * (width - filled)}] {done:>10,}/{self._total:,} "
                         f"{rate:>9,.0f}/s")
        sys.stderr.flush()

    def end(self, done: int) -> None:
        if not self.enabled:
            return
        seconds = time.perf_counter() - self._step_started
        sys.stderr.write(f"\r{self._label:<22} {done:>10,} rows {done / max(seconds, 1e-6):>9,.0f}/s {seconds:6.1f} s"
                         f"{' ' * 30}\n")
        sys.stderr.flush()


class Writer:
    """Bulk inserts: COPY on PostgreSQL, executemany elsewhere. Missing columns get
    their scalar default (or None); a NOT NULL column left empty is an error here."""

    def __init__(self, engine, progress: Progress):
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self.progress = progress
        self.counts: dict[str, int] = {}

    def write(self, table, rows: Iterable[dict], total: int, label: str | None = None) -> int:
        columns = [c for c in table.columns]
        names = [c.name for c in columns]
        defaults = {}
        for column in columns:
            default = column.default
            if default is not None and default.is_scalar:
                defaults[column.name] = default.arg
            elif default is not None and default.is_callable:
                defaults[column.name] = default.arg
        self.progress.begin(label or table.name, total)
        done = 0
        with self.engine.begin() as conn:
            batch: list[dict] = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH:
                    self._flush(conn, table, names, defaults, batch)
                    done += len(batch)
                    batch = []
                    self.progress.update(done)
            if batch:
                self._flush(conn, table, names, defaults, batch)
                done += len(batch)
        self.progress.end(done)
        self.counts[table.name] = self.counts.get(table.name, 0) + done
        return done

    def _complete(self, row: dict, names, defaults) -> dict:
        for name in names:
            if name not in row:
                value = defaults.get(name)
                row[name] = value(None) if callable(value) else value
        return row

    def _flush(self, conn, table, names, defaults, batch: list[dict]) -> None:
        rows = [self._complete(row, names, defaults) for row in batch]
        if self.postgres:
            raw = conn.connection.driver_connection
            quoted = ", ".join(f'"{n}"' for n in names)
            with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row([row[n] for n in names])
        else:
            conn.execute(insert(table), rows)


class Gen:
    """Deterministic choices from one seeded generator."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def name(self, parts: int) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(parts)).capitalize()

    def weighted(self, items, cumulative):
        return items[bisect_left(cumulative, self.rng.random() * cumulative[-1])]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


def totp_secret(seed: int, username: str) -> str:
    """The bench user's TOTP secret, derived from the seed (bench/run.py derives it again)."""
    digest = hmac.new(f"bench-seed-{seed}".encode(), username.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def encrypt(model, field: str, row_id: str, value) -> bytes | None:
    """The token the app would store: the model's own EncryptedField, on a stand-in row."""
    if value is None:
        return None
    holder = SimpleNamespace(id=row_id)
    model.__dict__[field].__set__(holder, value)
    return getattr(holder, f"{model.__dict__[field].name}_enc")


def scaled(name: str, scale: float, minimum: int = 1) -> int:
    return max(minimum, int(round(VOLUMES[name] * scale)))


# --- the seed -----------------------------------------------------------------------------------

def recreate_database(database_url: str) -> None:
    """Drop and create the bench database (PostgreSQL) or remove the file (SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(url.database + suffix).unlink(missing_ok=True)
        return
    name = url.database
    if not name or not name.replace("_", "").isalnum() or name in {"postgres", "template0", "template1", "test"}:
        raise SystemExit(f"refusing to recreate database {name!r}: give a bench database of its own")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    finally:
        admin.dispose()
    apply_planner_settings(database_url)


# deploy/postgresql.conf's planner settings, so the bench measures the production
# shape: SSD costs (index reads cost about what sequential ones do, so the planner
# uses the indexes) and no parallel workers (on the bench's 2 shared cores they
# take CPU from the concurrent requests).
PLANNER_SETTINGS = {"random_page_cost": "1.1", "max_parallel_workers_per_gather": "0"}


def apply_planner_settings(database_url: str) -> None:
    """Set PLANNER_SETTINGS on the bench database (PostgreSQL; new connections see them)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for setting, value in PLANNER_SETTINGS.items():
                conn.execute(text(f'ALTER DATABASE "{url.database}" SET {setting} = {value}'))
    finally:
        admin.dispose()


def ensure_keys(path: Path) -> Path:
    from clinician_app.core.keyfile import new_material, write_material

    if not path.exists():
        write_material(path, new_material())
    return path


def make_app(database_url: str, keys: Path):
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from clinician_app import create_app

    return create_app("development", SQLALCHEMY_DATABASE_URI=database_url, KEYS_FILE=str(keys), LOG_LEVEL="WARNING")


def seed(database_url: str, keys: Path, *, scale: float = 1.0, seed_value: int = 1, towns: int = 6, years: int = 10,
         anchor: date | None = None, progress: bool = True) -> dict:
    """Seed an empty database (migrations run here); returns the manifest."""
    import logging

    from flask_migrate import upgrade

    from clinician_app.extensions import db

    app = make_app(database_url, ensure_keys(keys))
    anchor_dt = datetime.combine(anchor or datetime.now(UTC).date(), datetime.min.time(), UTC)
    bar = Progress(progress)
    with app.app_context():
        upgrade()
        for name in ("alembic", "clinician_app"):
            logging.getLogger(name).setLevel(logging.WARNING)
        if db.session.execute(text("SELECT count(*) FROM calls")).scalar_one():
            raise SystemExit("the database already holds calls: seed an empty one (--recreate)")
        writer = Writer(db.engine, bar)
        world = World(Gen(seed_value), scale, towns, years, anchor_dt, seed_value, writer, app)
        world.build()
        bar.begin("analyze", 1)
        if writer.postgres:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        bar.end(1)
        manifest = world.manifest()
        db.session.remove()
        db.engine.dispose()
    manifest["seconds"] = round(time.perf_counter() - bar.started, 1)
    return manifest


class World:
    """Builds every table in order; keeps the ids later tables point at."""

    def __init__(self, gen: Gen, scale: float, town_count: int, years: int, anchor: datetime, seed_value: int,
                 writer: Writer, app):
        self.g, self.scale, self.town_count, self.years = gen, scale, town_count, years
        self.anchor, self.seed_value, self.w, self.app = anchor, seed_value, writer, app
        self.start = anchor - timedelta(days=365 * years)
        self.span_seconds = (anchor - self.start).total_seconds()

    # -- time ----------------------------------------------------------------------------------
    def when(self, low: datetime | None = None, high: datetime | None = None) -> datetime:
        low, high = low or self.start, high or self.anchor
        return low + timedelta(seconds=self.g.rng.random() * max((high - low).total_seconds(), 1))

    # -- build ---------------------------------------------------------------------------------
    def build(self) -> None:
        self.agencies_and_users()
        self.persons()
        self.calls_cases_and_triage()
        self.encounters()
        self.notes()
        self.followups()
        self.optional_domains()
        self.audit_events()

    def manifest(self) -> dict:
        return {
            "scale": self.scale, "seed": self.seed_value, "towns": self.town_count, "years": self.years,
            "anchor": self.anchor.date().isoformat(), "rows": dict(sorted(self.w.counts.items())),
            "users": self.user_manifest, "password": BENCH_PASSWORD,
        }

    def agencies_and_users(self) -> None:
        from clinician_app.agencies.models import Agency
        from clinician_app.auth import passwords
        from clinician_app.auth.models import User, UserRole
        from clinician_app.cases.models import Disposition
        from clinician_app.extensions import db

        g = self.g
        self.towns = []
        for index in range(self.town_count):
            name = TOWN_NAMES[index % len(TOWN_NAMES)] + ("" if index < len(TOWN_NAMES) else f" {index}")
            self.towns.append(Agency(id=g.uuid(), name=f"{name} Police Department", code=f"BT{index + 1}", kind="town",
                                     timezone="America/New_York", created_at=self.start))
        self.bhu = Agency(id=g.uuid(), name="Regional Behavioral Health Unit (bench)", code="BBHU", kind="bhu",
                          timezone="America/New_York", created_at=self.start)
        db.session.add_all([*self.towns, self.bhu])
        db.session.flush()
        password_hash = passwords.hash_password(BENCH_PASSWORD)
        plan = [("dispatcher", 2), ("officer", 2), ("clinician", 3), ("supervisor", 1), ("liaison", 1),
                ("engagement", 1), ("auditor", 1), ("admin", 1)]
        bhu_plan = [("bhu_clinician", 4), ("supervisor", 1), ("liaison", 1), ("admin", 1)]
        self.users: dict[tuple[str, str], list[str]] = {}  # (agency id, role) -> user ids
        self.user_manifest = []
        for agency, roles in [*((t, plan) for t in self.towns), (self.bhu, bhu_plan)]:
            for role, count in roles:
                for k in range(count):
                    username = f"{role.replace('_', '')}{k}.{agency.code.lower()}"
                    user = User(id=g.uuid(), username=username, display_name=f"{role.title()} {k} {agency.code}",
                                agency_id=agency.id, password_hash=password_hash, role_rows=[UserRole(role=role)],
                                created_at=self.start, password_changed_at=self.anchor - timedelta(days=30))
                    secret = totp_secret(self.seed_value, username)
                    user.totp_secret = secret
                    user.totp_confirmed_at = self.start
                    db.session.add(user)
                    self.users.setdefault((agency.id, role), []).append(user.id)
                    self.user_manifest.append({"username": username, "role": role, "agency": agency.code})
        db.session.commit()
        self.all_user_ids = [uid for ids in self.users.values() for uid in ids]
        self.user_agency = {uid: aid for (aid, _role), ids in self.users.items() for uid in ids}
        self.dispositions = db.session.execute(select(Disposition.id)).scalars().all()
        self.w.counts["agencies"], self.w.counts["users"] = self.town_count + 1, len(self.all_user_ids)
        # Towns differ in size: the first is the largest.
        weights = [1.0 / (i + 1) ** 0.6 for i in range(self.town_count)]
        self.town_cumulative = list(accumulate(weights))

    def clinicians(self, agency_id: str) -> list[str]:
        role = "bhu_clinician" if agency_id == self.bhu.id else "clinician"
        return self.users[(agency_id, role)]

    def town(self):
        return self.g.weighted(self.towns, self.town_cumulative)

    # -- persons ---------------------------------------------------------------------------------
    def persons(self) -> None:
        from clinician_app.people.models import Person, PersonAlias

        g, total = self.g, scaled("persons", self.scale, 20)
        self.persons_by_town: dict[str, list[str]] = {t.id: [] for t in self.towns}
        self.person_created: dict[str, datetime] = {}
        self.person_sample: list[tuple[str, str, str, date]] = []  # (agency id, first, last, dob) for lookups
        aliases: list[dict] = []

        def rows() -> Iterator[dict]:
            for _ in range(total):
                town = self.town()
                pid = g.uuid()
                first, last = g.name(g.rng.choice((2, 3))), g.name(g.rng.choice((2, 3, 4)))
                born = date(1935, 1, 1) + timedelta(days=g.rng.randrange(0, 75 * 365))
                created = self.when()
                plain = SimpleNamespace(first_name=first, last_name=last, date_of_birth=born)
                row = {
                    "id": pid, "agency_id": town.id,
                    "first_name_enc": encrypt(Person, "first_name", pid, first),
                    "last_name_enc": encrypt(Person, "last_name", pid, last),
                    "date_of_birth_enc": encrypt(Person, "_date_of_birth", pid, born.isoformat()),
                    "phone_enc": encrypt(Person, "phone", pid, f"978-555-{g.rng.randrange(10000):04d}")
                    if g.chance(0.6) else None,
                    "address_enc": encrypt(Person, "address", pid, f"{g.rng.randrange(1, 400)} {g.rng.choice(STREETS)}")
                    if g.chance(0.7) else None,
                    "identifying_notes_enc": encrypt(Person, "identifying_notes", pid, "Tall, grey beard, uses a cane.")
                    if g.chance(0.1) else None,
                    "name_dob_bidx": Person.name_dob_index.compute(plain),
                    "sex": g.rng.choice(("female", "male", "unknown")), "race": "unknown", "ethnicity": "unknown",
                    "veteran_status": g.rng.choice(("no", "unknown", "yes")) if g.chance(0.5) else "unknown",
                    "housing_status": "unknown", "created_at": created, "updated_at": created,
                }
                self.persons_by_town[town.id].append(pid)
                self.person_created[pid] = created
                if len(self.person_sample) < 2000 and g.chance(0.05):
                    self.person_sample.append((town.id, first, last, born))
                if g.chance(0.1):
                    aid = g.uuid()
                    alias = f"{g.name(2)} {last}"
                    aliases.append({
                        "id": aid, "person_id": pid, "name_enc": encrypt(PersonAlias, "name", aid, alias),
                        "alias_bidx": PersonAlias.alias_index.compute(
                            SimpleNamespace(name=alias, person=SimpleNamespace(date_of_birth=born))),
                        "created_at": created})
                yield row

        self.w.write(Person.__table__, rows(), total, "persons")
        self.w.write(PersonAlias.__table__, aliases, len(aliases), "person aliases")
        # Repeat contacts: a few persons account for many calls (a Zipf-like pick:
        # at scale 1 the busiest person of the largest town has about 70 calls).
        self.person_weights = {
            town_id: list(accumulate(1.0 / (i + 1) ** 0.5 for i in range(len(ids))))
            for town_id, ids in self.persons_by_town.items()}

    def pick_person(self, town_id: str) -> str | None:
        ids = self.persons_by_town[town_id]
        return self.g.weighted(ids, self.person_weights[town_id]) if ids else None

    # -- calls, cases, triage --------------------------------------------------------------------
    def calls_cases_and_triage(self) -> None:
        from clinician_app.calls.addresses import normalise_address
        from clinician_app.calls.models import Call
        from clinician_app.cases.models import Case
        from clinician_app.triage.models import Triage

        g, total = self.g, scaled("calls", self.scale, 50)
        open_total = OPEN_PER_TOWN * self.town_count if self.scale >= 0.05 else 5 * self.town_count
        history = max(total - open_total, 0)
        # Calls arrive over the years, a little more each year.
        times = sorted(self.when(self.start, self.anchor - timedelta(days=3)) for _ in range(history))
        self.closed_calls: list[tuple] = []  # (call id, town id, person id, case id, received, route agency)
        cases: dict[tuple[str, str], dict] = {}  # (person id, episode) -> case row
        triages: list[dict] = []
        self.case_rows: list[dict] = []
        numbers = {t.id: 0 for t in self.towns}

        def case_for(person_id: str, town_id: str, received: datetime) -> dict:
            # A new episode after two quiet years.
            key = (person_id, "")
            case = cases.get(key)
            if case is not None and (received - case["_last"]).days > 730:
                cases[(person_id, case["id"])] = case
                case = None
            if case is None:
                assignee = g.rng.choice(self.clinicians(town_id))
                case = {"id": g.uuid(), "agency_id": town_id, "person_id": person_id, "assignee_id": assignee,
                        "status": "closed", "opened_at": received, "opened_by_id": assignee, "created_at": received,
                        "_last": received, "_calls": 0}
                cases[key] = case
                self.case_rows.append(case)
            case["_last"] = max(case["_last"], received)
            case["_calls"] += 1
            return case

        def call_row(received: datetime, town, status: str | None) -> dict:
            cid = g.uuid()
            numbers[town.id] += 1
            co_response = status is not None or g.chance(0.6)
            call_type = g.weighted(CALL_TYPES, CALL_TYPE_CUMULATIVE)
            street = f"{g.rng.randrange(1, 400)} {g.rng.choice(STREETS)}"
            hazard = g.chance(0.1)
            row = {
                "id": cid, "agency_id": town.id, "incident_number": f"{received.year % 100:02d}-{numbers[town.id]:06d}",
                "received_at": received, "address": street, "address_key": normalise_address(street),
                "call_type": call_type, "caller_relation": g.rng.choice(RELATIONS), "co_response": co_response,
                "caution_weapon": hazard and g.chance(0.4), "caution_violence": hazard and g.chance(0.5),
                "caution_hazards": hazard, "source": "cad" if g.chance(0.7) else "form",
                "created_at": received, "updated_at": received,
                **{f"indicator_{code}": g.chance(0.35 if code == "mental_health" else 0.08) for code in INDICATORS},
            }
            if hazard and g.chance(0.5):
                row["caution_notes_enc"] = encrypt(Call, "caution_notes", cid, "Dog in the yard; knock at the side door.")
            if not co_response:
                row.update(status="recorded", urgency=None)
                return row
            row["urgency"] = g.rng.choice(("now", "same_day", "follow_up"))
            row["narrative_enc"] = encrypt(Call, "narrative", cid, g.rng.choice(NARRATIVES))
            row["flagged_at"] = received + timedelta(minutes=1)
            return row

        def rows() -> Iterator[dict]:
            for received in times:
                town = self.town()
                row = call_row(received, town, None)
                if row["co_response"]:
                    to_bhu = g.chance(0.2)
                    route_agency = self.bhu.id if to_bhu else town.id
                    holder = g.rng.choice(self.clinicians(route_agency))
                    person_id = self.pick_person(town.id) if g.chance(0.75) else None
                    row.update(status="closed", route="bhu" if to_bhu else "department", route_agency_id=route_agency,
                               acuity=g.rng.choice(("emergent", "urgent", "routine")), assignee_id=holder,
                               triaged_at=received + timedelta(minutes=g.rng.randint(2, 30)),
                               assigned_at=received + timedelta(minutes=g.rng.randint(31, 60)),
                               first_contact_at=received + timedelta(minutes=g.rng.randint(61, 240)),
                               closed_at=received + timedelta(hours=g.rng.randint(5, 72)))
                    case_id = None
                    if person_id is not None:
                        case = case_for(person_id, town.id, received)
                        case_id = case["id"]
                        row.update(person_id=person_id, case_id=case_id)
                    triages.append(self.triage_row(Triage, row, holder))
                    self.closed_calls.append((row["id"], town.id, person_id, case_id, received, route_agency, holder))
                yield row
            # The open queue: recent co-response calls in every state.
            for town in self.towns:
                for k in range(open_total // self.town_count):
                    received = self.anchor - timedelta(minutes=g.rng.randint(5, 3 * 24 * 60))
                    status = ("flagged", "triaged", "assigned", "on_scene")[k % 4]
                    row = call_row(received, town, status)
                    row["status"] = status
                    if status != "flagged":
                        to_bhu = k % 5 == 0
                        route_agency = self.bhu.id if to_bhu else town.id
                        row.update(route="bhu" if to_bhu else "department", route_agency_id=route_agency,
                                   acuity="urgent", triaged_at=received + timedelta(minutes=4))
                        if status in ("assigned", "on_scene"):
                            row.update(assignee_id=g.rng.choice(self.clinicians(route_agency)),
                                       assigned_at=received + timedelta(minutes=6))
                        if status == "on_scene":
                            row["on_scene_at"] = received + timedelta(minutes=20)
                    yield row

        # Calls point at cases, which only exist once the calls are known: build the
        # calls first, write the cases, then the calls.
        self.w.progress.begin("building calls", history + open_total)
        call_rows = []
        for row in rows():
            call_rows.append(row)
            if len(call_rows) % 1000 == 0:
                self.w.progress.update(len(call_rows))
        self.w.progress.end(len(call_rows))
        recent = self.anchor - timedelta(days=90)
        for case in self.case_rows:
            if case["_last"] >= recent:
                case["status"] = "open"
            else:
                case["closed_at"] = case["_last"] + timedelta(days=g.rng.randint(7, 60))
                case["closed_by_id"] = case["assignee_id"]
                case["outcome"] = g.rng.choice(("stabilised", "connected", "declined", "unable_to_reach"))
            case["updated_at"] = case.get("closed_at") or case["_last"]
        self.w.write(Case.__table__, ({k: v for k, v in c.items() if not k.startswith("_")} for c in self.case_rows),
                     len(self.case_rows), "cases")
        self.w.write(Call.__table__, call_rows, len(call_rows), "calls")
        self.w.write(Triage.__table__, triages, len(triages), "triages")

    def triage_row(self, model, call: dict, author: str) -> dict:
        g, tid = self.g, self.g.uuid()
        answers = {"q1": g.chance(0.5), "q2": g.chance(0.3), "q3": None, "q4": None, "q5": None, "q6": g.chance(0.2),
                   "q6_recent": None}
        risk = g.rng.choice(("low", "moderate", "high"))
        return {
            "id": tid, "call_id": call["id"], "answers_enc": encrypt(model, "answers", tid, answers),
            "observations_enc": encrypt(model, "observations", tid, "Calm on the phone, tearful, agreed to a visit.")
            if g.chance(0.5) else None,
            "screen_risk": risk, "risk_level": risk, "acuity": call["acuity"], "route": call["route"],
            "suggested_route": call["route"], "suggestion_reason": "Rule 1: urgent calls go to the department clinician.",
            "created_by_id": author, "created_at": call["triaged_at"],
        }

    # -- encounters --------------------------------------------------------------------------------
    def encounters(self) -> None:
        from clinician_app.cases.models import Encounter, EncounterCharge

        g = self.g
        self.encounter_rows: list[tuple] = []  # (encounter id, call id, case id, agency id, started, author)
        charges: list[dict] = []
        with_person = [c for c in self.closed_calls if c[2] is not None]
        total = int(len(with_person) * 0.75)
        chosen = g.rng.sample(with_person, total)

        def rows() -> Iterator[dict]:
            for call_id, _town_id, _person, case_id, received, route_agency, holder in chosen:
                eid = g.uuid()
                started = received + timedelta(minutes=g.rng.randint(30, 240))
                row = {
                    "id": eid, "call_id": call_id, "agency_id": route_agency, "kind": g.rng.choice(
                        ("on_scene", "phone", "outreach")), "started_at": started,
                    "ended_at": started + timedelta(minutes=g.rng.randint(10, 120)),
                    "disposition_id": g.rng.choice(self.dispositions),
                    "point_of_intervention": g.rng.choice(("non_criminal", "pre_arrest", "post_arrest")),
                    "custody_diverted": g.chance(0.3), "jail_diversion_option": g.chance(0.2),
                    "ed_visit_prevented": g.chance(0.4),
                    "note_enc": encrypt(Encounter, "note", eid, "Talked through the evening; calmer; plan agreed.")
                    if g.chance(0.3) else None,
                    "created_by_id": holder, "created_at": started,
                }
                if g.chance(0.05):
                    charges.append({"id": g.uuid(), "encounter_id": eid, "position": 0, "charge": "Disorderly conduct",
                                    "diverted": g.chance(0.6)})
                self.encounter_rows.append((eid, call_id, case_id, route_agency, started, holder))
                yield row

        self.w.write(Encounter.__table__, rows(), total, "encounters")
        self.w.write(EncounterCharge.__table__, charges, len(charges), "encounter charges")

    # -- notes -----------------------------------------------------------------------------------
    def notes(self) -> None:
        from clinician_app.cases.note_models import CaseNote

        g, total = self.g, scaled("notes", self.scale, 50)
        cases = self.case_rows
        if not cases:
            return
        # Busier cases (more calls) get more notes: a few hundred on the busiest.
        cumulative = list(accumulate(c["_calls"] for c in cases))
        self.note_ids: list[str] = []

        def rows() -> Iterator[dict]:
            previous_by_case: dict[str, str] = {}
            for _ in range(total):
                case = g.weighted(cases, cumulative)
                nid = g.uuid()
                part2 = g.chance(1 / 6)
                end = case.get("closed_at") or self.anchor
                created = self.when(case["opened_at"], min(end, self.anchor))
                previous = previous_by_case.get(case["id"])
                body = PART2_BODY if part2 else g.rng.choice(NOTE_BODIES)
                author = case["assignee_id"]
                row = {
                    "id": nid, "case_id": case["id"], "agency_id": case["agency_id"],
                    "kind": g.rng.choice(("contact", "collateral", "follow_up", "consult")),
                    "sensitivity": "part2" if part2 else "normal",
                    "addendum_to_id": previous if previous is not None and g.chance(0.1) else None,
                    "author_id": author, "created_at": created, "body_enc": encrypt(CaseNote, "body", nid, body),
                }
                previous_by_case[case["id"]] = nid
                if len(self.note_ids) < 200_000:
                    self.note_ids.append(nid)
                yield row

        self.w.write(CaseNote.__table__, rows(), total, "case notes")

    # -- follow-ups ------------------------------------------------------------------------------
    def followups(self) -> None:
        from clinician_app.followups.models import Followup, FollowupAttempt, FollowupTemplate

        g, total = self.g, scaled("followups", self.scale, 30)
        templates = {}
        template_rows = []
        for agency in [*self.towns, self.bhu]:
            tid = g.uuid()
            templates[agency.id] = tid
            template_rows.append({"id": tid, "agency_id": agency.id, "name": "After a crisis call",
                                  "trigger_kind": "risk", "trigger_code": "moderate", "windows": "24h,72h,7d",
                                  "purpose": "Check in after the crisis call", "active": True,
                                  "created_at": self.start})
        self.w.write(FollowupTemplate.__table__, template_rows, len(template_rows), "follow-up templates")
        windows = (("24h", timedelta(hours=24)), ("72h", timedelta(hours=72)), ("7d", timedelta(days=7)))
        attempts: list[dict] = []
        self.followup_ids: list[str] = []
        case_agency = {c["id"]: c["agency_id"] for c in self.case_rows}

        def one(case_id, agency_id, encounter_id, window, anchor_at, due_at, assignee) -> dict:
            fid = g.uuid()
            row = {"id": fid, "agency_id": agency_id, "case_id": case_id, "encounter_id": encounter_id,
                   "template_id": templates.get(agency_id) if encounter_id else None, "assignee_id": assignee,
                   "window": window, "anchor_at": anchor_at, "due_at": due_at,
                   "purpose_enc": encrypt(Followup, "purpose", fid, g.rng.choice(PURPOSES)),
                   "created_by_id": assignee, "created_at": anchor_at}
            if due_at > self.anchor - timedelta(days=2) and g.chance(0.7):
                row["status"] = "open"
            elif g.chance(0.85):
                done = min(due_at + timedelta(hours=g.rng.randint(-20, 30)), self.anchor)
                row.update(status="done", completed_at=done, completed_by="attempt", done_within_window=done <= due_at)
                aid = g.uuid()
                attempts.append({"id": aid, "followup_id": fid, "attempted_at": done,
                                 "method": g.rng.choice(("phone", "visit", "text")), "outcome": "reached",
                                 "note_enc": encrypt(FollowupAttempt, "note", aid, "Reached; doing better.")
                                 if g.chance(0.3) else None, "created_by_id": assignee, "created_at": done})
            else:
                done = min(due_at + timedelta(days=1), self.anchor)
                row.update(status="done", completed_at=done, completed_by="closed", done_within_window=False,
                           close_reason_enc=encrypt(Followup, "close_reason", fid, "Moved out of the area."),
                           closed_by_id=assignee)
            if len(self.followup_ids) < 100_000:
                self.followup_ids.append(fid)
            return row

        def rows() -> Iterator[dict]:
            made = 0
            for eid, _call_id, case_id, agency_id, started, author in self.encounter_rows:
                if case_id is None:
                    continue
                for window, delta in windows:
                    if made >= total:
                        return
                    made += 1
                    yield one(case_id, agency_id, eid, window, started, started + delta, author)
            cases = self.case_rows
            while made < total and cases:
                case = g.rng.choice(cases)
                anchor_at = self.when(case["opened_at"], min(case.get("closed_at") or self.anchor, self.anchor))
                made += 1
                yield one(case["id"], case_agency[case["id"]], None, "custom", anchor_at,
                          anchor_at + timedelta(days=g.rng.randint(1, 14)), case["assignee_id"])

        self.w.write(Followup.__table__, rows(), total, "follow-ups")
        self.w.write(FollowupAttempt.__table__, attempts, len(attempts), "follow-up attempts")

    # -- referrals and engagement (issues 9 and 10), when their models exist ------------------------
    def optional_domains(self) -> None:
        for name in ("referrals", "engagement"):
            builder = getattr(self, f"build_{name}", None)
            try:
                __import__(f"clinician_app.{name}.models")
            except ImportError:
                print(f"{name}: not available in this tree; skipped", file=sys.stderr)
                continue
            if builder is not None:
                builder()

    def build_referrals(self) -> None:
        from clinician_app.referrals.models import Consent, Disclosure, Referral, ServiceEntry

        g, total = self.g, scaled("referrals", self.scale, 20)
        cases = self.case_rows
        if not cases:
            return
        services = [{"id": g.uuid(), "name": f"{kind.title()} service {n}", "kind": kind, "description": "",
                     "phone": "978-555-0100", "address": f"{n} Service Road", "website": "", "hours": "Mon-Fri 9-5",
                     "serves_all_towns": True, "active": True, "created_at": self.start, "updated_at": self.start}
                    for n, kind in enumerate(("cmhc", "detox", "outpatient", "housing", "recovery_coach", "elder",
                                              "mobile_crisis", "cbhc") * 3)]
        self.w.write(ServiceEntry.__table__, services, len(services), "service directory")
        person_agency = {pid: town for town, ids in self.persons_by_town.items() for pid in ids}
        consents: list[dict] = []
        disclosures: list[dict] = []
        to_agencies = [a.id for a in [*self.towns, self.bhu]]

        def rows() -> Iterator[dict]:
            for _ in range(total):
                case = g.rng.choice(cases)
                rid = g.uuid()
                sent = self.when(case["opened_at"], min(case.get("closed_at") or self.anchor, self.anchor))
                to_agency = g.chance(0.3)
                service = None if to_agency else g.rng.choice(services)
                target = g.rng.choice([a for a in to_agencies if a != case["agency_id"]]) if to_agency else None
                part2 = g.chance(0.1)
                categories = "identity,mental_health" + (",substance_use" if part2 else "")
                consent_id = None
                if g.chance(0.7):
                    consent_id = g.uuid()
                    signed = sent.date() - timedelta(days=g.rng.randint(0, 30))
                    consents.append({
                        "id": consent_id, "agency_id": case["agency_id"], "person_id": case["person_id"],
                        "recipient_kind": "agency" if to_agency else "service", "recipient_agency_id": target,
                        "recipient_service_id": service["id"] if service else None, "categories": categories,
                        "purpose_enc": encrypt(Consent, "purpose", consent_id, "Coordination of care after the crisis."),
                        "expires_on": signed + timedelta(days=365), "signed_on": signed, "signed_method": "written",
                        "signed_by": "person", "recorded_by_id": case["assignee_id"],
                        "created_at": datetime.combine(signed, datetime.min.time(), UTC)})
                status = (g.rng.choice(("accepted", "accepted", "declined", "pending")) if to_agency
                          else g.rng.choice(("sent", "scheduled", "attended", "attended", "no_show", "declined")))
                row = {
                    "id": rid, "kind": "agency" if to_agency else "service", "from_agency_id": case["agency_id"],
                    "case_id": case["id"], "person_id": case["person_id"], "to_agency_id": target,
                    "service_id": service["id"] if service else None, "status": status,
                    "shares_information": consent_id is not None, "includes_part2": part2 and consent_id is not None,
                    "categories": categories if consent_id else "", "basis": "consent" if consent_id else None,
                    "consent_id": consent_id,
                    "reason_enc": encrypt(Referral, "reason", rid, "Needs ongoing outpatient support after the crisis."),
                    "summary_text_enc": encrypt(Referral, "summary_text", rid, "Two crisis calls this month; engaged.")
                    if consent_id else None,
                    "risk_level": g.rng.choice(("low", "moderate", "high")), "cautions": "",
                    "requested_action": "assess" if to_agency else None,
                    "sent_by_id": case["assignee_id"], "sent_at": sent,
                }
                if consent_id and person_agency.get(case["person_id"]):
                    row["person_first_name_enc"] = encrypt(Referral, "person_first_name", rid, g.name(2))
                    row["person_last_name_enc"] = encrypt(Referral, "person_last_name", rid, g.name(3))
                    did = g.uuid()
                    disclosures.append({
                        "id": did, "agency_id": case["agency_id"], "person_id": case["person_id"], "case_id": case["id"],
                        "referral_id": rid, "consent_id": consent_id, "basis": "consent", "disclosed_at": sent,
                        "disclosed_by_id": case["assignee_id"], "recipient_kind": row["kind"],
                        "recipient_agency_id": target, "recipient_service_id": row["service_id"],
                        "categories": categories, "includes_part2": row["includes_part2"],
                        "description_enc": encrypt(Disclosure, "description", did, "Referral summary and contact details."),
                        "purpose_enc": encrypt(Disclosure, "purpose", did, "Coordination of care."),
                        "notice_attached": row["includes_part2"], "created_at": sent})
                if status in ("accepted", "declined", "scheduled", "attended", "no_show"):
                    row.update(decided_at=sent + timedelta(days=g.rng.randint(1, 10)),
                               status_updated_at=sent + timedelta(days=g.rng.randint(1, 10)))
                yield row

        # Referrals point at consents: build them first, write consents, then referrals.
        referral_rows = list(rows())
        self.w.write(Consent.__table__, consents, len(consents), "consents")
        self.w.write(Referral.__table__, referral_rows, len(referral_rows), "referrals")
        self.w.write(Disclosure.__table__, disclosures, len(disclosures), "disclosures")

    def build_engagement(self) -> None:
        from clinician_app.engagement import models as eng

        g, total = self.g, scaled("engagement", self.scale, 20)
        places, visits, visit_officers, events, event_officers, posts = [], [], [], [], [], []
        programs, sessions = [], []
        for town in self.towns:
            for n in range(10 if self.scale < 0.1 else 40):
                places.append({"id": g.uuid(), "agency_id": town.id, "name": f"{g.name(2)} {('School', 'Market', 'Park')[n % 3]}",
                               "kind": ("school", "business", "park")[n % 3], "address": f"{n + 1} Main Street",
                               "address_key": f"{n + 1} main street", "created_at": self.start})
            for program in ("pal", "academy"):
                programs.append({"id": g.uuid(), "agency_id": town.id, "program": program,
                                 "title": f"{program.upper()} {town.code}", "created_by_id": self.users[(town.id, "engagement")][0],
                                 "created_at": self.start})
        places_by_town: dict[str, list[str]] = {}
        for place in places:
            places_by_town.setdefault(place["agency_id"], []).append(place["id"])
        for _ in range(total):
            town = self.town()
            officers = self.users[(town.id, "officer")]
            author = self.users[(town.id, "engagement")][0]
            kind = g.rng.random()
            when = self.when()
            if kind < 0.5:
                vid = g.uuid()
                visits.append({"id": vid, "agency_id": town.id, "place_id": g.rng.choice(places_by_town[town.id]),
                               "kind": "school", "started_at": when, "duration_minutes": g.rng.randint(10, 90),
                               "purpose": "Walk-through and chat with staff",
                               "notes_enc": encrypt(eng.CommunityVisit, "notes", vid, "Spoke with the principal about drop-off.")
                               if g.chance(0.3) else None, "created_by_id": author, "created_at": when})
                visit_officers.append({"visit_id": vid, "user_id": g.rng.choice(officers)})
            elif kind < 0.7:
                eid = g.uuid()
                events.append({"id": eid, "agency_id": town.id, "kind": g.rng.choice(("event", "seminar")),
                               "title": "Coffee with a cop", "topic": "Community safety", "held_on": when.date(),
                               "attendance": g.rng.randint(5, 120), "created_by_id": author, "created_at": when})
                event_officers.append({"event_id": eid, "user_id": g.rng.choice(officers)})
            elif kind < 0.9:
                posts.append({"id": g.uuid(), "agency_id": town.id, "platform": g.rng.choice(("facebook", "nextdoor")),
                              "posted_on": when.date(), "topic": g.rng.choice(("crime_trend", "prevention", "general_safety")),
                              "title": "Lock your car at night", "reach": g.rng.randint(100, 5000), "created_by_id": author,
                              "created_at": when})
            else:
                program = g.rng.choice([p for p in programs if p["agency_id"] == town.id])
                sessions.append({"id": g.uuid(), "agency_id": town.id, "program_id": program["id"], "held_on": when.date(),
                                 "activity": "Basketball night", "participants_8_10": g.rng.randint(0, 10),
                                 "participants_11_13": g.rng.randint(0, 15), "participants_14_17": g.rng.randint(0, 12),
                                 "created_by_id": author, "created_at": when})
        for table, rows, label in ((eng.Place.__table__, places, "places"),
                                   (eng.CommunityVisit.__table__, visits, "community visits"),
                                   (eng.visit_officers, visit_officers, "visit officers"),
                                   (eng.EngagementEvent.__table__, events, "engagement events"),
                                   (eng.event_officers, event_officers, "event officers"),
                                   (eng.AwarenessPost.__table__, posts, "awareness posts"),
                                   (eng.YouthProgram.__table__, programs, "youth programs"),
                                   (eng.YouthSession.__table__, sessions, "youth sessions")):
            self.w.write(table, rows, len(rows), label)

    # -- audit events ----------------------------------------------------------------------------
    def audit_events(self) -> None:
        from clinician_app.core.audit import AuditEvent, AuditHead, compute_mac
        from clinician_app.extensions import db

        g, total = self.g, scaled("audit_events", self.scale, 100)
        key = self.app.extensions["clinician_keys"].audit_key
        head = db.session.get(AuditHead, 1)
        seq, prev_mac = head.last_seq, head.last_mac
        db.session.rollback()
        actions = [a for a in AUDIT_ACTIONS]
        cumulative = list(accumulate(a[2] for a in actions))
        pools = {
            "case": [c["id"] for c in self.case_rows] or [None],
            "person": [pid for ids in self.persons_by_town.values() for pid in ids[:20000]] or [None],
            "call": [c[0] for c in self.closed_calls[:100_000]] or [None],
            "case_note": getattr(self, "note_ids", None) or [None],
            "followup": getattr(self, "followup_ids", None) or [None],
        }
        user_names = {}
        for (agency_id, role), ids in self.users.items():
            code = next(a.code for a in [*self.towns, self.bhu] if a.id == agency_id).lower()
            for k, uid in enumerate(ids):
                user_names[uid] = f"{role.replace('_', '')}{k}.{code}"
        users = self.all_user_ids
        step = self.span_seconds / (total + 1)
        started = self.start
        final = {}

        def rows() -> Iterator[dict]:
            nonlocal seq, prev_mac
            for n in range(total):
                action, record_type, _weight = g.weighted(actions, cumulative)
                actor = g.rng.choice(users)
                seq += 1
                event = SimpleNamespace(
                    seq=seq, occurred_at=started + timedelta(seconds=step * (n + g.rng.random())),
                    actor_id=actor, actor_username=user_names[actor], agency_id=self.user_agency[actor],
                    action=action, record_type=record_type,
                    record_id=g.rng.choice(pools[record_type]) if record_type else None,
                    remote_addr=f"10.{g.rng.randrange(8)}.{g.rng.randrange(256)}.{g.rng.randrange(1, 255)}",
                    outcome="success", reason=None,
                    details=json.dumps({"view": "page"}, sort_keys=True, separators=(",", ":"))
                    if action.endswith(".read") else None)
                event.prev_mac = prev_mac
                event.mac = compute_mac(key, prev_mac, AuditEvent.canonical(event))
                prev_mac = event.mac
                yield vars(event)
            final["seq"], final["mac"] = seq, prev_mac

        self.w.write(AuditEvent.__table__, rows(), total, "audit events")
        with db.engine.begin() as conn:
            conn.execute(AuditHead.__table__.update().where(AuditHead.id == 1)
                         .values(last_seq=final["seq"], last_mac=final["mac"]))


CALL_TYPE_CUMULATIVE = list(accumulate(CALL_TYPE_WEIGHTS))


def write_manifest(manifest: dict, database_url: str, keys: Path) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = make_url(database_url).database or "bench"
    path = RESULTS / f"seed-{Path(name).stem}.json"
    path.write_text(json.dumps({**manifest, "database_url": database_url, "keys": str(keys)}, indent=2, default=str))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL,
                        help=f"PostgreSQL (or SQLite) URL of a bench database (default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--recreate", action="store_true", help="drop and create the database first")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 100,000 calls, 2 M audit events... (default 1)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--towns", type=int, default=6, help="partner towns besides the BHU (default 6)")
    parser.add_argument("--years", type=int, default=10, help="years of history (default 10)")
    parser.add_argument("--anchor", type=date.fromisoformat, default=None, help="the 'today' of the data (default today)")
    parser.add_argument("--keys", type=Path, default=None,
                        help="key file (made if missing; default bench/results/keys-<database>.json)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    keys = args.keys or RESULTS / f"keys-{Path(make_url(args.database_url).database or 'bench').stem}.json"
    if args.recreate:
        recreate_database(args.database_url)
        if args.keys is None:
            keys.unlink(missing_ok=True)  # a fresh database, fresh keys
    RESULTS.mkdir(parents=True, exist_ok=True)
    manifest = seed(args.database_url, keys, scale=args.scale, seed_value=args.seed, towns=args.towns,
                    years=args.years, anchor=args.anchor, progress=not args.no_progress)
    path = write_manifest(manifest, args.database_url, keys)
    total = sum(manifest["rows"].values())
    print(f"seeded {total:,} rows in {manifest['seconds']:.0f} s (scale {args.scale:g}, seed {args.seed}); manifest {path}")
    for table, count in manifest["rows"].items():
        print(f"  {table:<22} {count:>10,}")


if __name__ == "__main__":
    main()
