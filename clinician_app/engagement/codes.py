"""Coded engagement fields and their labels (codes are stored; labels are for display)."""
from __future__ import annotations

PLACE_KINDS = {
    "school": "School",
    "daycare": "Daycare",
    "business": "Business",
    "neighbourhood": "Neighbourhood",
    "park": "Park",
    "other": "Other place",
}

EVENT_KINDS = {"event": "Community event", "seminar": "Informational seminar"}

PARTNERSHIP_KINDS = {
    "regional_response": "Regional response strategy",
    "solving_crimes": "Solving crimes",
    "outreach": "Outreach program",
}

PLATFORMS = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "x": "X (Twitter)",
    "nextdoor": "Nextdoor",
    "website": "Department website",
    "newsletter": "Newsletter",
    "print": "Print or flyer",
    "other": "Other",
}

POST_TOPICS = {
    "crime_trend": "Current crime trend",
    "prevention": "Prevention tip",
    "general_safety": "General safety",
}

YOUTH_PROGRAMS = {"pal": "Police Athletic League", "academy": "Youth Police Academy"}

# Participant counts are kept per age band, never per child: code -> label. Each
# band is a column ``participants_<code>`` on youth sessions.
AGE_BANDS = {"8_10": "8-10", "11_13": "11-13", "14_17": "14-17"}

# The kinds of record, for the section index, the exports and the audit trail.
RECORD_KINDS = {
    "visits": "Community visits",
    "events": "Events and seminars",
    "partnerships": "Regional partnerships",
    "posts": "Awareness posts",
    "youth": "Youth programs",
}


def label(codes: dict, code: str | None) -> str:
    return codes.get(code or "", code or "")
