"""Case notes: write, add an addendum, list (without bodies) and read (audited).

    from clinician_app.cases import notes
    note = notes.write_note(actor, case_id, notes.NewNote(kind="contact", sensitivity="normal", body="..."))
    fix = notes.add_addendum(actor, note.id, "Correction: ...")
    view = notes.read_note(actor, note.id)   # one "case_note.read" event per body shown

Append-only (SECURITY.md promise 19): there is no function here that changes or
removes a note, and no route either; a correction is an addendum naming the note.
Listing a case's notes gives type, sensitivity, author and time, never bodies, so
it is not a read; opening a note is, once per body shown (promise 13).
Services flush, never commit; audit details carry ids and codes, never text.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import aliased, defer, joinedload

from clinician_app.auth.models import User
from clinician_app.core import audit, policy
from clinician_app.core.errors import NotFound, PermissionDenied, ValidationError
from clinician_app.core.policy import Permission
from clinician_app.core.text import clean_text
from clinician_app.extensions import db

from . import break_glass, policies, timeline
from .models import Case
from .note_models import (
    NOTE_BODY_MAX,
    NOTE_KINDS,
    SENSITIVITIES,
    SENSITIVITY_NORMAL,
    SENSITIVITY_PART2,
    CaseNote,
)

RESTRICTED_LABEL = "Restricted (42 CFR Part 2)"


class RestrictedNote(PermissionDenied):
    """The actor may know the note exists (they see the case) but not read it."""

    def __init__(self, note: CaseNote, case: Case):
        super().__init__("This note is restricted under 42 CFR Part 2. Only clinicians and supervisors of the "
                         "owning agency and the assigned clinician can read it.")
        self.note = note
        self.case = case


@dataclass
class NewNote:
    kind: str = ""
    sensitivity: str = SENSITIVITY_NORMAL
    body: str = ""


@dataclass(frozen=True)
class NoteRow:
    """A note as a list shows it: no body."""

    note: CaseNote
    readable: bool
    addenda: int = 0


@dataclass
class ShownNote:
    note: CaseNote
    body: str | None  # None: restricted for this reader
    addenda: list[ShownNote] = field(default_factory=list)


# --- access ----------------------------------------------------------------------------------

def case_access(actor, case_id: str) -> tuple[Case, bool]:
    """The case and whether the actor reaches it only through a break-the-glass grant.
    Another agency's case without a grant is a plain 404."""
    policy.require(actor, Permission.CASE_NOTES_READ)
    case = db.session.get(Case, case_id)
    if case is None:
        raise NotFound("That record was not found.")
    if policies.in_case_scope(actor, case):
        return case, False
    if break_glass.active_grant(actor, case.id) is not None:
        return case, True
    raise NotFound("That record was not found.")


def _readable(actor, note: CaseNote, case: Case, via_grant: bool) -> bool:
    return policies.may_read_note(actor, note, case, grant_active=via_grant)


def _case_notes(case: Case, *columns):
    """The case's notes, addenda left out (they show under their note)."""
    return select(*columns).where(CaseNote.case_id == case.id, CaseNote.addendum_to_id.is_(None))


_ADDENDUM = aliased(CaseNote)  # built once: an alias is costly to make on every page


def list_notes(actor, case: Case, via_grant: bool = False, limit: int | None = None, since=None) -> list[NoteRow]:
    """The case's notes (the newest ``limit`` if given, those written at ``since`` or
    later if given), newest first, each with its addenda count: no bodies (not even
    fetched), no reads. One query, whatever the number of notes and addenda."""
    addenda = (select(func.count(_ADDENDUM.id)).where(_ADDENDUM.addendum_to_id == CaseNote.id)
               .correlate(CaseNote).scalar_subquery())
    stmt = (_case_notes(case, CaseNote, addenda)
            # The author's name is shown, not their roles: those load only if asked for.
            .options(defer(CaseNote.body_enc), joinedload(CaseNote.author).lazyload(User.role_rows))
            .order_by(CaseNote.created_at.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(CaseNote.created_at >= since)
    return [NoteRow(note, _readable(actor, note, case, via_grant), count) for note, count in db.session.execute(stmt)]


def _audit_read(actor, note: CaseNote, grant_id: str | None) -> None:
    details = {"case_id": note.case_id, "sensitivity": note.sensitivity}
    if grant_id:
        details["break_glass_grant"] = grant_id
    audit.record_at_commit("case_note.read", actor=actor, record_type="case_note", record_id=note.id, details=details,
                 reason="break the glass" if grant_id else None)


def read_note(actor, note_id: str) -> ShownNote:
    """The note with its addenda, oldest first; every body returned is one audited read.
    RestrictedNote when the note is Part 2 and the actor is not among its readers."""
    policy.require(actor, Permission.CASE_NOTES_READ)
    note = db.session.get(CaseNote, note_id)
    if note is None:
        raise NotFound("That record was not found.")
    case, via_grant = case_access(actor, note.case_id)
    grant = break_glass.active_grant(actor, case.id) if via_grant else None
    if not _readable(actor, note, case, via_grant):
        audit.record_at_commit("case_note.read", actor=actor, record_type="case_note", record_id=note.id,
                     outcome="denied", details={"case_id": case.id, "sensitivity": note.sensitivity})
        raise RestrictedNote(note, case)
    root = db.session.get(CaseNote, note.addendum_to_id) if note.addendum_to_id else note
    shown = ShownNote(root, None)
    for item in [root, *addenda_of(root)]:
        body = None
        if _readable(actor, item, case, via_grant):
            body = item.body
            _audit_read(actor, item, grant.id if grant else None)
        if item is root:
            shown.body = body
        else:
            shown.addenda.append(ShownNote(item, body))
    return shown


def addenda_of(note: CaseNote) -> list[CaseNote]:
    return list(db.session.execute(
        select(CaseNote).where(CaseNote.addendum_to_id == note.id).order_by(CaseNote.created_at, CaseNote.id)
    ).scalars())


# --- writing ---------------------------------------------------------------------------------

def _clean_body(body: str | None, errors: dict) -> str:
    return clean_text(body, NOTE_BODY_MAX, "body", errors, required="Write the note. An empty note can't be saved.",
                      too_long="Use at most {limit} characters (this note has {length}).")


def case_for_writing(actor, case_id: str) -> Case:
    policy.require(actor, Permission.CASE_NOTES_WRITE)
    case, via_grant = case_access(actor, case_id)
    if via_grant or not policies.may_write_note(actor, case):
        raise PermissionDenied("Only those who work this case can write notes on it.")
    return case


def write_note(actor, case_id: str, data: NewNote) -> CaseNote:
    case = case_for_writing(actor, case_id)
    errors: dict[str, list[str]] = {}
    if data.kind not in NOTE_KINDS:
        errors["kind"] = ["Choose the type of note."]
    if data.sensitivity not in SENSITIVITIES:
        errors["sensitivity"] = ["Choose whether the note holds substance-use information."]
    body = _clean_body(data.body, errors)
    if errors:
        raise ValidationError("The note was not saved.", fields=errors)
    if not case.is_open:
        raise ValidationError("This case is closed, so no new notes can be added. To correct or complete a note, "
                              "open it and add an addendum.")
    note = CaseNote(case_id=case.id, agency_id=case.agency_id, kind=data.kind, sensitivity=data.sensitivity,
                    author_id=actor.id)
    note.body = body
    db.session.add(note)
    db.session.flush()
    audit.record("case_note.created", actor=actor, record_type="case_note", record_id=note.id,
                 details={"case_id": case.id, "kind": note.kind, "sensitivity": note.sensitivity})
    return note


def note_for_addendum(actor, note_id: str) -> tuple[CaseNote, Case]:
    """The note an addendum attaches to (an addendum's own addendum goes on its note)."""
    policy.require(actor, Permission.CASE_NOTES_WRITE)
    note = db.session.get(CaseNote, note_id)
    if note is None:
        raise NotFound("That record was not found.")
    case = case_for_writing(actor, note.case_id)
    if note.addendum_to_id:
        note = db.session.get(CaseNote, note.addendum_to_id)
    if not policies.may_read_note(actor, note, case):
        raise RestrictedNote(note, case)
    return note, case


def add_addendum(actor, note_id: str, body: str, part2: bool = False) -> CaseNote:
    """A correction or addition to a note, allowed on a closed case too. It is at
    least as restricted as the note; ``part2`` marks it so when the note is not."""
    note, case = note_for_addendum(actor, note_id)
    errors: dict[str, list[str]] = {}
    text = _clean_body(body, errors)
    if errors:
        raise ValidationError("The addendum was not saved.", fields=errors)
    sensitivity = SENSITIVITY_PART2 if (part2 or note.is_part2) else SENSITIVITY_NORMAL
    addendum = CaseNote(case_id=case.id, agency_id=case.agency_id, kind=note.kind, sensitivity=sensitivity,
                        author_id=actor.id, addendum_to_id=note.id)
    addendum.body = text
    db.session.add(addendum)
    db.session.flush()
    audit.record("case_note.addendum", actor=actor, record_type="case_note", record_id=addendum.id,
                 details={"case_id": case.id, "note_id": note.id, "sensitivity": sensitivity})
    return addendum


# --- for other domains -----------------------------------------------------------------------

def part2_bodies_for(person) -> list[str]:
    """The decrypted bodies of the person's Part 2 notes, for server-side checks only
    (the response-plan guard: a plan officers read must not repeat them). Never
    render what this returns. Not audited per note: no one is shown a body."""
    notes = db.session.execute(
        select(CaseNote).join(Case, Case.id == CaseNote.case_id)
        .where(Case.person_id == person.id, CaseNote.sensitivity == SENSITIVITY_PART2)
    ).scalars().all()
    return [n.body for n in notes]


def _timeline_times(case, actor, limit: int):
    if not policy.has_permission(actor, Permission.CASE_NOTES_READ):
        return None
    return _case_notes(case, CaseNote.created_at).order_by(CaseNote.created_at.desc()).limit(limit)


def _timeline(case, actor, limit: int | None = None, since=None) -> list[timeline.TimelineItem]:
    if not policy.has_permission(actor, Permission.CASE_NOTES_READ):
        return []
    via_grant = not policies.in_case_scope(actor, case) and break_glass.active_grant(actor, case.id) is not None
    items = []
    for row in list_notes(actor, case, via_grant=via_grant, limit=limit, since=since):
        note = row.note
        title = f"{NOTE_KINDS.get(note.kind, note.kind)} note by {note.author.display_name}"
        if note.is_part2:
            title += f" · {RESTRICTED_LABEL}" if not row.readable else " · Part 2"
        summary = None
        if row.addenda:
            summary = "1 addendum" if row.addenda == 1 else f"{row.addenda} addenda"
        items.append(timeline.TimelineItem(
            at=note.created_at, kind="note", title=title, restricted=not row.readable, summary=summary,
            url=_note_url(note.id) if row.readable else None))
    return items


def _note_url(note_id: str) -> str | None:
    from flask import has_request_context, url_for

    return url_for("notes.detail", note_id=note_id) if has_request_context() else None


timeline.register("notes", _timeline, times=_timeline_times)
