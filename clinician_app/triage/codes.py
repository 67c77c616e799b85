"""Coded triage fields and their labels. Codes are stored; labels are for display."""
from __future__ import annotations

RISK_LEVELS = {
    "low": "Low",
    "moderate": "Moderate",
    "high": "High",
    "imminent": "Imminent",
}
RISK_ORDER = list(RISK_LEVELS)

ACUITIES = {
    "emergent": "Emergent: co-respond now",
    "urgent": "Urgent: same day",
    "routine": "Routine: follow-up within 72 hours",
    "information": "Information only",
}

# What a dispatcher asked for, read as an acuity until a clinician sets one.
URGENCY_ACUITY = {"now": "emergent", "same_day": "urgent", "follow_up": "routine"}

ROUTE_DEPARTMENT = "department"
ROUTE_BHU = "bhu"
ROUTE_OUTSIDE = "outside"
ROUTES = {
    ROUTE_DEPARTMENT: "Department clinician",
    ROUTE_BHU: "Regional BHU",
    ROUTE_OUTSIDE: "Outside services",
}

OUTSIDE_SERVICES = {
    "ems": "EMS",
    "mobile_crisis": "Mobile crisis team",
    "988": "988 Suicide & Crisis Lifeline",
}

ON_DUTY_CONDITIONS = {
    "any": "Either",
    "yes": "Department clinician on duty",
    "no": "No department clinician on duty",
}

ASSIGNMENT_KINDS = {"claim": "Claimed", "assign": "Assigned", "reassign": "Reassigned"}


def route_label(route: str | None, outside_service: str | None = None) -> str:
    if route == ROUTE_OUTSIDE and outside_service:
        return f"Outside services: {OUTSIDE_SERVICES.get(outside_service, outside_service)}"
    return ROUTES.get(route or "", route or "")
