"""The coded call fields and their labels: what forms offer, pages show and reports count.

Codes are stored; labels are only for display, so a label can be reworded
without touching the data.
"""
from __future__ import annotations

CALL_TYPES = {
    "well_being_check": "Well-being check",
    "suicidal_person": "Suicidal person",
    "overdose": "Overdose",
    "disturbance": "Disturbance",
    "domestic": "Domestic",
    "trespass": "Trespass",
    "other": "Other",
}

# Behavioral health indicators. Each is a boolean column ``indicator_<code>`` on
# the call, so reports count them with a plain SUM rather than unpacking JSON.
INDICATORS = {
    "mental_health": "Mental health crisis",
    "suicidal": "Suicidal ideation or attempt",
    "substance_use": "Substance use or overdose",
    "intoxication": "Intoxication",
    "developmental_disability": "Developmental disability",
    "dementia": "Dementia",
    "juvenile": "Juvenile involved",
}

# Safety cautions: not clinical. Officers and dispatchers see them.
CAUTIONS = {
    "weapon": "Weapon",
    "violence": "Violence",
    "hazards": "Hazards",
}

CALLER_RELATIONS = {
    "self": "The person themself",
    "family": "Family member",
    "partner": "Partner or spouse",
    "friend": "Friend or neighbour",
    "bystander": "Bystander or passer-by",
    "professional": "Professional (school, clinic, business)",
    "police": "Police officer",
    "anonymous": "Anonymous or unknown",
}

# How the call reached the department: the state's diversion program asks
# whether a call came in on 911 or another way.
RECEIVED_VIA = {
    "911": "911 emergency line",
    "business_line": "Business (non-emergency) line",
    "walk_in": "Walk-in at the station",
    "officer": "Officer-initiated",
    "agency": "Another agency or service",
    "other": "Other",
}

URGENCIES = {
    "now": "Now",
    "same_day": "Same day",
    "follow_up": "Follow-up",
}

URGENCY_HINTS = {
    "now": "Co-respond on scene",
    "same_day": "Contact today",
    "follow_up": "Within 72 hours",
}

# A call's progress. ``recorded`` is a call that was not flagged for
# co-response (CAD may post those too): it never enters the triage queue.
STATUS_RECORDED = "recorded"
STATUS_FLAGGED = "flagged"
STATUS_TRIAGED = "triaged"
STATUS_ASSIGNED = "assigned"
STATUS_ON_SCENE = "on_scene"
STATUS_CLOSED = "closed"

STATUSES = {
    STATUS_FLAGGED: "Flagged for co-response",
    STATUS_TRIAGED: "Triaged",
    STATUS_ASSIGNED: "Assigned",
    STATUS_ON_SCENE: "On scene",
    STATUS_CLOSED: "Closed",
    STATUS_RECORDED: "Recorded, not flagged",
}

# Short forms for tags in tables, where the full label would wrap.
STATUS_TAGS = {
    STATUS_FLAGGED: "Flagged",
    STATUS_TRIAGED: "Triaged",
    STATUS_ASSIGNED: "Assigned",
    STATUS_ON_SCENE: "On scene",
    STATUS_CLOSED: "Closed",
    STATUS_RECORDED: "Not flagged",
}

# The time column each step sets, in workflow order.
STEP_TIMES = {
    "flagged_at": "Flagged",
    "triaged_at": "Triaged",
    "assigned_at": "Assigned",
    "on_scene_at": "On scene",
    "first_contact_at": "First contact",
    "closed_at": "Closed",
}

SOURCES = {"form": "Dispatch form", "cad": "CAD system"}


def label(codes: dict[str, str], code: str | None, missing: str = "") -> str:
    """A code's label; a code no longer offered shows as itself rather than failing."""
    if not code:
        return missing
    return codes.get(code, code)
