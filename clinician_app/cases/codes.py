"""Coded encounter fields and their labels (codes are stored; labels are for display).

Dispositions are not here: they are rows in ``dispositions`` an admin extends.
"""
from __future__ import annotations

ENCOUNTER_KINDS = {
    "on_scene": "Co-response on scene",
    "phone": "Phone",
    "outreach": "Post-incident outreach",
}

# Sequential Intercept Model points, as a diversion program reports them.
POINTS_OF_INTERVENTION = {
    "non_criminal": "Non-criminal",
    "pre_arrest": "Pre-arrest",
    "post_arrest": "Post-arrest",
    "reentry": "Re-entry",
}

# Tri-state answers: "unknown" is stored as NULL.
YES_NO_UNKNOWN = {"yes": "Yes", "no": "No", "unknown": "Not known"}

# The dispositions migration 0006 seeds: (code, label, counts as a diversion).
SEED_DISPOSITIONS = [
    ("resolved_on_scene", "Resolved / de-escalated on scene", True),
    ("voluntary_ed", "Voluntary transport to emergency department", False),
    ("section_12", "Involuntary evaluation (Section 12)", False),
    ("section_35", "Substance-use commitment petition (Section 35)", False),
    ("cbhc_evaluation", "Mobile crisis / Community Behavioral Health Center evaluation", True),
    ("crisis_stabilisation", "Crisis stabilisation (CBAT/CCS)", True),
    ("detox", "Detox", True),
    ("outpatient_connection", "New outpatient connection", True),
    ("arrest_diverted", "Arrest diverted", True),
    ("arrest", "Arrest", False),
    ("referred", "Referred to services", True),
    ("refused", "Refused services", False),
]


def yes_no(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def from_yes_no(code: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(code or "")


def label(codes: dict[str, str], code: str | None, missing: str = "") -> str:
    if not code:
        return missing
    return codes.get(code, code)


# --- cases (episodes of care) --------------------------------------------------------

CASE_OPEN = "open"
CASE_CLOSED = "closed"
CASE_STATUSES = {CASE_OPEN: "Open", CASE_CLOSED: "Closed"}

# How an episode of care ended: codes reports count; no narrative.
CASE_OUTCOMES = {
    "stabilised": "Stabilised, no further need",
    "connected": "Connected to ongoing services",
    "transferred": "Transferred to another agency",
    "declined": "Declined further contact",
    "unable_to_reach": "Unable to reach",
    "moved_away": "Moved out of the area",
    "deceased": "Deceased",
    "other": "Other",
}

# Response plans: written by a clinician, approved (or returned) by a supervisor;
# approving a new plan supersedes the person's previous one.
PLAN_PENDING = "pending"
PLAN_APPROVED = "approved"
PLAN_RETURNED = "returned"
PLAN_SUPERSEDED = "superseded"
PLAN_STATUSES = {PLAN_PENDING: "Awaiting approval", PLAN_APPROVED: "Approved",
                 PLAN_RETURNED: "Returned for changes", PLAN_SUPERSEDED: "Superseded"}
