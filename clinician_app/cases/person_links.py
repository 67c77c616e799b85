"""The cases domain's part of the person page (people/links.py): the person's
calls, cases and response plans, each moved to the survivor when records are
merged, and the repeat-contact flag."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import select, update
from sqlalchemy.orm import load_only

from clinician_app.calls import codes as call_codes
from clinician_app.calls.models import Call
from clinician_app.core import policy
from clinician_app.core.policy import Permission
from clinician_app.extensions import db
from clinician_app.people import links

from .codes import CASE_STATUSES, PLAN_STATUSES, PLAN_SUPERSEDED
from .models import Case, ResponsePlan
from .repeat_contacts import repeat_contact


def _relinker(model, column):
    def relink(from_id: str, to_id: str, only_ids: list[str] | None) -> list[str]:
        stmt = select(model.id).where(column == from_id)
        if only_ids is not None:
            stmt = stmt.where(model.id.in_(only_ids))
        ids = list(db.session.execute(stmt).scalars())
        if ids:
            db.session.execute(update(model).where(model.id.in_(ids)).values({column.key: to_id})
                               .execution_options(synchronize_session="fetch"))
        return ids

    return relink


def _calls(actor, person) -> list[links.LinkedItem]:
    stmt = (policy.visible(select(Call), actor, Call).where(Call.person_id == person.id)
            .options(load_only(Call.id, Call.incident_number, Call.received_at, Call.call_type, Call.status,
                               Call.agency_id, Call.route_agency_id))
            .order_by(Call.received_at.desc()))
    return [links.LinkedItem(label=f"Call {c.incident_number}: {call_codes.label(call_codes.CALL_TYPES, c.call_type)}",
                             url=url_for("calls.detail", call_id=c.id), when=c.received_at,
                             status=call_codes.label(call_codes.STATUSES, c.status))
            for c in db.session.execute(stmt).scalars()]


def _cases(actor, person) -> list[links.LinkedItem]:
    if not policy.has_permission(actor, Permission.CASES_READ):
        return []
    stmt = policy.visible(select(Case), actor, Case).where(Case.person_id == person.id).order_by(Case.opened_at.desc())
    return [links.LinkedItem(label=f"Case opened {c.opened_at:%Y-%m-%d}", url=url_for("cases.detail", case_id=c.id),
                             when=c.opened_at, status=CASE_STATUSES.get(c.status, c.status))
            for c in db.session.execute(stmt).scalars()]


def _plans(actor, person) -> list[links.LinkedItem]:
    if not policy.has_permission(actor, Permission.CASES_READ):
        return []
    stmt = (select(ResponsePlan).where(ResponsePlan.person_id == person.id, ResponsePlan.status != PLAN_SUPERSEDED,
                                       ResponsePlan.agency_id == actor.agency_id)
            .options(load_only(ResponsePlan.id, ResponsePlan.status, ResponsePlan.written_at))
            .order_by(ResponsePlan.written_at.desc()))
    return [links.LinkedItem(label="Response plan", url=url_for("cases.response_plan", person_id=person.id),
                             when=p.written_at, status=PLAN_STATUSES.get(p.status, p.status))
            for p in db.session.execute(stmt).scalars()]


def _repeat_flag(actor, person) -> list[str]:
    found = repeat_contact(person.id)
    return [found.text + ". Consider proactive outreach and a response plan."] if found else []


links.register(links.LinkedKind("calls", "Calls", "No calls are linked to this person yet.", _calls,
                                _relinker(Call, Call.person_id)))
links.register(links.LinkedKind("cases", "Cases", "No cases are linked to this person yet.", _cases,
                                _relinker(Case, Case.person_id)))
links.register(links.LinkedKind("response_plans", "Response plans", "No response plan is written for this person.",
                                _plans, _relinker(ResponsePlan, ResponsePlan.person_id)))
links.register_flag("repeat_contact", _repeat_flag)
