"""Encounters and dispositions: record what happened on a call (which closes it),
close a call as a supervisor, read encounter notes (audited), and keep the
disposition list.

    from clinician_app.cases.services import NewEncounter, record_encounter
    encounter = record_encounter(actor, call_id, NewEncounter(
        kind="on_scene", started_at=aware_start, ended_at=aware_end,
        disposition="resolved_on_scene", point_of_intervention="pre_arrest",
        custody_diverted="yes", jail_diversion_option="yes", ed_visit_prevented="unknown",
        charges=[("Disorderly conduct", True)], note="..."))

Services flush, never commit; each writes its audit event in the caller's
transaction. Audit details carry ids and codes, never notes, reasons or charges.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from clinician_app.calls.codes import STATUS_CLOSED, STATUS_RECORDED
from clinician_app.calls.models import Call
from clinician_app.core import audit, policy
from clinician_app.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text, has_control_characters
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.extensions import db

from . import policies
from .codes import ENCOUNTER_KINDS, POINTS_OF_INTERVENTION, YES_NO_UNKNOWN, from_yes_no
from .models import (
    CHARGE_MAX,
    CLOSE_REASON_MAX,
    DISPOSITION_CODE_MAX,
    DISPOSITION_LABEL_MAX,
    NOTE_MAX,
    CallClosure,
    Disposition,
    Encounter,
    EncounterCharge,
)

FUTURE_TOLERANCE = timedelta(minutes=5)  # clock drift between a phone and the server
MAX_ENCOUNTER = timedelta(hours=24)
MAX_CHARGES = 10
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class NewEncounter:
    """An encounter as plain values: what the form (and later the API) hands in.

    Times are timezone-aware datetimes. ``disposition`` is a disposition code;
    the three questions take "yes", "no" or "unknown"; ``charges`` is a list of
    (charge text, was it diverted)."""

    kind: str = ""
    started_at: datetime | None = None
    ended_at: datetime | None = None
    disposition: str = ""
    point_of_intervention: str = ""
    custody_diverted: str = "unknown"
    jail_diversion_option: str = "unknown"
    ed_visit_prevented: str = "unknown"
    charges: list[tuple[str, bool]] = field(default_factory=list)
    note: str = ""


# --- loading -------------------------------------------------------------------

def _load_call(actor, call_id: str) -> Call:
    return policy.get_visible(db.session, Call, call_id, actor)


def active_dispositions() -> list[Disposition]:
    return list(db.session.execute(
        select(Disposition).where(Disposition.retired_at.is_(None)).order_by(Disposition.position, Disposition.label)
    ).scalars())


def all_dispositions() -> list[Disposition]:
    return list(db.session.execute(
        select(Disposition).order_by(Disposition.retired_at.is_not(None), Disposition.position, Disposition.label)
    ).scalars())


def call_for_encounter(actor, call_id: str) -> Call:
    """The call, if the actor may record an encounter on it now (the form's GET asks too)."""
    policy.require(actor, Permission.CASES_WRITE)
    call = _load_call(actor, call_id)
    if not policies.may_record_encounter(actor, call):
        raise PermissionDenied("This call is worked by another agency.")
    if call.status == STATUS_CLOSED:
        raise Conflict("This call is already closed.")
    if call.status == STATUS_RECORDED or not call.co_response:
        raise Conflict("This call was not flagged for co-response.")
    return call


# --- validation ------------------------------------------------------------------

def clean_encounter(data: NewEncounter, call: Call, now: datetime) -> dict:
    """The encounter's values, or ValidationError naming each field that is wrong."""
    errors: dict[str, list[str]] = {}
    if data.kind not in ENCOUNTER_KINDS:
        errors["kind"] = ["Choose the type of encounter."]
    if data.point_of_intervention not in POINTS_OF_INTERVENTION:
        errors["point_of_intervention"] = ["Choose the point of intervention."]
    for name in ("custody_diverted", "jail_diversion_option", "ed_visit_prevented"):
        if getattr(data, name) not in YES_NO_UNKNOWN:
            errors[name] = ["Choose yes, no or not known."]

    disposition = None
    if data.disposition:
        disposition = db.session.execute(
            select(Disposition).where(Disposition.code == data.disposition, Disposition.retired_at.is_(None))
        ).scalar_one_or_none()
    if disposition is None:
        errors["disposition"] = ["Choose the disposition."]

    started, ended = data.started_at, data.ended_at
    for name, value, missing in (("started_at", started, "Enter when the encounter started."),
                                 ("ended_at", ended, "Enter when the encounter ended.")):
        if value is None:
            errors[name] = [missing]
        elif not isinstance(value, datetime) or value.tzinfo is None:
            errors[name] = ["Give the time with its time zone."]
        elif value > now + FUTURE_TOLERANCE:
            errors[name] = ["This time can't be in the future."]
    if "started_at" not in errors and started < as_utc(call.received_at) - FUTURE_TOLERANCE:
        errors["started_at"] = ["The encounter can't start before the call was received."]
    if "started_at" not in errors and "ended_at" not in errors:
        if ended < started:
            errors["ended_at"] = ["The end time is before the start time. Check both times."]
        elif ended - started > MAX_ENCOUNTER:
            errors["ended_at"] = ["An encounter can last at most 24 hours. Check both times."]

    note = clean_text(data.note, NOTE_MAX, "note", errors)

    charges: list[tuple[str, bool]] = []
    for text, diverted in data.charges or []:
        text = (text or "").strip()
        if not text:
            continue
        if len(text) > CHARGE_MAX or has_control_characters(text):
            errors["charges"] = [f"Write each charge in at most {CHARGE_MAX} characters, on one line."]
        charges.append((text, bool(diverted)))
    if len(charges) > MAX_CHARGES:
        errors["charges"] = [f"List at most {MAX_CHARGES} charges."]

    if errors:
        raise ValidationError("Some of the encounter's details need correcting.", fields=errors)
    return {
        "kind": data.kind,
        "started_at": started.astimezone(UTC),
        "ended_at": ended.astimezone(UTC),
        "disposition": disposition,
        "point_of_intervention": data.point_of_intervention,
        "custody_diverted": from_yes_no(data.custody_diverted),
        "jail_diversion_option": from_yes_no(data.jail_diversion_option),
        "ed_visit_prevented": from_yes_no(data.ed_visit_prevented),
        "charges": charges,
        "note": note or None,
    }


# --- encounters --------------------------------------------------------------------

def record_encounter(actor, call_id: str, data: NewEncounter) -> Encounter:
    """Record what happened on a call and close it.

    The first encounter sets the call's first-contact time (and, when it was on
    scene, its on-scene time) unless earlier steps already set them."""
    call = call_for_encounter(actor, call_id)
    now = utcnow()
    values = clean_encounter(data, call, now)
    charges = values.pop("charges")
    note = values.pop("note")
    encounter = Encounter(call_id=call.id, agency_id=actor.agency_id, created_by_id=actor.id, created_at=now,
                          charges=[EncounterCharge(position=i, charge=text, diverted=diverted)
                                   for i, (text, diverted) in enumerate(charges)],
                          **values)
    encounter.note = note  # encrypted, bound to this row's id
    db.session.add(encounter)

    if call.first_contact_at is None:
        call.first_contact_at = encounter.started_at
    if encounter.kind == "on_scene" and call.on_scene_at is None:
        call.on_scene_at = encounter.started_at
    call.status = STATUS_CLOSED
    call.closed_at = now
    db.session.flush()
    audit.record("encounter.create", actor=actor, record_type="encounter", record_id=encounter.id,
                 details={"call_id": call.id, "kind": encounter.kind, "disposition": encounter.disposition.code,
                          "charges": len(charges), "call_closed": True})
    if call.case_id is not None:  # follow-up templates apply to calls that belong to a case
        from clinician_app.followups.services import schedule_followups_for_encounter

        schedule_followups_for_encounter(actor, encounter)
    return encounter


def encounters_for_call(actor, call: Call) -> list[Encounter]:
    """A visible call's encounters, oldest first (notes are read separately, audited)."""
    policy.require(actor, Permission.CASES_READ)
    return list(db.session.execute(
        select(Encounter).where(Encounter.call_id == call.id).order_by(Encounter.started_at, Encounter.id)
    ).unique().scalars())


def read_encounter_notes(actor, encounters: list[Encounter]) -> dict[str, str]:
    """The notes of encounters the actor was shown, by encounter id; each read is audited."""
    policy.require(actor, Permission.CASES_READ)
    notes = {}
    for encounter in encounters:
        if not encounter.has_note:
            continue
        notes[encounter.id] = encounter.note
        audit.record_at_commit("encounter.note_read", actor=actor, record_type="encounter", record_id=encounter.id,
                     details={"call_id": encounter.call_id})
    return notes


def close_call_by_supervisor(actor, call_id: str, reason: str) -> CallClosure:
    """A supervisor closes a call without an encounter (a duplicate, a call
    handled elsewhere), giving the reason."""
    policy.require(actor, Permission.CALLS_ASSIGN)
    call = _load_call(actor, call_id)
    if not policies.may_close(actor, call):
        raise PermissionDenied("This call belongs to another agency.")
    if call.status == STATUS_CLOSED:
        raise Conflict("This call is already closed.")
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError("Give the reason for closing the call.", fields={"reason": ["Give the reason for closing the call."]})
    if len(reason) > CLOSE_REASON_MAX or has_control_characters(reason, multiline=True):
        raise ValidationError("Shorten the reason.", fields={"reason": [f"Use at most {CLOSE_REASON_MAX} characters, without control characters."]})
    now = utcnow()
    closure = CallClosure(call_id=call.id, closed_by_id=actor.id, created_at=now)
    closure.reason = reason
    db.session.add(closure)
    previous = call.status
    call.status = STATUS_CLOSED
    call.closed_at = now
    db.session.flush()
    audit.record("call.close", actor=actor, record_type="call", record_id=call.id,
                 details={"closure_id": closure.id, "previous_status": previous})
    return closure


# --- dispositions (admin) ----------------------------------------------------------------

def list_dispositions(actor) -> list[Disposition]:
    policy.require(actor, Permission.ADMIN_SETTINGS)
    return all_dispositions()


def add_disposition(actor, code: str, label: str, counts_as_diversion: bool) -> Disposition:
    policy.require(actor, Permission.ADMIN_SETTINGS)
    code = (code or "").strip().lower()
    label = (label or "").strip()
    errors: dict[str, list[str]] = {}
    if not code or len(code) > DISPOSITION_CODE_MAX or not CODE_PATTERN.match(code):
        errors["code"] = [f"Use lower-case letters, digits and _, starting with a letter, at most {DISPOSITION_CODE_MAX}."]
    if not label or len(label) > DISPOSITION_LABEL_MAX or has_control_characters(label):
        errors["label"] = [f"Enter a label of at most {DISPOSITION_LABEL_MAX} characters."]
    if "code" not in errors and db.session.execute(select(Disposition.id).where(Disposition.code == code)).first():
        errors["code"] = ["That code is already in the list (retired entries keep their code)."]
    if errors:
        raise ValidationError("The disposition needs correcting.", fields=errors)
    last = db.session.execute(select(Disposition.position).order_by(Disposition.position.desc()).limit(1)).scalar()
    disposition = Disposition(code=code, label=label, counts_as_diversion=bool(counts_as_diversion),
                              position=(last or 0) + 10)
    try:
        with db.session.begin_nested():
            db.session.add(disposition)
            db.session.flush()
    except IntegrityError:
        raise ValidationError("The disposition needs correcting.",
                              fields={"code": ["That code is already in the list."]}) from None
    audit.record("disposition.create", actor=actor, record_type="disposition", record_id=disposition.id,
                 details={"code": code, "counts_as_diversion": disposition.counts_as_diversion})
    return disposition


def _get_disposition(disposition_id: str) -> Disposition:
    disposition = db.session.get(Disposition, disposition_id)
    if disposition is None:
        raise NotFound("That disposition was not found.")
    return disposition


def retire_disposition(actor, disposition_id: str) -> Disposition:
    """Stop offering a disposition; encounters already recorded keep it."""
    policy.require(actor, Permission.ADMIN_SETTINGS)
    disposition = _get_disposition(disposition_id)
    if disposition.retired_at is None:
        disposition.retired_at = utcnow()
        db.session.flush()
        audit.record("disposition.retire", actor=actor, record_type="disposition", record_id=disposition.id,
                     details={"code": disposition.code})
    return disposition


def restore_disposition(actor, disposition_id: str) -> Disposition:
    policy.require(actor, Permission.ADMIN_SETTINGS)
    disposition = _get_disposition(disposition_id)
    if disposition.retired_at is not None:
        disposition.retired_at = None
        db.session.flush()
        audit.record("disposition.restore", actor=actor, record_type="disposition", record_id=disposition.id,
                     details={"code": disposition.code})
    return disposition
