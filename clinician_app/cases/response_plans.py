"""Response plans: how responders should approach a repeat contact. A clinician
writes one, a supervisor of the agency approves it (or returns it), and from then
on dispatchers and officers see it on the person's linked calls. It is the only
part of the clinical side they see, so it holds four short, structured,
non-clinical fields and nothing else: no diagnosis, no notes, no substance use.

That rule is enforced by structure (no free "notes" field; length limits; the
form offers only the four) and by a guard: text that repeats one of the person's
Part 2 (substance-use) note bodies, or a long stretch of one, is refused. Notes
are encrypted, so the guard decrypts them server-side for the comparison only.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from clinician_app.core import audit, policy
from clinician_app.core.crypto import normalise_for_index
from clinician_app.core.errors import Conflict, NotFound, ValidationError
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text
from clinician_app.core.timeutil import utcnow
from clinician_app.core.types import new_id
from clinician_app.extensions import db
from clinician_app.people.models import Person

from .codes import PLAN_APPROVED, PLAN_PENDING, PLAN_RETURNED, PLAN_SUPERSEDED
from .models import RESPONSE_FIELD_MAX, RESPONSE_FIELDS, ResponsePlan
from .repeat_contacts import repeat_contact

FIELD_LABELS = {
    "approach": "How to approach",
    "de_escalation": "What helps de-escalate",
    "contacts": "Who to call",
    "officer_safety": "Officer-safety notes",
}
# A run of this many characters (after normalising case and spaces) shared with a
# Part 2 note counts as quoting it: long enough that ordinary phrases don't trip it.
QUOTE_RUN = 40


@dataclass
class PlanData:
    approach: str = ""
    de_escalation: str = ""
    contacts: str = ""
    officer_safety: str = ""


def _part2_bodies(person: Person) -> list[str]:
    try:
        from .notes import part2_bodies_for
    except ImportError:  # the notes module is optional to this one
        return []
    return part2_bodies_for(person)


def _quotes(text: str, body: str) -> bool:
    text, body = normalise_for_index(text), normalise_for_index(body)
    if not text or not body:
        return False
    if body in text or (len(text) >= QUOTE_RUN and text in body):
        return True
    return any(body[i:i + QUOTE_RUN] in text for i in range(0, max(0, len(body) - QUOTE_RUN) + 1))


def clean_plan(data: PlanData, person: Person) -> PlanData:
    errors: dict[str, list[str]] = {}
    values = {}
    for name in RESPONSE_FIELDS:
        values[name] = clean_text(getattr(data, name), RESPONSE_FIELD_MAX, name, errors,
                                  too_long="Use at most {limit} characters (this has {length}).")
    if not any(values.values()) and not errors:
        errors["approach"] = ["Fill in at least one part of the plan."]
    if not errors:
        bodies = _part2_bodies(person)
        for name, value in values.items():
            if value and any(_quotes(value, body) for body in bodies):
                errors[name] = ["This repeats a substance-use (42 CFR Part 2) note. A response plan is seen by "
                                "dispatchers and officers: describe how to respond, not clinical information."]
    if errors:
        raise ValidationError("The response plan was not saved.", fields=errors)
    return PlanData(**values)


def _person(actor, person_id: str) -> Person:
    person = db.session.execute(policy.visible(select(Person).where(Person.id == person_id), actor, Person)
                                ).scalar_one_or_none()
    if person is None:
        raise NotFound("That record was not found.")
    return person


def write_plan(actor, person_id: str, data: PlanData) -> ResponsePlan:
    """A new plan awaiting approval; it replaces a plan still awaiting approval,
    and an approved one stays in force until this one is approved."""
    policy.require(actor, Permission.CASES_WRITE)
    person = _person(actor, person_id)
    if person.is_merged:
        raise Conflict("This record was merged into another; write the plan on the surviving record.")
    if repeat_contact(person.id) is None:
        agency = actor.agency
        raise ValidationError(f"A response plan is for a repeat contact: {agency.repeat_contact_calls} or more calls "
                              f"in {agency.repeat_contact_days} days.")
    data = clean_plan(data, person)
    now = utcnow()
    for old in db.session.execute(select(ResponsePlan).where(
            ResponsePlan.person_id == person.id, ResponsePlan.status.in_((PLAN_PENDING, PLAN_RETURNED)))).scalars():
        old.status, old.superseded_at = PLAN_SUPERSEDED, now
    # The encrypted fields are bound to the row id, so the id comes first.
    plan = ResponsePlan(id=new_id(), agency_id=person.agency_id, person_id=person.id, status=PLAN_PENDING,
                        written_by_id=actor.id, written_at=now)
    for name in RESPONSE_FIELDS:
        setattr(plan, name, getattr(data, name) or None)
    db.session.add(plan)
    db.session.flush()
    audit.record("response_plan.write", actor=actor, record_type="response_plan", record_id=plan.id,
                 details={"person_id": person.id, "fields": [n for n in RESPONSE_FIELDS if getattr(data, n)]})
    return plan


def _plan_for_decision(actor, plan_id: str) -> ResponsePlan:
    policy.require(actor, Permission.RESPONSE_PLANS_APPROVE)
    plan = policy.get_visible(db.session, ResponsePlan, plan_id, actor)
    if plan.status != PLAN_PENDING:
        raise Conflict("This plan is not awaiting approval.")
    return plan


def approve_plan(actor, plan_id: str) -> ResponsePlan:
    """A supervisor approves: the plan is shown on the person's calls, and the
    previously approved plan is superseded."""
    plan = _plan_for_decision(actor, plan_id)
    if plan.written_by_id == actor.id:
        raise Conflict("Another supervisor approves a plan you wrote.")
    now = utcnow()
    for old in db.session.execute(select(ResponsePlan).where(
            ResponsePlan.person_id == plan.person_id, ResponsePlan.status == PLAN_APPROVED)).scalars():
        old.status, old.superseded_at = PLAN_SUPERSEDED, now
    plan.status, plan.decided_by_id, plan.decided_at = PLAN_APPROVED, actor.id, now
    db.session.flush()
    audit.record("response_plan.approve", actor=actor, record_type="response_plan", record_id=plan.id,
                 details={"person_id": plan.person_id})
    return plan


def return_plan(actor, plan_id: str) -> ResponsePlan:
    plan = _plan_for_decision(actor, plan_id)
    plan.status, plan.decided_by_id, plan.decided_at = PLAN_RETURNED, actor.id, utcnow()
    db.session.flush()
    audit.record("response_plan.return", actor=actor, record_type="response_plan", record_id=plan.id,
                 details={"person_id": plan.person_id})
    return plan


def plans_for(actor, person_id: str, *, person: Person | None = None) -> list[ResponsePlan]:
    """Every plan of the person except superseded ones, newest first (clinical staff).
    ``person``: the person, already loaded through the actor's scope (the case page's)."""
    policy.require(actor, Permission.CASES_READ)
    if person is None or person.id != person_id:
        person = _person(actor, person_id)
    stmt = (select(ResponsePlan).where(ResponsePlan.person_id == person.id, ResponsePlan.status != PLAN_SUPERSEDED)
            .order_by(ResponsePlan.written_at.desc()))
    return list(db.session.execute(stmt).scalars())


def approved_plan_for_call(actor, call) -> ResponsePlan | None:
    """What anyone who may see the call (dispatchers and officers included) sees:
    the approved plan of the call's linked person, nothing else. Audited when shown."""
    policy.require(actor, Permission.CALLS_READ)
    if call.person_id is None:
        return None
    plan = db.session.execute(select(ResponsePlan).where(
        ResponsePlan.person_id == call.person_id, ResponsePlan.status == PLAN_APPROVED)).scalars().first()
    if plan is not None:
        audit.record_at_commit("response_plan.read", actor=actor, record_type="response_plan", record_id=plan.id,
                     details={"call_id": call.id})
    return plan


def plan_for_page(actor, plan_id: str) -> ResponsePlan:
    policy.require(actor, Permission.CASES_READ)
    return policy.get_visible(db.session, ResponsePlan, plan_id, actor)
