"""Youth programs and their sessions. Participants are counted by age band per
session; no child is ever named."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from clinician_app.core import audit, policy
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from . import checks, codes, places
from .models import DESCRIPTION_MAX, TITLE_MAX, YouthProgram, YouthSession


@dataclass
class ProgramData:
    program: str = ""
    title: str = ""
    description: str = ""


def create_youth_program(actor, data: ProgramData) -> YouthProgram:
    policy.require(actor, Permission.ENGAGEMENT_MANAGE)
    errors: dict = {}
    program = checks.code(data.program, codes.YOUTH_PROGRAMS, "program", errors, "Choose the program.")
    title = checks.text(data.title, TITLE_MAX, "title", errors, required="Give it a title, like Summer Academy 2026.")
    description = checks.text(data.description, DESCRIPTION_MAX, "description", errors, multiline=True)
    checks.raise_if(errors)
    record = YouthProgram(agency_id=actor.agency_id, program=program, title=title, description=description,
                          created_by_id=actor.id, created_at=utcnow())
    db.session.add(record)
    db.session.flush()
    audit.record("engagement.youth_program_create", actor=actor, record_type="youth_program", record_id=record.id,
                 details={"program": program})
    return record


def get_youth_program(actor, program_id: str) -> YouthProgram:
    policy.require(actor, Permission.ENGAGEMENT_READ)
    return policy.get_visible(db.session, YouthProgram, program_id, actor)


def list_youth_programs(actor) -> list[tuple[YouthProgram, int, int]]:
    """The agency's programs with their number of sessions and participants (one query)."""
    policy.require(actor, Permission.ENGAGEMENT_READ)
    participants = sum((getattr(YouthSession, f"participants_{band}") for band in codes.AGE_BANDS),
                       start=0)
    stmt = (policy.visible(select(YouthProgram), actor, YouthProgram)
            .outerjoin(YouthSession, YouthSession.program_id == YouthProgram.id)
            .add_columns(func.count(YouthSession.id), func.coalesce(func.sum(participants), 0))
            .group_by(YouthProgram.id).order_by(YouthProgram.created_at.desc()))
    return [(p, int(n), int(total)) for p, n, total in db.session.execute(stmt)]


@dataclass
class SessionData:
    held_on: date | None = None
    activity: str = ""
    place_id: str | None = None
    officer_ids: list[str] = field(default_factory=list)
    counts: dict[str, int | str | None] = field(default_factory=dict)  # AGE_BANDS code -> count


def record_youth_session(actor, program_id: str, data: SessionData) -> YouthSession:
    policy.require(actor, Permission.ENGAGEMENT_MANAGE)
    program = policy.get_visible(db.session, YouthProgram, program_id, actor)  # the agency's own only
    errors: dict = {}
    held_on = checks.day(data.held_on, "held_on", errors, required="Enter the date, like 2026-07-08.", today=checks.agency_today(actor))
    activity = checks.text(data.activity, TITLE_MAX, "activity", errors, required="Say what the session was.")
    place = places.own_place(actor.agency_id, data.place_id, errors)
    officers = checks.chosen_officers(actor.agency_id, data.officer_ids, errors, required=False)
    counts = {band: checks.count((data.counts or {}).get(band), f"participants_{band}", errors,
                                 what=f"count for ages {label}") or 0
              for band, label in codes.AGE_BANDS.items()}
    checks.raise_if(errors)
    session = YouthSession(agency_id=program.agency_id, program_id=program.id, held_on=held_on, activity=activity,
                           place_id=place.id if place else None, created_by_id=actor.id, created_at=utcnow(),
                           **{f"participants_{band}": n for band, n in counts.items()})
    session.officers = officers
    db.session.add(session)
    db.session.flush()
    audit.record("engagement.youth_session_record", actor=actor, record_type="youth_session", record_id=session.id,
                 details={"program_id": program.id, "participants": sum(counts.values())})
    return session
