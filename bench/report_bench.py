"""Reports at the size of the region: one town-month and one BHU-year report, beside
the same aggregates written by hand as one SQL statement, in the same run.

    .venv/bin/python bench/report_bench.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]
        [--calls 100000] [--repeat 15] [--keep]

What it does, on this machine, in a scratch schema dropped afterwards (``--keep``
leaves it for a second look):

* the migrations, then six towns and the BHU, and ten years of data written by
  server-side ``INSERT ... SELECT generate_series`` (a few seconds): ``--calls``
  calls (85% flagged, most with a first contact; 60% linked to one of 60,000
  persons, a few of whom call often), 45% of them with an encounter, triages,
  35,000 cases, 300,000 case notes (one real ciphertext from the key ring, copied:
  reports never read them, they are there for the table sizes), 200,000
  follow-ups, break-glass grants, community visits and, when the referrals tables
  exist, 20,000 referrals; then ``ANALYZE``;
* ``--repeat`` timed runs of ``metrics.build_report`` (the report's figures:
  every query the page runs, engagement included) and of ``tables``/``charts``
  built from them, for the town-month (the busiest town, last full month) and the
  BHU-year (every town, the last twelve full months);
* the same runs of one hand-written SQL statement computing the same aggregates
  (CTEs, ``date_trunc`` in the time zone, ``percentile_cont``), as the yardstick.

Prints median and 90th percentile milliseconds and the ratio to the hand-written
query. Figures only: nothing here asserts a timing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

TOWNS = [("Bench Town 1", "BT1"), ("Bench Town 2", "BT2"), ("Bench Town 3", "BT3"), ("Bench Town 4", "BT4"),
         ("Bench Town 5", "BT5"), ("Bench Town 6", "BT6")]
TZ = "America/New_York"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the scratch schema")
    parser.add_argument("--schema", help="measure again in a schema an earlier --keep run left (no seeding)")
    parser.add_argument("--indexes", action="store_true",
                        help="first add the indexes the reports would like (PROPOSED_INDEXES) and ANALYZE")
    args = parser.parse_args()

    import tempfile

    from clinician_app.core.keyfile import new_material, write_material

    workdir = Path(tempfile.mkdtemp(prefix="report-bench-"))
    keys = workdir / "keys.json"
    write_material(keys, new_material())
    schema = args.schema or f"report_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(args.database_url, isolation_level="AUTOCOMMIT")
    if not args.schema:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in args.database_url else "?"
    url = f"{args.database_url}{sep}options=-csearch_path%3D{schema}"
    try:
        run(url, keys, args)
    finally:
        if args.keep or args.schema:
            print(f"\nkept schema {schema} (drop it with: DROP SCHEMA \"{schema}\" CASCADE)")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(url: str, keys: Path, args) -> None:
    from flask_migrate import upgrade

    from clinician_app import create_app
    from clinician_app.extensions import db

    app = create_app("test", KEYS_FILE=str(keys), SQLALCHEMY_DATABASE_URI=url, SERVER_NAME="localhost")
    with app.app_context():
        started = time.perf_counter()
        if args.schema:
            ids = existing_ids()
        else:
            upgrade()
            ids = seed(args.calls)
        if args.indexes:
            for statement in PROPOSED_INDEXES:
                db.session.execute(text(statement))
            db.session.execute(text("ANALYZE"))
            db.session.commit()
            print("with the proposed indexes:\n  " + ";\n  ".join(PROPOSED_INDEXES))
        print(f"{'reused' if args.schema else 'seeded'} in {time.perf_counter() - started:.1f}s: " + ", ".join(
            f"{db.session.execute(text(f'SELECT count(*) FROM {t}')).scalar_one():,} {t}"
            for t in ("calls", "encounters", "triages", "cases", "case_notes", "followups", "persons",
                      "break_glass_grants", "eng_visits", *(["referrals"] if _has("referrals") else []))))
        measure(ids, args.repeat)


# What the report's queries would like beside the existing indexes (for migration 0012).
PROPOSED_INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_encounters_started ON encounters (started_at)",
    "CREATE INDEX IF NOT EXISTS ix_triages_created ON triages (created_at)",
    "CREATE INDEX IF NOT EXISTS ix_followups_due ON followups (due_at)",
    "CREATE INDEX IF NOT EXISTS ix_break_glass_agency_granted ON break_glass_grants (agency_id, granted_at)",
]


def existing_ids() -> dict:
    from clinician_app.extensions import db

    users = dict(db.session.execute(text(
        "SELECT a.code, u.id FROM users u JOIN agencies a ON a.id = u.agency_id WHERE u.username LIKE 'supervisor.%'")).all())
    towns = list(db.session.execute(text("SELECT id FROM agencies WHERE kind = 'town'")).scalars())
    bhu = db.session.execute(text("SELECT id FROM agencies WHERE kind = 'bhu'")).scalar_one()
    return {"towns": towns, "bhu": bhu, "users": users}


def _has(table: str) -> bool:
    from clinician_app.extensions import db

    return db.session.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table}).scalar_one()


def seed(calls: int) -> dict:
    from clinician_app.agencies.models import Agency
    from clinician_app.auth.models import User, UserRole
    from clinician_app.cases.note_models import CaseNote
    from clinician_app.extensions import db

    towns = [Agency(name=name, code=code, kind="town", timezone=TZ) for name, code in TOWNS]
    bhu = Agency(name="Bench Regional BHU", code="BBHU", kind="bhu", timezone=TZ)
    db.session.add_all([*towns, bhu])
    db.session.flush()
    users = {}
    for agency in [*towns, bhu]:
        user = User(username=f"supervisor.{agency.code.lower()}", display_name="Supervisor", agency_id=agency.id,
                    password_hash="not-a-hash")  # noqa: S106 - no sign-in in this bench
        db.session.add(user)
        db.session.flush()
        db.session.add(UserRole(user_id=user.id, role="supervisor"))
        users[agency.code] = user.id
    db.session.flush()
    sample = CaseNote(id=str(uuid.uuid4()), case_id="x", agency_id=towns[0].id, kind="contact", author_id="x")
    sample.body = "A realistic case note of a few sentences. " * 8  # one ciphertext, copied to every note
    note_bytes = sample.body_enc
    db.session.commit()

    town_ids = [t.id for t in towns]
    params = {"towns": town_ids, "calls": calls, "author": users["BT1"], "note": note_bytes,
              "now": datetime.now(UTC)}
    statements = [
        # 60,000 persons, spread over the towns.
        """INSERT INTO persons (id, agency_id, sex, race, ethnicity, veteran_status, housing_status, created_at, updated_at)
           SELECT gen_random_uuid()::text, (CAST(:towns AS text[]))[1 + (g % 6)], (ARRAY['female','male','x','unknown'])[1 + g % 4],
                  (ARRAY['white','black','asian','multiple','unknown'])[1 + g % 5],
                  (ARRAY['hispanic','not_hispanic','unknown'])[1 + g % 3],
                  (ARRAY['veteran','not_veteran','unknown'])[1 + g % 3],
                  (ARRAY['housed','unstably_housed','homeless_sheltered','unknown'])[1 + g % 4], :now, :now
           FROM generate_series(1, 60000) g""",
        "CREATE TEMP TABLE bench_persons AS SELECT row_number() OVER (ORDER BY id) AS n, id, agency_id FROM persons",
        "CREATE INDEX ON bench_persons (n)",
        # Calls over ten years; a few persons call often (random()^3 skews towards low numbers).
        """INSERT INTO calls (id, agency_id, incident_number, received_at, address, address_key, call_type,
                              caller_relation, indicator_mental_health, indicator_suicidal, indicator_substance_use,
                              indicator_intoxication, indicator_developmental_disability, indicator_dementia,
                              indicator_juvenile, caution_weapon, caution_violence, caution_hazards, co_response,
                              urgency, status, flagged_at, first_contact_at, closed_at, route, acuity, person_id,
                              source, created_at, updated_at)
           SELECT gen_random_uuid()::text, (CAST(:towns AS text[]))[1 + (g % 6)], 'B-' || g, r.received, '1 Main Street', '1 main st',
                  (ARRAY['well_being_check','suicidal_person','overdose','disturbance','domestic','other'])[1 + g % 6],
                  'family', g % 2 = 0, g % 7 = 0, g % 3 = 0, g % 5 = 0, false, g % 11 = 0, g % 13 = 0,
                  g % 17 = 0, g % 19 = 0, false, r.flagged, (ARRAY['now','same_day','follow_up'])[1 + g % 3],
                  CASE WHEN r.flagged THEN 'closed' ELSE 'recorded' END,
                  CASE WHEN r.flagged THEN r.received + interval '2 minutes' END,
                  CASE WHEN r.flagged AND g % 10 < 8
                       THEN r.received + interval '2 minutes' + (interval '1 minute' * (5 + (random() ^ 2) * 600)) END,
                  CASE WHEN r.flagged THEN r.received + interval '1 day' END,
                  (ARRAY['department','bhu','outside'])[1 + g % 3], 'urgent',
                  CASE WHEN g % 10 < 6 THEN bp.id END,
                  'cad', r.received, r.received
           FROM generate_series(1, :calls) g,
                LATERAL (SELECT CAST(:now AS timestamptz) - interval '1 second' * floor(random() * 315360000) AS received,
                                g % 20 < 17 AS flagged, 1 + floor((random() ^ 3) * 59999)::int + 0 * g AS pn) r
                JOIN bench_persons bp ON bp.n = r.pn""",
        # Encounters on 45% of the calls.
        """INSERT INTO encounters (id, call_id, agency_id, kind, started_at, ended_at, disposition_id,
                                   point_of_intervention, custody_diverted, jail_diversion_option, ed_visit_prevented,
                                   created_by_id, created_at)
           SELECT gen_random_uuid()::text, c.id, c.agency_id, (ARRAY['on_scene','phone','outreach'])[1 + n % 3],
                  coalesce(c.first_contact_at, c.received_at + interval '40 minutes'),
                  coalesce(c.first_contact_at, c.received_at + interval '40 minutes') + interval '45 minutes',
                  d.ids[1 + n % array_length(d.ids, 1)],
                  (ARRAY['non_criminal','pre_arrest','post_arrest','reentry'])[1 + n % 4],
                  CASE n % 3 WHEN 0 THEN true WHEN 1 THEN false END, CASE n % 4 WHEN 0 THEN true WHEN 1 THEN false END,
                  CASE n % 5 WHEN 0 THEN true WHEN 1 THEN false END, :author, c.received_at
           FROM (SELECT *, row_number() OVER () AS n FROM calls WHERE co_response) c,
                (SELECT array_agg(id ORDER BY position) AS ids FROM dispositions) d
           WHERE c.n % 100 < 53""",
        """INSERT INTO triages (id, call_id, screen_risk, risk_level, acuity, route, suggested_route,
                                suggestion_reason, created_by_id, created_at)
           SELECT gen_random_uuid()::text, id, 'moderate', 'moderate', 'urgent', route,
                  CASE WHEN random() < 0.1 THEN 'bhu' ELSE route END, 'bench rule', :author,
                  received_at + interval '10 minutes'
           FROM calls WHERE co_response""",
        """INSERT INTO cases (id, agency_id, person_id, status, opened_at, created_at, updated_at)
           SELECT gen_random_uuid()::text, p.agency_id, p.id, 'open', CAST(:now AS timestamptz) - interval '1 day' * (n % 3650), :now, :now
           FROM bench_persons p WHERE n <= 35000""",
        "CREATE TEMP TABLE bench_cases AS SELECT row_number() OVER (ORDER BY id) AS n, id, agency_id FROM cases",
        "CREATE INDEX ON bench_cases (n)",
        """INSERT INTO case_notes (id, case_id, agency_id, kind, sensitivity, author_id, created_at, body_enc)
           SELECT gen_random_uuid()::text, c.id, c.agency_id, 'contact', 'normal', :author,
                  CAST(:now AS timestamptz) - interval '1 minute' * g, :note
           FROM generate_series(1, 300000) g JOIN bench_cases c ON c.n = 1 + g % 35000""",
        """INSERT INTO followups (id, agency_id, case_id, encounter_id, assignee_id, "window", anchor_at, due_at, status,
                                 completed_at, completed_by, done_within_window, created_by_id, created_at)
           SELECT gen_random_uuid()::text, c.agency_id, c.id, NULL, :author, g::text || 'h', f.due - interval '1 day',
                  f.due, f.status, CASE WHEN f.status = 'done' THEN f.due END,
                  CASE WHEN f.status = 'done' THEN 'attempt' END,
                  CASE WHEN f.status = 'done' THEN random() < 0.8 END, :author, f.due - interval '1 day'
           FROM generate_series(1, 200000) g JOIN bench_cases c ON c.n = 1 + g % 35000,
                LATERAL (SELECT CAST(:now AS timestamptz) - interval '1 second' * floor(random() * 315360000) AS due,
                                (ARRAY['done','done','done','done','done','done','done','open','cancelled'])[1 + g % 9]
                                AS status) f""",
        """UPDATE followups f SET encounter_id = e.id FROM (
               SELECT e.id, row_number() OVER () AS n FROM encounters e) e
           WHERE f.id IN (SELECT id FROM followups ORDER BY id LIMIT 40000) AND e.n = 1 + (hashtext(f.id) & 32767)""",
        """INSERT INTO break_glass_grants (id, user_id, case_id, person_id, agency_id, reason_code, granted_at, expires_at,
                                          reviewed_at, review_outcome)
           SELECT gen_random_uuid()::text, :author, c.id, NULL, c.agency_id, 'imminent_risk', t.at, t.at + interval '1 hour',
                  CASE WHEN g % 2 = 0 THEN t.at + interval '1 day' END,
                  CASE WHEN g % 2 = 0 THEN (ARRAY['appropriate','inappropriate'])[1 + g % 4 / 2] END
           FROM generate_series(1, 3000) g JOIN bench_cases c ON c.n = 1 + (g * 7) % 35000,
                LATERAL (SELECT CAST(:now AS timestamptz) - interval '1 second' * floor(random() * 315360000 + 0 * g) AS at) t""",
        """INSERT INTO eng_visits (id, agency_id, kind, started_at, duration_minutes, purpose, created_by_id, created_at)
           SELECT gen_random_uuid()::text, (CAST(:towns AS text[]))[1 + (g % 6)],
                  (ARRAY['school','daycare','business','neighbourhood','park','other'])[1 + g % 6],
                  CAST(:now AS timestamptz) - interval '1 second' * floor(random() * 315360000), 15 + g % 30, 'Walk-through', :author, :now
           FROM generate_series(1, 30000) g""",
    ]
    if _has("referrals"):
        statements.append(
            """INSERT INTO referrals (id, kind, from_agency_id, case_id, person_id, status, shares_information,
                                     includes_part2, categories, cautions, sent_by_id, sent_at)
               SELECT gen_random_uuid()::text, 'agency', c.agency_id, c.id, p.id,
                      (ARRAY['pending','accepted','accepted','declined'])[1 + g % 4], true, false, '', '', :author,
                      CAST(:now AS timestamptz) - interval '1 second' * floor(random() * 315360000)
               FROM generate_series(1, 20000) g JOIN bench_cases c ON c.n = 1 + g % 35000
               JOIN cases cc ON cc.id = c.id JOIN persons p ON p.id = cc.person_id""")
    for statement in statements:
        db.session.execute(text(statement), {k: v for k, v in params.items() if f":{k}" in statement})
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return {"towns": town_ids, "bhu": bhu.id, "users": users}


HAND_SQL = """
WITH
c AS (
  SELECT agency_id, received_at, co_response, flagged_at, first_contact_at,
         date_trunc('month', received_at AT TIME ZONE :tz) AS m
  FROM calls WHERE agency_id = ANY(:ids) AND received_at >= :trend_start AND received_at < :end),
calls_by_month AS (
  SELECT m, agency_id, count(*) AS calls, count(*) FILTER (WHERE co_response) AS flagged FROM c GROUP BY m, agency_id),
contact_by_month AS (
  SELECT m, count(*) AS n,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_contact_at - flagged_at)) AS med,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_contact_at - flagged_at)) AS p90
  FROM c WHERE co_response AND flagged_at IS NOT NULL AND first_contact_at IS NOT NULL GROUP BY m),
contact_period AS (
  SELECT count(*) AS n,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_contact_at - flagged_at)) AS med,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_contact_at - flagged_at)) AS p90
  FROM c WHERE co_response AND flagged_at IS NOT NULL AND first_contact_at IS NOT NULL AND received_at >= :start),
enc AS (
  SELECT date_trunc('month', e.started_at AT TIME ZONE :tz) AS m, ca.agency_id, e.kind, e.disposition_id,
         e.custody_diverted, e.jail_diversion_option, e.ed_visit_prevented, count(*) AS n
  FROM encounters e JOIN calls ca ON ca.id = e.call_id
  WHERE ca.agency_id = ANY(:ids) AND e.started_at >= :trend_start AND e.started_at < :end
  GROUP BY 1, 2, 3, 4, 5, 6, 7),
disp AS (SELECT id, code, label, counts_as_diversion FROM dispositions),
fu AS (
  SELECT count(*) FILTER (WHERE f.status <> 'cancelled' AND (f.status = 'done' OR f.due_at <= now())) AS due,
         count(*) FILTER (WHERE f.done_within_window) AS within,
         count(*) FILTER (WHERE f.status = 'done' AND NOT f.done_within_window) AS late,
         count(*) FILTER (WHERE f.status = 'open' AND f.due_at <= now()) AS overdue,
         count(*) FILTER (WHERE f.status = 'cancelled') AS cancelled
  FROM followups f LEFT JOIN encounters e ON e.id = f.encounter_id LEFT JOIN calls ca ON ca.id = e.call_id
  WHERE coalesce(ca.agency_id, f.agency_id) = ANY(:ids) AND f.due_at >= :start AND f.due_at < :end),
rep AS (
  SELECT count(DISTINCT person_id) AS people FROM (
    SELECT this.person_id FROM calls this
    JOIN calls earlier ON earlier.person_id = this.person_id AND earlier.received_at <= this.received_at
                      AND earlier.received_at >= this.received_at - interval '90 days'
    WHERE this.agency_id = ANY(:ids) AND this.person_id IS NOT NULL
      AND this.received_at >= :start AND this.received_at < :end
    GROUP BY this.id, this.person_id HAVING count(*) >= 3) r),
tri AS (
  SELECT t.route, count(*) AS n,
         count(*) FILTER (WHERE t.route <> t.suggested_route
                          OR coalesce(t.outside_service, '') <> coalesce(t.suggested_outside_service, '')) AS overrides
  FROM triages t JOIN calls ca ON ca.id = t.call_id
  WHERE ca.agency_id = ANY(:ids) AND t.created_at >= :start AND t.created_at < :end GROUP BY t.route),
bg AS (
  SELECT count(*) AS n, count(*) FILTER (WHERE reviewed_at IS NOT NULL) AS reviewed,
         count(*) FILTER (WHERE review_outcome = 'inappropriate') AS inappropriate
  FROM break_glass_grants WHERE agency_id = ANY(:ids) AND granted_at >= :start AND granted_at < :end),
{referrals_cte}
vis AS (
  SELECT agency_id, kind, count(*) AS n, sum(duration_minutes) AS minutes FROM eng_visits
  WHERE agency_id = ANY(:ids) AND started_at >= :start AND started_at < :end GROUP BY agency_id, kind)
SELECT (SELECT json_agg(calls_by_month) FROM calls_by_month), (SELECT json_agg(contact_by_month) FROM contact_by_month),
       (SELECT row_to_json(contact_period) FROM contact_period), (SELECT json_agg(enc) FROM enc),
       (SELECT json_agg(disp) FROM disp), (SELECT row_to_json(fu) FROM fu), (SELECT people FROM rep),
       (SELECT json_agg(tri) FROM tri), (SELECT row_to_json(bg) FROM bg), {referrals_select}
       (SELECT json_agg(vis) FROM vis)
"""
REFERRALS_CTE = """ref AS (
  SELECT coalesce(s.kind, 'agency') AS kind, count(*) AS made,
         count(*) FILTER (WHERE r.status IN ('accepted', 'scheduled', 'attended')) AS accepted,
         count(*) FILTER (WHERE r.status = 'declined') AS declined
  FROM referrals r LEFT JOIN service_directory s ON s.id = r.service_id
  WHERE r.from_agency_id = ANY(:ids) AND r.sent_at >= :start AND r.sent_at < :end GROUP BY 1),"""


def _time(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(ids: dict, repeat: int) -> None:
    from clinician_app.auth.models import User
    from clinician_app.core.timeutil import to_local, utcnow
    from clinician_app.extensions import db
    from clinician_app.reports.charts import coresponse_charts
    from clinician_app.reports.metrics import build_report
    from clinician_app.reports.period import Period, last_full_month
    from clinician_app.reports.policies import resolve_scope
    from clinician_app.reports.tables import report_tables

    last = last_full_month(to_local(utcnow(), TZ).date())
    busiest = db.session.execute(text("SELECT agency_id FROM calls GROUP BY agency_id ORDER BY count(*) DESC LIMIT 1"
                                      )).scalar_one()
    town_user = db.session.execute(db.select(User).where(User.agency_id == busiest)).scalars().first()
    bhu_user = db.session.get(User, ids["users"]["BBHU"])
    has_referrals = _has("referrals")
    hand_sql = HAND_SQL.format(referrals_cte=REFERRALS_CTE if has_referrals else "",
                               referrals_select="(SELECT json_agg(ref) FROM ref)," if has_referrals else "")
    cases = [("town-month", resolve_scope(town_user, None), Period(last, last, TZ)),
             ("BHU-year", resolve_scope(bhu_user, "all"), Period(last.plus(-11), last, TZ))]
    print(f"\n{'report':<11} {'what':<38} {'median ms':>10} {'p90 ms':>8} {'vs hand SQL':>12}")
    for name, scope, period in cases:
        trend = period.trend()
        bind = {"ids": list(scope.agency_ids), "tz": TZ, "start": period.start, "end": period.end,
                "trend_start": trend.start}
        report = build_report(scope, period)
        figures = _time(lambda scope=scope, period=period: build_report(scope, period), repeat)
        full = _time(lambda scope=scope, period=period: _full(build_report(scope, period), report_tables,
                                                              coresponse_charts), repeat)
        hand = _time(lambda bind=bind: db.session.execute(text(hand_sql), bind).one(), repeat)
        base = statistics.median(hand)
        for label, times in ((f"figures ({report.queries} queries + engagement)", figures),
                             ("figures, tables and SVG charts", full), ("hand-written single SQL statement", hand)):
            print(f"{name:<11} {label:<38} {statistics.median(times):>10.1f} "
                  f"{statistics.quantiles(times, n=10)[8]:>8.1f} {statistics.median(times) / base:>11.2f}x")
        f = report.coresponse
        print(f"{'':<11} ({f.flagged:,} flagged calls, {f.coresponses:,} co-responses, {f.followups_due:,} follow-ups "
              f"due, {f.repeat_contacts:,} repeat contacts in {period.title})")
    db.session.rollback()


def _full(report, report_tables, coresponse_charts):
    report_tables(report)
    coresponse_charts(report.coresponse, True)


if __name__ == "__main__":
    main()
