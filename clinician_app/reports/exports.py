"""What leaves the department as files: each report table as CSV, a de-identified
call-level extract for program evaluation, and the state diversion program's
per-encounter extract.

De-identification (both extracts): no names, no dates of birth (an age band at
the time of the call), no addresses, no free text (narratives, notes, caution
notes, reasons), no incident numbers and no record ids (rows are numbered in a
shuffled order), dates to the month (the diversion extract: to the hour, as the
state's form asks). What remains are codes (call type, indicators, disposition,
demographic codes the person record holds) and counts.

Every aggregate count of 1 to 4 is "<5" in these files (see tables.py). Queries are
a fixed handful per file, whatever the number of rows; dates of birth are
decrypted only to compute the band, in memory.
"""
from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from clinician_app.agencies.models import Agency
from clinician_app.calls.codes import CALL_TYPES, CALLER_RELATIONS, CAUTIONS, INDICATORS, RECEIVED_VIA, SOURCES, URGENCIES
from clinician_app.calls.models import Call, caution_column, indicator_column
from clinician_app.cases.codes import ENCOUNTER_KINDS, POINTS_OF_INTERVENTION
from clinician_app.cases.models import Disposition, Encounter, EncounterCharge
from clinician_app.core.csv_export import csv_text
from clinician_app.core.timeutil import to_local
from clinician_app.extensions import db
from clinician_app.people import codes as people_codes
from clinician_app.people.models import Person

from .metrics import ROUTE_LABELS, _days_before, is_postgres
from .period import Period
from .policies import Scope
from .tables import Table

MAPPING_FILE = Path(__file__).with_name("diversion_fields.json")
NOT_RECORDED = "Not recorded"
CHUNK = 2000


def table_csv(table: Table) -> str:
    return csv_text(table.csv_rows())


def yes_no(value: bool | None) -> str:
    return "Not known" if value is None else ("Yes" if value else "No")


def _chunks(values: list, size: int = CHUNK):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def _people(person_ids) -> dict[str, Person]:
    ids = sorted({p for p in person_ids if p})
    found: dict[str, Person] = {}
    for chunk in _chunks(ids):
        found.update({p.id: p for p in db.session.execute(select(Person).where(Person.id.in_(chunk))).scalars()})
    return found


def _age_band(person: Person | None, on: date) -> str:
    if person is None:
        return NOT_RECORDED
    return people_codes.age_band(person.date_of_birth, on)


def _demographics(person: Person | None) -> dict[str, str]:
    if person is None:
        return dict.fromkeys(people_codes.CODED_FIELDS, people_codes.UNKNOWN)
    return {name: getattr(person, name) or people_codes.UNKNOWN for name in people_codes.CODED_FIELDS}


def _shuffled(rows: list, key) -> list:
    """Rows in a random order within each sort group, so the order tells nothing about dates or ids."""
    rng = secrets.SystemRandom()
    tagged = [(key(row), rng.random(), row) for row in rows]
    tagged.sort(key=lambda t: (t[0], t[1]))
    return [row for _, _, row in tagged]


def _repeat_counts(call_ids_stmt_where, days: int) -> dict[str, int]:
    """Calls by the same person in the ``days`` before each call (that call included)."""
    this, earlier = aliased(Call), aliased(Call)
    stmt = (select(this.id, func.count(earlier.id))
            .join(earlier, and_(earlier.person_id == this.person_id, earlier.received_at <= this.received_at,
                                earlier.received_at >= _days_before(this.received_at, days, is_postgres(db.session))))
            .where(this.person_id.is_not(None), *call_ids_stmt_where(this))
            .group_by(this.id))
    return dict(db.session.execute(stmt).all())


# --- the de-identified call-level extract ---------------------------------------------------

@dataclass(frozen=True)
class Extract:
    filename: str
    csv: str
    rows: int


def deidentified_extract(scope: Scope, period: Period) -> Extract:
    ids = list(scope.agency_ids)
    names = dict(db.session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(ids))).all())

    def in_scope(model):
        return (model.agency_id.in_(ids), model.received_at >= period.start, model.received_at < period.end)

    cols = [Call.id, Call.agency_id, Call.received_at, Call.call_type, Call.caller_relation, Call.co_response,
            Call.urgency, Call.source, Call.route, Call.acuity, Call.status, Call.flagged_at, Call.first_contact_at,
            Call.person_id, *[getattr(Call, indicator_column(c)) for c in INDICATORS],
            *[getattr(Call, caution_column(c)) for c in CAUTIONS]]
    calls = db.session.execute(select(*cols).where(*in_scope(Call))).all()
    encounters: dict[str, list] = defaultdict(list)
    for row in db.session.execute(
            select(Encounter.call_id, Encounter.started_at, Encounter.kind, Disposition.code,
                   Encounter.custody_diverted, Encounter.ed_visit_prevented)
            .join(Disposition, Disposition.id == Encounter.disposition_id)
            .join(Call, Call.id == Encounter.call_id).where(*in_scope(Call))):
        encounters[row.call_id].append(row)
    repeats = _repeat_counts(in_scope, scope.repeat_days)
    people = _people(row.person_id for row in calls)

    header = ["record", "month", "town", "call_type", "caller_relation", "flagged_for_co_response", "urgency",
              "entered_by", "route", "acuity", "status", "minutes_flag_to_first_contact",
              *[f"indicator_{c}" for c in INDICATORS], *[f"caution_{c}" for c in CAUTIONS],
              "encounters", *[f"encounters_{k}" for k in ENCOUNTER_KINDS], "last_disposition",
              "custody_diverted", "ed_visit_prevented", "repeat_contact", "age_band",
              *people_codes.CODED_FIELDS]
    rows = []
    for call in calls:
        local = to_local(call.received_at, period.tz)
        person = people.get(call.person_id)
        mine = sorted(encounters.get(call.id, []), key=lambda e: e.started_at)
        minutes = ""
        if call.co_response and call.flagged_at and call.first_contact_at:
            minutes = f"{(call.first_contact_at - call.flagged_at).total_seconds() / 60:.0f}"
        custody = [e.custody_diverted for e in mine]
        ed = [e.ed_visit_prevented for e in mine]
        demographics = _demographics(person)
        rows.append([
            local.strftime("%Y-%m"), names.get(call.agency_id, ""), call.call_type, call.caller_relation,
            "yes" if call.co_response else "no", call.urgency or "", call.source, call.route or "",
            call.acuity or "", call.status, minutes,
            *["yes" if v else "no" for v in call[14:14 + len(INDICATORS)]],
            *["yes" if v else "no" for v in call[14 + len(INDICATORS):]],
            len(mine), *[sum(1 for e in mine if e.kind == k) for k in ENCOUNTER_KINDS],
            mine[-1].code if mine else "",
            ("yes" if any(custody) else "no" if custody and all(v is False for v in custody) else
             "unknown" if custody else ""),
            ("yes" if any(ed) else "no" if ed and all(v is False for v in ed) else "unknown" if ed else ""),
            "" if not call.person_id else ("yes" if repeats.get(call.id, 0) >= scope.repeat_calls else "no"),
            _age_band(person, local.date()) if call.person_id else NOT_RECORDED,
            *[demographics[name] for name in people_codes.CODED_FIELDS],
        ])
    rows = _shuffled(rows, key=lambda r: (r[0], r[1]))
    numbered = [[i + 1, *row] for i, row in enumerate(rows)]
    return Extract(f"calls-deidentified-{_slug(scope)}-{period.slug}.csv", csv_text([header, *numbered]), len(rows))


def _slug(scope: Scope) -> str:
    if scope.is_all:
        return "all-towns"
    town = db.session.get(Agency, scope.key)
    return (town.code if town else "town").lower()


# --- the state diversion program's extract --------------------------------------------------

@cache
def diversion_mapping() -> dict:
    """The column set, from diversion_fields.json (data, so it follows the state's form)."""
    mapping = json.loads(MAPPING_FILE.read_text(encoding="utf-8"))
    for column in mapping["columns"]:
        field = column.get("field")
        if field is not None and field not in DIVERSION_FIELDS:
            raise ValueError(f"diversion_fields.json: unknown field {field!r}")
    return mapping


def _presenting_problem(call) -> str:
    mental = any(getattr(call, indicator_column(c)) for c in ("mental_health", "suicidal", "developmental_disability",
                                                               "dementia"))
    substance = any(getattr(call, indicator_column(c)) for c in ("substance_use", "intoxication"))
    return "both" if mental and substance else "mental_health" if mental else "substance_use" if substance else "neither"


# field -> (code from the row context, default label of a code)
DIVERSION_FIELDS: dict[str, tuple] = {
    "encounter_hour": (lambda r: r.local.strftime("%Y-%m-%d %H:00"), None),
    "encounter_month": (lambda r: r.local.strftime("%Y-%m"), None),
    "town": (lambda r: r.town, None),
    "how_received": (lambda r: r.call.received_via, RECEIVED_VIA),
    "entered_by": (lambda r: r.call.source, SOURCES),
    "call_type": (lambda r: r.call.call_type, CALL_TYPES),
    "caller_relation": (lambda r: r.call.caller_relation, CALLER_RELATIONS),
    "presenting_problem": (lambda r: _presenting_problem(r.call),
                           {"mental_health": "Mental health", "substance_use": "Substance use",
                            "both": "Both", "neither": "Neither recorded"}),
    "intervention_reason": (lambda r: [c for c in INDICATORS if getattr(r.call, indicator_column(c))], INDICATORS),
    "urgency": (lambda r: r.call.urgency, URGENCIES),
    "encounter_kind": (lambda r: r.encounter.kind, ENCOUNTER_KINDS),
    "encounter_minutes": (lambda r: str(int((r.encounter.ended_at - r.encounter.started_at).total_seconds() // 60)),
                          None),
    "point_of_intervention": (lambda r: r.encounter.point_of_intervention, POINTS_OF_INTERVENTION),
    "custody_diverted": (lambda r: r.encounter.custody_diverted, "yes_no"),
    "jail_diversion_option": (lambda r: r.encounter.jail_diversion_option, "yes_no"),
    "ed_visit_prevented": (lambda r: r.encounter.ed_visit_prevented, "yes_no"),
    "charges_considered": (lambda r: [c.charge for c in r.charges], None),
    "charges_diverted": (lambda r: [f"{c.charge}: {'diverted' if c.diverted else 'not diverted'}" for c in r.charges],
                         None),
    "disposition": (lambda r: r.disposition_code, "disposition"),
    "route": (lambda r: r.call.route, ROUTE_LABELS),
    "referral_made": (lambda r: None if r.referrals is None else bool(r.referrals), "yes_no"),
    "referral_service": (lambda r: None if r.referrals is None else r.referrals, "service_kind"),
    "age_band": (lambda r: r.age_band, None),
    "sex": (lambda r: r.demographics["sex"], people_codes.SEX),
    "race": (lambda r: r.demographics["race"], people_codes.RACE),
    "ethnicity": (lambda r: r.demographics["ethnicity"], people_codes.ETHNICITY),
    "veteran_status": (lambda r: r.demographics["veteran_status"], people_codes.VETERAN_STATUS),
    "housing_status": (lambda r: r.demographics["housing_status"], people_codes.HOUSING_STATUS),
}


@dataclass
class _EncounterRow:
    encounter: object
    call: object
    local: datetime
    town: str
    disposition_code: str
    charges: list
    referrals: list | None
    age_band: str
    demographics: dict


def _label(field: str, code, labels, dispositions: dict[str, str]) -> str:
    if code is None:
        return NOT_RECORDED
    if labels == "yes_no":
        return yes_no(code)
    if labels == "disposition":
        return dispositions.get(code, code)
    if labels == "service_kind":
        from .referral_metrics import service_kind_label

        return service_kind_label(code)
    if isinstance(labels, dict):
        return labels.get(code, code)
    return str(code)


def _cell(column: dict, row: _EncounterRow, dispositions: dict[str, str]) -> str:
    field = column.get("field")
    if field is None:
        return column.get("value", NOT_RECORDED)
    getter, labels = DIVERSION_FIELDS[field]
    raw = getter(row)
    recode = column.get("values") or {}
    values = raw if isinstance(raw, list) else [raw]
    if isinstance(raw, list) and not raw:
        return column.get("empty", "None")
    out = []
    for value in values:
        key = value if isinstance(value, str) else ("yes" if value is True else "no" if value is False else None)
        if key is not None and key in recode:
            out.append(recode[key])
        elif value is None and "unknown" in recode:
            out.append(recode["unknown"])
        else:
            out.append(_label(field, value, labels, dispositions))
    return "; ".join(out)


def _referrals_by_case(case_ids: list[str]) -> dict[str, list] | None:
    if "referrals" not in db.metadata.tables:
        return None
    from clinician_app.referrals.models import Referral, ServiceEntry

    from .referral_metrics import AGENCY_ROW

    found: dict[str, list] = defaultdict(list)
    for chunk in _chunks(sorted(set(case_ids))):
        for case_id, sent_at, kind in db.session.execute(
                select(Referral.case_id, Referral.sent_at, func.coalesce(ServiceEntry.kind, AGENCY_ROW))
                .outerjoin(ServiceEntry, ServiceEntry.id == Referral.service_id).where(Referral.case_id.in_(chunk))):
            found[case_id].append((sent_at, kind))
    return found


REFERRAL_WINDOW = timedelta(days=7)


def diversion_extract(scope: Scope, period: Period) -> Extract:
    """One row per encounter started in the period on the scope's calls, columns from the mapping file.
    A referral counts for an encounter when it was sent from the call's case within seven days after it."""
    ids = list(scope.agency_ids)
    mapping = diversion_mapping()
    towns = dict(db.session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(ids))).all())
    dispositions = dict(db.session.execute(select(Disposition.code, Disposition.label)).all())
    rows = db.session.execute(
        select(Encounter, Call, Disposition.code)
        .join(Call, Call.id == Encounter.call_id).join(Disposition, Disposition.id == Encounter.disposition_id)
        .where(Call.agency_id.in_(ids), Encounter.started_at >= period.start, Encounter.started_at < period.end)
    ).all()
    charges: dict[str, list] = defaultdict(list)
    encounter_ids = [e.id for e, _, _ in rows]
    for chunk in _chunks(encounter_ids):
        for charge in db.session.execute(select(EncounterCharge).where(EncounterCharge.encounter_id.in_(chunk))
                                         .order_by(EncounterCharge.position)).scalars():
            charges[charge.encounter_id].append(charge)
    referrals = _referrals_by_case([c.case_id for _, c, _ in rows if c.case_id])
    people = _people(c.person_id for _, c, _ in rows)
    out = []
    for encounter, call, code in rows:
        local = to_local(encounter.started_at, period.tz)
        person = people.get(call.person_id)
        mine = None
        if referrals is not None:
            mine = sorted({kind for sent_at, kind in referrals.get(call.case_id, [])
                           if encounter.started_at <= sent_at <= encounter.started_at + REFERRAL_WINDOW})
        context = _EncounterRow(encounter, call, local, towns.get(call.agency_id, ""), code,
                                charges.get(encounter.id, []), mine,
                                _age_band(person, local.date()) if call.person_id else NOT_RECORDED,
                                _demographics(person))
        out.append([_cell(column, context, dispositions) for column in mapping["columns"]])
    out = _shuffled(out, key=lambda r: r[0])  # sorted by the first column (the hour), shuffled within it
    header = [column["header"] for column in mapping["columns"]]
    return Extract(f"diversion-{_slug(scope)}-{period.slug}.csv", csv_text([header, *out]), len(out))
