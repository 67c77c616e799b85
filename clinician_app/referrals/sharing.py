"""What every sharing from a case checks before it happens: the open case it is
sent from, whether it carries Part 2 (substance use) information, and the
consent or legal basis it relies on (policies.consent_problem)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from clinician_app.agencies.models import Agency
from clinician_app.cases.codes import CASE_OPEN
from clinician_app.cases.models import Case
from clinician_app.cases.note_models import SENSITIVITY_PART2, CaseNote
from clinician_app.core import policy
from clinician_app.core.errors import Conflict, NotFound
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text
from clinician_app.extensions import db
from clinician_app.people.models import Person

from . import codes, policies
from .models import EMERGENCY_NATURE_MAX, NAME_MAX, Consent, ServiceEntry
from .validation import agency_today


def case_for_referral(actor, case_id: str) -> Case:
    """An open case of the actor's agency that its clinicians refer from."""
    policy.require(actor, Permission.REFERRALS_SEND)
    policy.require(actor, Permission.CASES_WRITE)
    case = db.session.get(Case, case_id) if case_id else None
    if case is None or case.agency_id != actor.agency_id:
        raise NotFound("That record was not found.")
    if case.status != CASE_OPEN:
        raise Conflict("This case is closed; referrals are sent from open cases.")
    return case


def case_has_part2(case: Case) -> bool:
    return db.session.execute(select(CaseNote.id).where(
        CaseNote.case_id == case.id, CaseNote.sensitivity == SENSITIVITY_PART2).limit(1)).first() is not None


def add_part2(case: Case, categories: list[str], *, flagged: bool = False) -> bool:
    """Whether the sharing carries Part 2 information (flagged by the clinician,
    chosen among the categories, or in the case's notes); if so, substance use is
    added to ``categories``."""
    part2 = flagged or codes.CATEGORY_SUBSTANCE_USE in categories or case_has_part2(case)
    if part2 and codes.CATEGORY_SUBSTANCE_USE not in categories:
        categories.append(codes.CATEGORY_SUBSTANCE_USE)
    return part2


def partner_agencies(actor) -> list[Agency]:
    return list(db.session.execute(select(Agency).where(Agency.id != actor.agency_id)
                                   .order_by(Agency.kind, Agency.name)).scalars())


@dataclass
class Sharing:
    """How a referral or disclosure is justified: a consent, or a legal basis."""

    basis: str = ""
    consent_id: str | None = None
    emergency_nature: str = ""
    emergency_recipient: str = ""


def check_sharing(actor, person: Person, sharing: Sharing, errors: dict, *, categories: list[str], part2: bool,
                  agency_id: str | None = None, service: ServiceEntry | None = None) -> Consent | None:
    """The consent relied on (checked), or None for a legal basis; field errors otherwise."""
    problem = policies.basis_problem(sharing.basis, part2)
    if problem:
        errors["basis"] = [problem]
        return None
    if sharing.basis == codes.BASIS_CONSENT:
        consent = db.session.get(Consent, sharing.consent_id) if sharing.consent_id else None
        if consent is None or consent.person_id != person.id or consent.agency_id != actor.agency_id:
            errors["consent_id"] = ["Choose the person's consent this relies on."]
            return None
        problem = policies.consent_problem(consent, agency_today(actor.agency_id), categories=categories,
                                           part2=part2, agency_id=agency_id, service=service)
        if problem:
            errors["consent_id"] = [problem]
            return None
        return consent
    if sharing.basis == codes.BASIS_EMERGENCY:
        clean_text(sharing.emergency_nature, EMERGENCY_NATURE_MAX, "emergency_nature", errors,
                   required="Describe the medical emergency.")
        clean_text(sharing.emergency_recipient, NAME_MAX, "emergency_recipient", errors, multiline=False,
                   required="Name who receives the information (the medical personnel).")
    return None
