"""The Columbia suicide severity rating scale, screen version (C-SSRS screener):
its six questions and the standard triage of the answers.

Pure functions, no database or Flask: the triage service and the tests call
``screen_risk`` directly.

Triage (Columbia's screener triage colours):
* Q4 or Q5 yes, or Q6 yes within the past 3 months: high.
* Q3 yes, or Q6 yes more than 3 months ago: moderate.
* Q1 or Q2 yes (and nothing above): low.
* Every answer no: a negative screen.
If Q2 is no, Q3-5 are skipped: whatever was sent for them is ignored.
"""
from __future__ import annotations

from dataclasses import dataclass

QUESTIONS = {
    "q1": "In the past month, have you wished you were dead or wished you could go to sleep and not wake up?",
    "q2": "In the past month, have you actually had any thoughts of killing yourself?",
    "q3": "Have you been thinking about how you might do this?",
    "q4": "Have you had these thoughts and had some intention of acting on them?",
    "q5": ("Have you started to work out or worked out the details of how to kill yourself? "
           "Do you intend to carry out this plan?"),
    "q6": ("Have you ever done anything, started to do anything, or prepared to do anything "
           "to end your life?"),
    "q6_recent": "Was this within the past 3 months?",
}
SKIPPED_WHEN_Q2_NO = ("q3", "q4", "q5")

NEGATIVE = "negative"
NOT_SCREENED = "not_screened"
SCREEN_RESULTS = {
    NOT_SCREENED: "Screen not done",
    NEGATIVE: "Negative screen",
    "low": "Low risk",
    "moderate": "Moderate risk",
    "high": "High risk",
}


@dataclass(frozen=True)
class ScreenAnswers:
    """Yes (True), no (False) or not answered (None) for each question."""

    q1: bool | None = None
    q2: bool | None = None
    q3: bool | None = None
    q4: bool | None = None
    q5: bool | None = None
    q6: bool | None = None
    q6_recent: bool | None = None

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in QUESTIONS}

    @property
    def is_blank(self) -> bool:
        return all(v is None for v in self.as_dict().values())


def asked(answers: ScreenAnswers) -> ScreenAnswers:
    """The answers with skipped questions cleared: Q3-5 when Q2 is no, Q6's
    "when" when Q6 is no."""
    skip_3_to_5 = answers.q2 is not True
    return ScreenAnswers(
        q1=answers.q1, q2=answers.q2,
        q3=None if skip_3_to_5 else answers.q3,
        q4=None if skip_3_to_5 else answers.q4,
        q5=None if skip_3_to_5 else answers.q5,
        q6=answers.q6,
        q6_recent=answers.q6_recent if answers.q6 is True else None,
    )


def missing_answers(answers: ScreenAnswers) -> list[str]:
    """The questions that must be answered, given the answers so far, and are not."""
    answers = asked(answers)
    required = ["q1", "q2", "q6"]
    if answers.q2 is True:
        required += ["q3", "q4", "q5"]
    if answers.q6 is True:
        required.append("q6_recent")
    return [name for name in required if getattr(answers, name) is None]


def screen_risk(answers: ScreenAnswers) -> str:
    """The screen's risk: ``high``, ``moderate``, ``low`` or ``negative``
    (``not_screened`` when no question was answered). Assumes a complete screen
    (see ``missing_answers``); unanswered questions count as no."""
    if answers.is_blank:
        return NOT_SCREENED
    a = asked(answers)
    if a.q4 or a.q5 or (a.q6 and a.q6_recent):
        return "high"
    if a.q3 or (a.q6 and not a.q6_recent):
        return "moderate"
    if a.q1 or a.q2:
        return "low"
    return NEGATIVE


def default_risk_level(result: str) -> str:
    """The clinician's risk level starts at the screen's; a negative or absent
    screen starts at low, the lowest level there is."""
    return result if result in ("low", "moderate", "high") else "low"
