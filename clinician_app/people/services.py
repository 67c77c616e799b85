"""Persons: create (after a duplicate check), exact-match lookup, audited reads,
edits, and merges that can be undone.

Every function that hands identifying fields to a page or the API writes one
``person.read`` audit event per person shown (SECURITY.md promise 13); the
events name ids and views, never values. Services flush, never commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime

from sqlalchemy import select

from clinician_app.core import audit, policy
from clinician_app.core.crypto import normalise_for_index
from clinician_app.core.errors import Conflict, ValidationError
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text, has_control_characters
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.core.types import new_id
from clinician_app.extensions import db

from . import links, policies, rules
from .codes import CODED_FIELDS, UNKNOWN
from .models import (
    ADDRESS_MAX,
    ALIAS_MAX,
    ALIASES_MAX,
    MERGE_REASONS,
    NAME_MAX,
    NOTES_MAX,
    PHONE_MAX,
    Person,
    PersonAlias,
    PersonMerge,
    full_name_key,
    match_key,
)

MERGE_NOTE_MAX = 1000
# Filled on the survivor by a merge only when the survivor has none (so undoing knows what to clear).
MERGE_FILLABLE = ("phone", "address", "identifying_notes")
MAX_MERGE_CHAIN = 50


@dataclass
class PersonData:
    """A person's fields as plain values: what forms, the API and seeds hand in."""

    first_name: str = ""
    last_name: str = ""
    date_of_birth: date | None = None
    aliases: list[str] = field(default_factory=list)
    phone: str = ""
    address: str = ""
    identifying_notes: str = ""
    sex: str = UNKNOWN
    race: str = UNKNOWN
    ethnicity: str = UNKNOWN
    veteran_status: str = UNKNOWN
    housing_status: str = UNKNOWN


@dataclass(frozen=True)
class Match:
    person: Person  # the surviving record
    via: str  # "name", "alias" or "merged record"


class PossibleDuplicate(Conflict):
    """Raised by create_person when the name and date of birth are already recorded."""

    def __init__(self, matches: list[Match]):
        super().__init__("A person with this name and date of birth is already recorded.")
        self.matches = matches


def _today(actor=None) -> date:
    tz = getattr(getattr(actor, "agency", None), "timezone", None)
    return to_local(utcnow(), tz).date() if tz else datetime.now(UTC).date()


# --- validation ------------------------------------------------------------------

def clean_person_data(data: PersonData, today: date) -> PersonData:
    """Stripped values, or ValidationError naming each field that is wrong."""
    errors: dict[str, list[str]] = {}

    def text(name: str, limit: int, *, required: str | None = None, multiline: bool = False) -> str:
        return clean_text(getattr(data, name), limit, name, errors, required=required, multiline=multiline)

    first = text("first_name", NAME_MAX, required="Enter a first name.")
    last = text("last_name", NAME_MAX, required="Enter a last name.")
    phone = text("phone", PHONE_MAX)
    if "phone" not in errors and (problem := rules.phone_problem(phone)):
        errors["phone"] = [problem]
    address = text("address", ADDRESS_MAX, multiline=True)
    notes = text("identifying_notes", NOTES_MAX, multiline=True)
    if problem := rules.date_of_birth_problem(data.date_of_birth, today):
        errors["date_of_birth"] = [problem]

    aliases, seen = [], {full_name_key(first, last)}
    for raw in data.aliases or []:
        alias = " ".join((raw or "").split())
        if not alias:
            continue
        if len(alias) > ALIAS_MAX or has_control_characters(alias):
            errors["aliases"] = [f"Write each other name on its own line, at most {ALIAS_MAX} characters."]
            break
        if normalise_for_index(alias) not in seen:  # repeats and the person's own name add nothing
            seen.add(normalise_for_index(alias))
            aliases.append(alias)
    if len(aliases) > ALIASES_MAX:
        errors["aliases"] = [f"Record at most {ALIASES_MAX} other names."]

    codes = {}
    for name, choices in CODED_FIELDS.items():
        value = getattr(data, name) or UNKNOWN
        if value not in choices:
            errors[name] = ["Choose one of the listed options."]
        codes[name] = value
    if errors:
        raise ValidationError("Check the person's details.", fields=errors)
    return PersonData(first_name=first, last_name=last, date_of_birth=data.date_of_birth, aliases=aliases,
                      phone=phone, address=address, identifying_notes=notes, **codes)


def _apply(person: Person, data: PersonData) -> None:
    person.first_name = data.first_name
    person.last_name = data.last_name
    person.date_of_birth = data.date_of_birth
    person.phone = data.phone or None
    person.address = data.address or None
    person.identifying_notes = data.identifying_notes or None
    for name in CODED_FIELDS:
        setattr(person, name, getattr(data, name))
    _sync_aliases(person, data.aliases)


def _add_alias(person: Person, name: str, merge_id: str | None = None) -> PersonAlias:
    alias = PersonAlias(id=new_id(), added_by_merge_id=merge_id)
    alias.name = name  # bound to the alias row's id, assigned first
    person.aliases.append(alias)
    return alias


def _sync_aliases(person: Person, names: list[str]) -> None:
    wanted = {normalise_for_index(n): n for n in names}
    for alias in list(person.aliases):
        if normalise_for_index(alias.name) not in wanted:
            person.aliases.remove(alias)
        else:
            wanted.pop(normalise_for_index(alias.name))
    for name in wanted.values():
        _add_alias(person, name)
    for alias in person.aliases:
        # The alias index includes the person's date of birth, which may just have changed.
        PersonAlias.alias_index.refresh(alias)


def person_data(person: Person) -> PersonData:
    """The stored values, for an edit form (the caller audited the read)."""
    return PersonData(
        first_name=person.first_name or "", last_name=person.last_name or "", date_of_birth=person.date_of_birth,
        aliases=[a.name for a in person.aliases], phone=person.phone or "", address=person.address or "",
        identifying_notes=person.identifying_notes or "", **{name: getattr(person, name) for name in CODED_FIELDS})


# --- lookup ----------------------------------------------------------------------

def _survivor(person: Person) -> Person:
    for _ in range(MAX_MERGE_CHAIN):
        if person.merged_into_id is None:
            break
        person = db.session.get(Person, person.merged_into_id)
    return person


def _exact_matches(scope, first_name: str, last_name: str, date_of_birth: date | None) -> list[Match]:
    """Persons whose name (or an alias) and date of birth equal these exactly, after
    normalising case and spaces. The blind index narrows the rows (an indexed
    IN over one value per index key); the candidates are decrypted and compared,
    since a truncated index is shared by unrelated people by design."""
    wanted_name = full_name_key(first_name, last_name)
    key = match_key(wanted_name, date_of_birth)
    if key is None:
        return []
    found: dict[str, Match] = {}

    stmt = scope(select(Person).where(Person.name_dob_bidx.in_(Person.name_dob_index.candidates(key))))
    for person in db.session.execute(stmt).scalars():
        if person.date_of_birth == date_of_birth and full_name_key(person.first_name, person.last_name) == wanted_name:
            survivor = _survivor(person)
            found.setdefault(survivor.id, Match(survivor, "name" if survivor is person else "merged record"))

    stmt = scope(select(PersonAlias, Person).join(Person, PersonAlias.person_id == Person.id)
                 .where(PersonAlias.alias_bidx.in_(PersonAlias.alias_index.candidates(key))))
    for alias, person in db.session.execute(stmt):
        if person.date_of_birth == date_of_birth and normalise_for_index(alias.name) == wanted_name:
            survivor = _survivor(person)
            found.setdefault(survivor.id, Match(survivor, "alias" if survivor is person else "merged record"))
    return list(found.values())


def _actor_scope(actor):
    return lambda stmt: policy.visible(stmt, actor, Person)


def _agency_scope(agency_id: str):
    return lambda stmt: stmt.where(Person.agency_id == agency_id)


def _read_events(actor, persons, view: str) -> list[dict]:
    return [{"action": "person.read", "actor": actor, "record_type": "person", "record_id": person.id,
             "details": {"view": view}} for person in persons]


def _audit_reads(actor, persons, view: str) -> None:
    audit.record_many_at_commit(_read_events(actor, persons, view))


def find_matches(actor, first_name: str, last_name: str, date_of_birth: date | None, *,
                 exclude_id: str | None = None, view: str = "lookup") -> list[Match]:
    """Exact-match lookup for a page: audits the lookup and a read of each person shown."""
    policy.require(actor, Permission.PERSONS_READ)
    matches = [m for m in _exact_matches(_actor_scope(actor), first_name, last_name, date_of_birth)
               if m.person.id != exclude_id]
    # The lookup and a read of each person shown: one batch, the same statements however many match.
    audit.record_many_at_commit([{"action": "person.lookup", "actor": actor, "record_type": "person",
                        "details": {"results": len(matches), "view": view}},
                       *_read_events(actor, [m.person for m in matches], view)])
    return matches


def get_person(actor, person_id: str, *, view: str = "page", permission: Permission = Permission.PERSONS_READ) -> Person:
    """A person the actor may see, for display: one audited read."""
    policy.require(actor, permission)
    person = policy.get_visible(db.session, Person, person_id, actor)
    _audit_reads(actor, [person], view)
    return person


def merged_into(person: Person) -> Person | None:
    return _survivor(person) if person.is_merged else None


# --- create and update -------------------------------------------------------------

def _insert_person(agency_id: str, data: PersonData, created_by=None) -> Person:
    person = Person(id=new_id(), agency_id=agency_id, created_by_id=getattr(created_by, "id", None))
    db.session.add(person)
    _apply(person, data)
    db.session.flush()
    return person


def create_person(actor, data: PersonData, *, allow_duplicate: bool = False) -> Person:
    """A new person of the actor's agency. Unless the caller confirms that the
    possible matches are other people, an existing exact match stops it."""
    policy.require(actor, Permission.PERSONS_WRITE)
    data = clean_person_data(data, _today(actor))
    matches = _exact_matches(_actor_scope(actor), data.first_name, data.last_name, data.date_of_birth)
    if matches and not allow_duplicate:
        raise PossibleDuplicate(matches)
    person = _insert_person(actor.agency_id, data, created_by=actor)
    details = {"aliases": len(data.aliases)}
    if matches:
        details["confirmed_distinct_from"] = [m.person.id for m in matches]
    audit.record("person.create", actor=actor, record_type="person", record_id=person.id, details=details)
    return person


def ensure_person(agency_id: str, data: PersonData) -> tuple[Person, bool]:
    """For seeds and imports (no signed-in actor): the agency's exact match, or a new person."""
    data = clean_person_data(data, _today())
    existing = _exact_matches(_agency_scope(agency_id), data.first_name, data.last_name, data.date_of_birth)
    if existing:
        return existing[0].person, False
    person = _insert_person(agency_id, data)
    audit.record("person.create", agency_id=agency_id, actor_username="system", record_type="person",
                 record_id=person.id, details={"aliases": len(data.aliases), "source": "seed"})
    return person, True


def _changed_fields(before: PersonData, after: PersonData) -> list[str]:
    """Field names only: the audit event says what changed, never to what."""
    changed = []
    for f in fields(PersonData):
        old, new = getattr(before, f.name), getattr(after, f.name)
        if f.name == "aliases":
            old, new = sorted(map(normalise_for_index, old)), sorted(map(normalise_for_index, new))
        if old != new:
            changed.append(f.name)
    return changed


def update_person(actor, person_id: str, data: PersonData) -> Person:
    policy.require(actor, Permission.PERSONS_WRITE)
    person = policy.get_visible(db.session, Person, person_id, actor)
    policies.check_editable(person)
    data = clean_person_data(data, _today(actor))
    changed = _changed_fields(person_data(person), data)
    if changed:
        _apply(person, data)
        person.updated_at = utcnow()
        db.session.flush()
        audit.record("person.update", actor=actor, record_type="person", record_id=person.id, details={"fields": changed})
    return person


# --- the person page -------------------------------------------------------------------

def linked_records(actor, person: Person) -> list[tuple[links.LinkedKind, list[links.LinkedItem]]]:
    return [(kind, kind.list_for(actor, person)) for kind in links.kinds()]


def flags(actor, person: Person) -> list[str]:
    return links.flags_for(actor, person)


def merges_of(actor, person: Person) -> list[PersonMerge]:
    """Merges this record took part in, newest first (ids, codes and dates)."""
    policy.require(actor, Permission.PERSONS_READ)
    stmt = policy.visible(select(PersonMerge), actor, PersonMerge).where(
        (PersonMerge.survivor_id == person.id) | (PersonMerge.merged_id == person.id)).order_by(PersonMerge.merged_at.desc())
    return list(db.session.execute(stmt).scalars())


# --- merge and unmerge -----------------------------------------------------------------

def merge_persons(actor, survivor_id: str, duplicate_id: str, reason: str, note: str = "") -> PersonMerge:
    """Merge ``duplicate`` into ``survivor``: fill the survivor's empty fields, add the
    duplicate's names as aliases, move linked records over, and mark the duplicate
    as merged. The record of it lists exactly what changed, so it can be undone."""
    policy.require(actor, Permission.PERSONS_MERGE)
    note = (note or "").strip()
    errors = {}
    if reason not in MERGE_REASONS:
        errors["reason"] = ["Choose why these records are the same person."]
    if reason == "other" and not note:
        errors["note"] = ["Explain why these records are the same person."]
    if len(note) > MERGE_NOTE_MAX:
        errors["note"] = [f"Use at most {MERGE_NOTE_MAX} characters."]
    survivor = policy.get_visible(db.session, Person, survivor_id, actor)
    duplicate = policy.get_visible(db.session, Person, duplicate_id, actor)
    policies.check_mergeable(survivor, duplicate)
    if errors:
        raise ValidationError("Check the merge details.", fields=errors)

    now = utcnow()
    merge = PersonMerge(id=new_id(), agency_id=survivor.agency_id, survivor_id=survivor.id, merged_id=duplicate.id,
                        reason=reason, merged_by_id=actor.id, merged_at=now, summary={})
    merge.note = note or None
    db.session.add(merge)
    db.session.flush()

    filled = []
    for name in MERGE_FILLABLE:
        if not getattr(survivor, name) and getattr(duplicate, name):
            setattr(survivor, name, getattr(duplicate, name))
            filled.append(name)
    for name in CODED_FIELDS:
        if getattr(survivor, name) == UNKNOWN and getattr(duplicate, name) != UNKNOWN:
            setattr(survivor, name, getattr(duplicate, name))
            filled.append(name)

    known = {full_name_key(survivor.first_name, survivor.last_name)} | {normalise_for_index(a.name) for a in survivor.aliases}
    added = []
    for name in [duplicate.full_name] + [a.name for a in duplicate.aliases]:
        if normalise_for_index(name) not in known and len(name) <= ALIAS_MAX:
            known.add(normalise_for_index(name))
            added.append(_add_alias(survivor, name, merge.id))

    moved = {}
    for kind in links.kinds():
        if kind.relink is not None and (ids := kind.relink(duplicate.id, survivor.id, None)):
            moved[kind.key] = list(ids)

    duplicate.merged_into_id = survivor.id
    duplicate.merged_at = now
    survivor.updated_at = now
    db.session.flush()
    merge.summary = {"filled_fields": filled, "added_alias_ids": [a.id for a in added], "moved": moved}
    db.session.flush()
    audit.record("person.merge", actor=actor, record_type="person_merge", record_id=merge.id, details={
        "survivor_id": survivor.id, "merged_id": duplicate.id, "reason": reason, "filled_fields": filled,
        "added_aliases": len(added), "moved": moved})
    return merge


def unmerge_persons(actor, merge_id: str) -> PersonMerge:
    """Undo a merge from its record: the duplicate stands alone again, the fields the
    merge filled are cleared unless edited since, its aliases are removed and the
    linked records it moved go back."""
    policy.require(actor, Permission.PERSONS_MERGE)
    merge = policy.get_visible(db.session, PersonMerge, merge_id, actor)
    survivor = db.session.get(Person, merge.survivor_id)
    duplicate = db.session.get(Person, merge.merged_id)
    policies.check_unmergeable(merge, duplicate)
    summary = merge.summary or {}

    cleared, kept = [], []
    for name in summary.get("filled_fields", []):
        if getattr(survivor, name) == getattr(duplicate, name):
            setattr(survivor, name, UNKNOWN if name in CODED_FIELDS else None)
            cleared.append(name)
        else:
            kept.append(name)  # edited since the merge: the edit stands
    removed = 0
    for alias in list(survivor.aliases):
        if alias.added_by_merge_id == merge.id:
            survivor.aliases.remove(alias)
            removed += 1
    moved_back = {}
    kinds = {kind.key: kind for kind in links.kinds()}
    for key, ids in (summary.get("moved") or {}).items():
        kind = kinds.get(key)
        if kind is not None and kind.relink is not None:
            moved_back[key] = list(kind.relink(survivor.id, duplicate.id, list(ids)))

    now = utcnow()
    duplicate.merged_into_id = None
    duplicate.merged_at = None
    survivor.updated_at = now
    merge.undone_at = now
    merge.undone_by_id = actor.id
    db.session.flush()
    audit.record("person.unmerge", actor=actor, record_type="person_merge", record_id=merge.id, details={
        "survivor_id": survivor.id, "merged_id": duplicate.id, "cleared_fields": cleared, "kept_fields": kept,
        "removed_aliases": removed, "moved_back": moved_back})
    return merge

