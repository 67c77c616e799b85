"""The C-SSRS screener's triage logic: every branch, table-driven."""
from __future__ import annotations

import pytest

from clinician_app.triage.screener import (
    ScreenAnswers,
    asked,
    default_risk_level,
    missing_answers,
    screen_risk,
)

Y, N = True, False

# (description, answers, expected screen result)
RISK_TABLE = [
    ("nothing answered", {}, "not_screened"),
    ("every answer no", dict(q1=N, q2=N, q6=N), "negative"),
    ("Q1 yes only", dict(q1=Y, q2=N, q6=N), "low"),
    ("Q2 yes, Q3-5 no", dict(q1=N, q2=Y, q3=N, q4=N, q5=N, q6=N), "low"),
    ("Q1 and Q2 yes, Q3-5 no", dict(q1=Y, q2=Y, q3=N, q4=N, q5=N, q6=N), "low"),
    ("Q3 yes: method", dict(q1=Y, q2=Y, q3=Y, q4=N, q5=N, q6=N), "moderate"),
    ("Q4 yes: intent", dict(q1=Y, q2=Y, q3=N, q4=Y, q5=N, q6=N), "high"),
    ("Q5 yes: intent with plan", dict(q1=Y, q2=Y, q3=Y, q4=N, q5=Y, q6=N), "high"),
    ("Q6 yes, more than 3 months ago", dict(q1=N, q2=N, q6=Y, q6_recent=N), "moderate"),
    ("Q6 yes, within 3 months", dict(q1=N, q2=N, q6=Y, q6_recent=Y), "high"),
    ("Q3 yes and Q6 within 3 months: the higher wins", dict(q1=Y, q2=Y, q3=Y, q4=N, q5=N, q6=Y, q6_recent=Y), "high"),
    ("Q1 yes and Q6 long ago", dict(q1=Y, q2=N, q6=Y, q6_recent=N), "moderate"),
    ("Q2 no: Q3-5 are skipped even if sent", dict(q1=Y, q2=N, q3=Y, q4=Y, q5=Y, q6=N), "low"),
    ("Q2 no, Q1 no: skipped Q4 can't raise a negative screen", dict(q1=N, q2=N, q4=Y, q6=N), "negative"),
    ("Q6 no: its 'when' is ignored", dict(q1=N, q2=N, q6=N, q6_recent=Y), "negative"),
]


@pytest.mark.parametrize(("answers", "expected"), [(a, e) for _, a, e in RISK_TABLE],
                         ids=[d for d, _, _ in RISK_TABLE])
def test_screen_risk(answers, expected):
    assert screen_risk(ScreenAnswers(**answers)) == expected


MISSING_TABLE = [
    ("blank screen: the three always-asked", {}, ["q1", "q2", "q6"]),
    ("Q2 no: Q3-5 not required", dict(q1=N, q2=N, q6=N), []),
    ("Q2 yes: Q3-5 required", dict(q1=N, q2=Y, q6=N), ["q3", "q4", "q5"]),
    ("Q6 yes: its 'when' required", dict(q1=N, q2=N, q6=Y), ["q6_recent"]),
    ("complete positive screen", dict(q1=Y, q2=Y, q3=N, q4=N, q5=Y, q6=Y, q6_recent=N), []),
]


@pytest.mark.parametrize(("answers", "expected"), [(a, e) for _, a, e in MISSING_TABLE],
                         ids=[d for d, _, _ in MISSING_TABLE])
def test_missing_answers(answers, expected):
    assert missing_answers(ScreenAnswers(**answers)) == expected


def test_asked_clears_skipped_questions():
    cleared = asked(ScreenAnswers(q1=Y, q2=N, q3=Y, q4=Y, q5=Y, q6=N, q6_recent=Y))
    assert cleared.as_dict() == {"q1": Y, "q2": N, "q3": None, "q4": None, "q5": None, "q6": N, "q6_recent": None}


@pytest.mark.parametrize(("result", "level"), [
    ("not_screened", "low"), ("negative", "low"), ("low", "low"), ("moderate", "moderate"), ("high", "high"),
])
def test_default_risk_level_follows_the_screen(result, level):
    assert default_risk_level(result) == level
