"""Routing: which route the rules suggest for a call, and the rules themselves.

Rules are data (``RoutingRule`` rows, one set per town) that supervisors and
administrators edit; ``suggest_route`` evaluates a town's rules by priority,
first match wins, and falls back to the regional BHU when none matches, saying so.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from clinician_app.agencies.models import Agency
from clinician_app.agencies.roster import is_on_duty
from clinician_app.core import audit
from clinician_app.core.errors import NotFound, ValidationError
from clinician_app.core.policy import Permission, require
from clinician_app.extensions import db

from .codes import (
    ACUITIES,
    ON_DUTY_CONDITIONS,
    OUTSIDE_SERVICES,
    ROUTE_BHU,
    ROUTE_OUTSIDE,
    ROUTES,
    URGENCY_ACUITY,
    route_label,
)
from .models import RULE_DESCRIPTION_MAX, RoutingRule

PRIORITY_MAX = 999


@dataclass(frozen=True)
class RouteSuggestion:
    route: str
    outside_service: str | None
    reason: str
    rule_id: str | None = None
    fallback: bool = False
    acuity: str | None = None
    on_duty: bool = False

    @property
    def label(self) -> str:
        return route_label(self.route, self.outside_service)


FALLBACK_REASON = "no routing rule matched, so the built-in fallback suggests the regional BHU"


def _facts(acuity: str | None, on_duty: bool) -> str:
    acuity_text = f"acuity {ACUITIES[acuity].split(':')[0].lower()}" if acuity in ACUITIES else "acuity not set"
    duty = "a department clinician is on duty" if on_duty else "no department clinician is on duty"
    return f"{acuity_text}; {duty}"


def call_acuity(call, acuity: str | None = None) -> str | None:
    """The acuity to route on: the one given, the call's triaged acuity, or
    the dispatcher's requested urgency read as an acuity."""
    return acuity or call.acuity or URGENCY_ACUITY.get(call.urgency or "")


def town_rules(agency_id: str) -> list[RoutingRule]:
    return list(db.session.execute(
        select(RoutingRule).where(RoutingRule.agency_id == agency_id).order_by(RoutingRule.priority)
    ).scalars())


def evaluate(rules: list[RoutingRule], acuity: str | None, on_duty: bool) -> RouteSuggestion:
    """The pure part: the first rule (by priority) that matches, else the fallback."""
    for rule in sorted(rules, key=lambda r: r.priority):
        if rule.matches(acuity, on_duty):
            reason = f"Rule {rule.priority} matched: {_facts(acuity, on_duty)}."
            if rule.description:
                reason += f" {rule.description}"
            return RouteSuggestion(rule.route, rule.outside_service, reason[:300], rule.id, False, acuity, on_duty)
    return RouteSuggestion(ROUTE_BHU, None, f"{_facts(acuity, on_duty).capitalize()}: {FALLBACK_REASON}.",
                           None, True, acuity, on_duty)


def suggest_route(call, at: datetime | None = None, acuity: str | None = None) -> RouteSuggestion:
    """The route the call's town's rules suggest, from the acuity and whether
    a department clinician of the town is on the roster at ``at`` (default now)."""
    acuity = call_acuity(call, acuity)
    return evaluate(town_rules(call.agency_id), acuity, is_on_duty(call.agency_id, at))


def bhu_agency() -> Agency | None:
    """The regional BHU (the deployment has one)."""
    return db.session.execute(
        select(Agency).where(Agency.kind == "bhu").order_by(Agency.created_at, Agency.name).limit(1)
    ).scalar_one_or_none()


# --- editing the rules ------------------------------------------------------------------

def editable_towns(actor) -> list[Agency]:
    """Towns whose rules the actor may edit: their own town; the BHU, which
    hosts the regional set-up and receives what the rules send it, all towns."""
    require(actor, Permission.ROUTING_RULES_EDIT)
    stmt = select(Agency).where(Agency.kind == "town").order_by(Agency.name)
    if not actor.agency.is_bhu:
        stmt = stmt.where(Agency.id == actor.agency_id)
    return list(db.session.execute(stmt).scalars())


def _town_for(actor, agency_id: str | None) -> Agency:
    towns = {a.id: a for a in editable_towns(actor)}
    if agency_id in towns:
        return towns[agency_id]
    if agency_id is None and actor.agency_id in towns:
        return towns[actor.agency_id]
    if agency_id is None and towns:
        return next(iter(towns.values()))
    raise NotFound("That town was not found.")


def list_rules(actor, agency_id: str | None = None) -> tuple[Agency | None, list[RoutingRule]]:
    require(actor, Permission.ROUTING_RULES_EDIT)
    if agency_id is None and not editable_towns(actor):
        return None, []
    town = _town_for(actor, agency_id)
    return town, town_rules(town.id)


def get_rule(actor, rule_id: str) -> RoutingRule:
    require(actor, Permission.ROUTING_RULES_EDIT)
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None or rule.agency_id not in {a.id for a in editable_towns(actor)}:
        raise NotFound("That rule was not found.")
    return rule


def _clean_rule(data: dict, agency_id: str, exclude_id: str | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    priority = data.get("priority")
    try:
        priority = int(priority)
    except (TypeError, ValueError):
        priority = None
    if priority is None or not 1 <= priority <= PRIORITY_MAX:
        errors["priority"] = [f"Enter a whole number from 1 to {PRIORITY_MAX}."]
    else:
        taken = select(RoutingRule.id).where(RoutingRule.agency_id == agency_id, RoutingRule.priority == priority)
        if exclude_id:
            taken = taken.where(RoutingRule.id != exclude_id)
        if db.session.execute(taken).first():
            errors["priority"] = ["Another rule of this town has that priority; choose another number."]
    acuities = list(data.get("acuities") or [])
    if any(a not in ACUITIES for a in acuities):
        errors["acuities"] = ["Choose acuities from the list."]
    on_duty = data.get("on_duty") or "any"
    if on_duty not in ON_DUTY_CONDITIONS:
        errors["on_duty"] = ["Choose a condition on the department clinician's duty."]
    route = data.get("route")
    if route not in ROUTES:
        errors["route"] = ["Choose the route to suggest."]
    outside_service = data.get("outside_service") or None
    if route == ROUTE_OUTSIDE and outside_service not in OUTSIDE_SERVICES:
        errors["outside_service"] = ["Name the outside service."]
    if route != ROUTE_OUTSIDE:
        outside_service = None
    description = (data.get("description") or "").strip()
    if len(description) > RULE_DESCRIPTION_MAX:
        errors["description"] = [f"Use at most {RULE_DESCRIPTION_MAX} characters."]
    if errors:
        raise ValidationError("Some of the rule's details need correcting.", fields=errors)
    return {"priority": priority, "acuities": ",".join(a for a in ACUITIES if a in acuities),
            "on_duty": on_duty, "route": route, "outside_service": outside_service, "description": description}


def create_rule(actor, agency_id: str | None, data: dict) -> RoutingRule:
    """``data``: priority, acuities (list of codes; empty means any), on_duty
    ("yes"/"no"/"any"), route, outside_service (when route is outside), description."""
    town = _town_for(actor, agency_id)
    rule = RoutingRule(agency_id=town.id, created_by_id=actor.id, **_clean_rule(data, town.id))
    db.session.add(rule)
    db.session.flush()
    audit.record("routing_rule.create", actor=actor, record_type="routing_rule", record_id=rule.id,
                 details={"agency_id": town.id, "priority": rule.priority, "route": rule.route})
    return rule


def update_rule(actor, rule_id: str, data: dict) -> RoutingRule:
    rule = get_rule(actor, rule_id)
    values = _clean_rule(data, rule.agency_id, exclude_id=rule.id)
    changed = sorted(k for k, v in values.items() if getattr(rule, k) != v)
    for key, value in values.items():
        setattr(rule, key, value)
    db.session.flush()
    audit.record("routing_rule.update", actor=actor, record_type="routing_rule", record_id=rule.id,
                 details={"agency_id": rule.agency_id, "changed": changed})
    return rule


def delete_rule(actor, rule_id: str) -> None:
    rule = get_rule(actor, rule_id)
    details = {"agency_id": rule.agency_id, "priority": rule.priority, "route": rule.route}
    db.session.delete(rule)
    db.session.flush()
    audit.record("routing_rule.delete", actor=actor, record_type="routing_rule", record_id=rule_id, details=details)
