"""Coded referral, consent and disclosure fields and their labels (codes are stored;
labels are for display), and the 42 CFR 2.32 notice shipped with the package."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

# --- the service directory -------------------------------------------------------------

SERVICE_KINDS = {
    "cmhc": "Community mental health centre",
    "cbhc": "Community behavioral health center",
    "detox": "Detox / withdrawal management",
    "outpatient": "Outpatient treatment",
    "recovery_coach": "Recovery coach / peer support",
    "housing": "Housing and shelter",
    "elder": "Elder services",
    "crisis_line": "Crisis line (988 and others)",
    "mobile_crisis": "Mobile crisis intervention",
    "other": "Other service",
}
# Services that treat: a consent naming "treating providers" covers them.
TREATMENT_KINDS = frozenset({"cmhc", "cbhc", "detox", "outpatient", "recovery_coach", "mobile_crisis"})

# --- what is shared ---------------------------------------------------------------------

CATEGORY_IDENTITY = "identity"
CATEGORY_MENTAL_HEALTH = "mental_health"
CATEGORY_SAFETY = "safety"
CATEGORY_SUBSTANCE_USE = "substance_use"
CATEGORIES = {
    CATEGORY_IDENTITY: "Name, date of birth and contact details",
    CATEGORY_MENTAL_HEALTH: "Mental health information: reason for referral, risk level, current concerns",
    CATEGORY_SAFETY: "Safety cautions",
    CATEGORY_SUBSTANCE_USE: "Substance use information (42 CFR Part 2)",
}

# --- recipients -------------------------------------------------------------------------

RECIPIENT_AGENCY = "agency"
RECIPIENT_SERVICE = "service"
RECIPIENT_CLASS = "class"
RECIPIENT_KINDS = {
    RECIPIENT_AGENCY: "A named partner agency (a town or the regional BHU)",
    RECIPIENT_SERVICE: "A named service in the directory",
    RECIPIENT_CLASS: "A class of recipients",
}
CLASS_PARTNER_AGENCIES = "partner_agencies"
CLASS_TREATING_PROVIDERS = "treating_providers"
RECIPIENT_CLASSES = {
    CLASS_PARTNER_AGENCIES: "The co-response program's partner agencies (partner towns' clinicians and the regional BHU)",
    CLASS_TREATING_PROVIDERS: "Treating providers in the regional service directory (mental health, detox, "
                              "outpatient, recovery coaching, mobile crisis)",
}

# --- consent ----------------------------------------------------------------------------

SIGNED_METHODS = {
    "written": "Written, signed by hand",
    "electronic": "Written, signed electronically",
    "verbal_witnessed": "Verbal, with a witness",
}
SIGNERS = {"person": "The person", "representative": "A legal representative or guardian"}
REVOKERS = {"person": "The person", "representative": "A legal representative or guardian"}

# --- legal basis ------------------------------------------------------------------------

BASIS_CONSENT = "consent"
BASIS_EMERGENCY = "medical_emergency"
BASIS_TREATMENT = "treatment"
BASIS_SERIOUS_THREAT = "serious_threat"
BASES = {
    BASIS_CONSENT: "The person's consent",
    BASIS_EMERGENCY: "Medical emergency (42 CFR 2.51; 45 CFR 164.510(b)(3))",
    BASIS_TREATMENT: "Treatment by another provider, without substance-use information (45 CFR 164.506)",
    BASIS_SERIOUS_THREAT: "To prevent a serious and imminent threat, without substance-use information (45 CFR 164.512(j))",
}
# The bases that may carry substance-use (Part 2) information.
PART2_BASES = frozenset({BASIS_CONSENT, BASIS_EMERGENCY})

# --- referrals --------------------------------------------------------------------------

KIND_AGENCY = "agency"
KIND_SERVICE = "service"
REFERRAL_KINDS = {KIND_AGENCY: "Transfer to another agency", KIND_SERVICE: "Referral to a service"}

PENDING = "pending"
ACCEPTED = "accepted"
DECLINED = "declined"
HELD = "held"
AGENCY_STATUSES = {PENDING: "Awaiting a decision", ACCEPTED: "Accepted", DECLINED: "Declined",
                   HELD: "On hold: consent no longer in effect"}

SENT = "sent"
SCHEDULED = "scheduled"
ATTENDED = "attended"
SERVICE_DECLINED = "declined"
NO_SHOW = "no_show"
SERVICE_STATUSES = {SENT: "Sent", SCHEDULED: "Scheduled", ATTENDED: "Attended", SERVICE_DECLINED: "Declined",
                    NO_SHOW: "Did not attend"}

HOLD_REVOKED = "consent_revoked"
HOLD_EXPIRED = "consent_expired"
HOLD_REASONS = {
    HOLD_REVOKED: "The consent this referral relied on was revoked, so nothing more is shared under it.",
    HOLD_EXPIRED: "The consent this referral relied on has expired, so nothing more is shared under it.",
}

REQUESTED_ACTIONS = {
    "take_over": "Take over care (transfer the case)",
    "assess": "Assess and advise",
    "outreach": "Outreach visit or call",
    "co_respond": "Co-respond with the town's officers",
    "consult": "Consultation only",
}
CAUTIONS = {"weapon": "Weapon", "violence": "Violence", "hazards": "Hazards"}


def status_label(kind: str, status: str) -> str:
    table = AGENCY_STATUSES if kind == KIND_AGENCY else SERVICE_STATUSES
    return table.get(status, status)


def split_codes(value: str | None) -> list[str]:
    return [c for c in (value or "").split(",") if c]


def join_codes(codes, allowed: dict) -> str:
    """Known codes only, in the table's order, comma-separated."""
    chosen = set(codes or ())
    return ",".join(c for c in allowed if c in chosen)


# --- the 42 CFR 2.32 notice --------------------------------------------------------------

NOTICE_FILE = Path(__file__).with_name("PART2-NOTICE.txt")
_STATEMENT = re.compile(r"^Statement (\d)[^\n]*:\n(.+?)(?=\n\s*\nStatement |\Z)", re.S | re.M)


@cache
def notice_file_text() -> str:
    """The design's notice file, as shipped in this package."""
    return NOTICE_FILE.read_text(encoding="utf-8")


@cache
def part2_notice() -> str:
    """Statement 1 of the notice, verbatim: what accompanies every Part 2 disclosure."""
    statements = {m.group(1): m.group(2).strip() for m in _STATEMENT.finditer(notice_file_text())}
    return statements["1"]


@cache
def part2_notice_short() -> str:
    statements = {m.group(1): m.group(2).strip() for m in _STATEMENT.finditer(notice_file_text())}
    return statements["2"]
