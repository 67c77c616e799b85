"""The accounting of disclosures: every disclosure of a person's information in
the last six years, as a page, a printable page and a CSV, and the exact-match
lookup that finds the person for whoever produces it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from clinician_app.core import audit, policy
from clinician_app.core.csv_export import csv_text
from clinician_app.core.errors import NotFound
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import as_utc, format_local, utcnow
from clinician_app.extensions import db
from clinician_app.people.models import Person

from . import policies
from .models import Disclosure

ACCOUNTING_YEARS = 6  # 45 CFR 164.528 asks for 6 years; 42 CFR 2.25 for 3


def person_for_accounting(actor, person_id: str) -> Person:
    """A person of the actor's agency whose accounting the actor may produce."""
    from clinician_app.people.services import get_person

    person = get_person(actor, person_id, view="accounting", permission=Permission.DISCLOSURES_READ)
    if not policies.may_read_accounting(actor, person):
        raise NotFound("That record was not found.")
    return person


def merged_ids(person: Person) -> list[str]:
    """The person and every record merged into them: disclosures follow the person."""
    ids, frontier = [person.id], [person.id]
    for _ in range(50):
        frontier = list(db.session.execute(select(Person.id).where(Person.merged_into_id.in_(frontier))).scalars())
        if not frontier:
            break
        ids += frontier
    return ids


@dataclass(frozen=True)
class AccountingRow:
    disclosure_id: str
    disclosed_at: datetime
    recipient: str
    affiliation: str
    address: str
    description: str
    purpose: str
    basis: str
    consent_id: str | None
    disclosed_by: str
    part2: bool
    emergency_nature: str


def accounting(actor, person: Person, *, view: str = "page") -> list[AccountingRow]:
    """Every disclosure of the person's information in the last six years, newest first."""
    policy.require(actor, Permission.DISCLOSURES_READ)
    if not policies.may_read_accounting(actor, person):
        raise NotFound("That record was not found.")
    since = utcnow() - timedelta(days=365 * ACCOUNTING_YEARS + 2)
    rows = db.session.execute(select(Disclosure).where(
        Disclosure.person_id.in_(merged_ids(person)), Disclosure.agency_id == actor.agency_id,
        Disclosure.disclosed_at >= since).order_by(Disclosure.disclosed_at.desc(), Disclosure.id)).scalars().all()
    audit.record("disclosure.accounting", actor=actor, record_type="person", record_id=person.id,
                 details={"view": view, "rows": len(rows)})
    return [AccountingRow(
        disclosure_id=d.id, disclosed_at=as_utc(d.disclosed_at), recipient=d.recipient_name or "",
        affiliation=d.recipient_affiliation or "", address=d.recipient_address or "", description=d.description or "",
        purpose=d.purpose or "", basis=d.basis_label, consent_id=d.consent_id,
        disclosed_by=d.disclosed_by.display_name if d.disclosed_by else "", part2=d.includes_part2,
        emergency_nature=d.emergency_nature or "") for d in rows]


CSV_COLUMNS = ("disclosed_at_utc", "disclosed_at_local", "recipient", "affiliation", "recipient_address",
               "description", "purpose", "basis", "consent_id", "disclosed_by", "part2_notice_attached",
               "emergency_nature", "disclosure_id")


def accounting_csv(actor, person: Person) -> tuple[str, str]:
    """(filename, CSV text) of the accounting; cells that a spreadsheet would run
    as formulas are guarded (core/csv_export.py)."""
    rows = accounting(actor, person, view="export")
    tz = actor.agency.timezone
    body = csv_text([CSV_COLUMNS, *([row.disclosed_at.isoformat(timespec="seconds"),
                                     format_local(row.disclosed_at, tz, "%Y-%m-%d %H:%M %Z"),
                                     row.recipient, row.affiliation, row.address, row.description,
                                     row.purpose, row.basis, row.consent_id, row.disclosed_by,
                                     "yes" if row.part2 else "no", row.emergency_nature,
                                     row.disclosure_id] for row in rows)])
    audit.record("disclosure.accounting_export", actor=actor, record_type="person", record_id=person.id,
                 details={"rows": len(rows)})
    filename = f"disclosures-{actor.agency.code.lower()}-{format_local(utcnow(), tz, '%Y-%m-%d')}.csv"
    return filename, body


def find_for_accounting(actor, first_name: str, last_name: str, date_of_birth: date | None) -> list[Person]:
    """Exact-match lookup (name and date of birth) among the agency's persons, for
    whoever produces an accounting; the lookup and each person shown are audited."""
    from clinician_app.people.services import _agency_scope, _exact_matches

    policy.require(actor, Permission.DISCLOSURES_READ)
    matches = [m.person for m in _exact_matches(_agency_scope(actor.agency_id), first_name, last_name, date_of_birth)]
    audit.record_at_commit("person.lookup", actor=actor, record_type="person",
                 details={"results": len(matches), "view": "accounting"})
    for person in matches:
        audit.record_at_commit("person.read", actor=actor, record_type="person", record_id=person.id,
                     details={"view": "accounting_lookup"})
    return matches
