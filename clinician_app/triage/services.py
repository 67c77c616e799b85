"""Triage: record a clinician's screen, risk, acuity and route for a call, and
read it back (audited). The single import point for other domains::

    from clinician_app.triage.services import (
        record_triage, read_triage, current_triage, suggest_route, RouteSuggestion,
        claim_call, assign_call, assignable_users, assignment_history, on_duty_now)

Services flush, never commit. Audit details carry ids and codes only: never
the screen's answers, the observations or a reason typed by a person.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from clinician_app.agencies.roster import on_duty_now  # noqa: F401  (re-exported)
from clinician_app.calls.codes import STATUS_FLAGGED, STATUS_TRIAGED
from clinician_app.calls.models import Call
from clinician_app.core import audit, policy
from clinician_app.core.errors import PermissionDenied, ValidationError
from clinician_app.core.policy import Permission, require
from clinician_app.core.text import clean_text
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from .claims import assign_call, assignable_users, assignment_history, claim_call  # noqa: F401  (re-exported)
from .codes import (
    ACUITIES,
    OUTSIDE_SERVICES,
    RISK_LEVELS,
    RISK_ORDER,
    ROUTE_BHU,
    ROUTE_OUTSIDE,
    ROUTES,
)
from .models import OBSERVATIONS_MAX, OVERRIDE_REASON_MAX, Triage
from .policies import may_triage
from .routing import RouteSuggestion, bhu_agency, suggest_route
from .screener import QUESTIONS, ScreenAnswers, asked, default_risk_level, missing_answers, screen_risk

TRIAGEABLE = (STATUS_FLAGGED, STATUS_TRIAGED)

__all__ = [
    "TriageInput", "TriageView", "record_triage", "read_triage", "current_triage", "load_call_for_triage",
    "suggest_route", "RouteSuggestion", "claim_call", "assign_call", "assignable_users",
    "assignment_history", "on_duty_now",
]


@dataclass
class TriageInput:
    """A triage as plain values: what the screen form hands in.

    ``answers``: a ``ScreenAnswers`` (or a dict of q1..q6, q6_recent -> bool/None);
    all blank means the screen was not done. ``risk_level``, ``acuity``,
    ``route`` and ``outside_service`` are codes from ``triage.codes``.
    ``override_reason`` is required when the route differs from the suggestion."""

    answers: ScreenAnswers | dict = field(default_factory=ScreenAnswers)
    observations: str = ""
    risk_level: str | None = None
    acuity: str | None = None
    route: str | None = None
    outside_service: str | None = None
    override_reason: str = ""


@dataclass
class TriageView:
    """A triage with its clinical content decrypted (the read was audited)."""

    triage: Triage
    answers: dict
    observations: str | None


def _as_input(data) -> TriageInput:
    if isinstance(data, TriageInput):
        result = data
    else:
        result = TriageInput(**{k: v for k, v in dict(data).items() if k in TriageInput.__dataclass_fields__})
    if isinstance(result.answers, dict):
        result.answers = ScreenAnswers(**{k: result.answers.get(k) for k in QUESTIONS})
    return result


def load_call_for_triage(actor, call_id: str) -> Call:
    """A call the actor may triage, or NotFound / PermissionDenied."""
    require(actor, Permission.TRIAGE)
    call = policy.get_visible(db.session, Call, call_id, actor)
    if not may_triage(actor, call):
        raise PermissionDenied("This call is worked by another agency.")
    return call


def current_triage(call_id: str) -> Triage | None:
    """The newest triage of a call (its coded fields; reading its answers is
    ``read_triage``'s job)."""
    return db.session.execute(
        select(Triage).where(Triage.call_id == call_id).order_by(Triage.created_at.desc(), Triage.id).limit(1)
    ).scalar_one_or_none()


def read_triage(actor, call: Call) -> TriageView | None:
    """The call's current triage with its screen answers and observations;
    every read is audited (``triage.read``)."""
    require(actor, Permission.CALLS_READ_CLINICAL)
    policy.get_visible(db.session, Call, call.id, actor)
    triage = current_triage(call.id)
    if triage is None:
        return None
    view = TriageView(triage=triage, answers=triage.answers or {}, observations=triage.observations)
    audit.record_at_commit("triage.read", actor=actor, record_type="call", record_id=call.id,
                 details={"triage_id": triage.id})
    return view


def record_triage(actor, call_id: str, data) -> Triage:
    """Triage a flagged call (or triage again one not yet claimed): the screen,
    risk level, acuity and route. Sets the call's route, the agency that works
    it, its acuity, and its status to triaged."""
    call = load_call_for_triage(actor, call_id)
    if call.status not in TRIAGEABLE:
        raise ValidationError("This call has already been claimed or closed; it can't be triaged again.")
    data = _as_input(data)
    errors: dict[str, list[str]] = {}

    answers = asked(data.answers)
    if not answers.is_blank:
        for name in missing_answers(answers):
            errors[name] = ["Answer this question, or leave the whole screen blank if it was not done."]
    result = screen_risk(answers)

    risk_level = data.risk_level or default_risk_level(result)
    if risk_level not in RISK_LEVELS:
        errors["risk_level"] = ["Choose a risk level."]
    elif result in RISK_ORDER and RISK_ORDER.index(risk_level) < RISK_ORDER.index(result):
        errors["risk_level"] = [f"The screen shows {RISK_LEVELS[result].lower()} risk: "
                                f"choose {RISK_LEVELS[result].lower()} or higher."]
    acuity = data.acuity
    if acuity not in ACUITIES:
        errors["acuity"] = ["Choose the acuity."]
        acuity = None
    route = data.route
    if route not in ROUTES:
        errors["route"] = ["Choose a route: department clinician, regional BHU or outside services."]
    outside_service = data.outside_service or None
    if route == ROUTE_OUTSIDE and outside_service not in OUTSIDE_SERVICES:
        errors["outside_service"] = ["Name the outside service."]
    if route != ROUTE_OUTSIDE:
        outside_service = None
    observations = clean_text(data.observations, OBSERVATIONS_MAX, "observations", errors)
    override_reason = clean_text(data.override_reason, OVERRIDE_REASON_MAX, "override_reason", errors)

    suggestion = suggest_route(call, acuity=acuity)
    overridden = route in ROUTES and (route, outside_service) != (suggestion.route, suggestion.outside_service)
    if overridden and not override_reason and "override_reason" not in errors:
        errors["override_reason"] = [f"You chose a route other than the suggested one ({suggestion.label}): "
                                     "give the reason."]
    route_agency_id = None
    if route == ROUTE_BHU:
        bhu = bhu_agency()
        if bhu is None:
            errors["route"] = ["No regional BHU is set up: choose another route."]
        else:
            route_agency_id = bhu.id
    elif route in ROUTES:
        # The town keeps a call it works itself or hands to an outside service.
        route_agency_id = call.agency_id
    if errors:
        raise ValidationError("Some of the triage needs correcting.", fields=errors)

    now = utcnow()
    triage = Triage(
        call_id=call.id, screen_risk=result, risk_level=risk_level, acuity=acuity, route=route,
        outside_service=outside_service, suggested_route=suggestion.route,
        suggested_outside_service=suggestion.outside_service, suggestion_reason=suggestion.reason[:300],
        rule_id=suggestion.rule_id, override_reason=override_reason if overridden else None,
        created_by_id=actor.id, created_at=now,
    )
    triage.answers = None if answers.is_blank else answers.as_dict()
    triage.observations = observations or None
    db.session.add(triage)

    call.status = STATUS_TRIAGED
    call.triaged_at = call.triaged_at or now
    call.route = route
    call.route_agency_id = route_agency_id
    call.outside_service = outside_service
    call.acuity = acuity
    call.updated_at = now
    db.session.flush()
    audit.record("triage.create", actor=actor, record_type="call", record_id=call.id,
                 details={"triage_id": triage.id, "route": route, "suggested_route": suggestion.route,
                          "overridden": overridden, "rule_id": suggestion.rule_id,
                          "fallback": suggestion.fallback})
    return triage
