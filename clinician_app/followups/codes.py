"""Coded follow-up fields and their labels (codes are stored; labels are for display)."""
from __future__ import annotations

import re

STATUS_OPEN = "open"
STATUS_DONE = "done"
STATUS_CANCELLED = "cancelled"
STATUSES = {STATUS_OPEN: "Open", STATUS_DONE: "Done", STATUS_CANCELLED: "Cancelled"}

METHODS = {"phone": "Phone", "visit": "Visit", "text": "Text message", "letter": "Letter"}

OUTCOMES = {
    "reached": "Reached the person",
    "no_answer": "No answer",
    "left_message": "Left a message",
    "declined": "Declined",
    "connected": "Connected to services",
    "unable_to_locate": "Unable to locate",
}
# An attempt with one of these outcomes reached the person: the follow-up is done.
REACHING_OUTCOMES = frozenset({"reached", "connected"})

# How a follow-up was completed, for reports.
COMPLETED_BY_ATTEMPT = "attempt"
COMPLETED_BY_CLOSE = "closed"

# Windows: "<n>h" is n real hours after the crisis; "<n>d" is n calendar days at
# the same local wall-clock time (see services.due_time).
WINDOW_PATTERN = re.compile(r"^(\d{1,3})([hd])$")
MAX_WINDOW_HOURS = 24 * 30
MAX_WINDOW_DAYS = 60
COMMON_WINDOWS = {"24h": "Within 24 hours", "72h": "Within 72 hours", "7d": "Within 7 days"}
CUSTOM_WINDOW = "custom"

TRIGGER_DISPOSITION = "disposition"
TRIGGER_RISK = "risk"
TRIGGER_KINDS = {TRIGGER_DISPOSITION: "Encounter disposition", TRIGGER_RISK: "Triage risk level (this level or higher)"}


def window_label(code: str | None) -> str:
    if not code:
        return ""
    if code in COMMON_WINDOWS:
        return COMMON_WINDOWS[code]
    if code == CUSTOM_WINDOW:
        return "Set by hand"
    match = WINDOW_PATTERN.match(code)
    if not match:
        return code
    number, unit = int(match.group(1)), match.group(2)
    noun = "hour" if unit == "h" else "day"
    return f"Within {number} {noun}{'' if number == 1 else 's'}"
