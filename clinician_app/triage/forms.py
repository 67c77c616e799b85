"""Triage, assignment and routing-rule forms. They parse what was typed; the
views turn them into plain values for the services, which check again."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField

from .codes import ACUITIES, ON_DUTY_CONDITIONS, OUTSIDE_SERVICES, RISK_LEVELS, ROUTES
from .models import ASSIGN_REASON_MAX, OBSERVATIONS_MAX, OVERRIDE_REASON_MAX, RULE_DESCRIPTION_MAX
from .screener import QUESTIONS, ScreenAnswers
from .services import TriageInput

YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _answer(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


class TriageForm(FlaskForm):
    q1 = RadioField("Question 1", choices=YES_NO, validate_choice=False)
    q2 = RadioField("Question 2", choices=YES_NO, validate_choice=False)
    q3 = RadioField("Question 3", choices=YES_NO, validate_choice=False)
    q4 = RadioField("Question 4", choices=YES_NO, validate_choice=False)
    q5 = RadioField("Question 5", choices=YES_NO, validate_choice=False)
    q6 = RadioField("Question 6", choices=YES_NO, validate_choice=False)
    q6_recent = RadioField("Question 6: within the past 3 months", choices=YES_NO, validate_choice=False)
    observations = TextAreaField("Observations")
    risk_level = RadioField("Risk level", choices=list(RISK_LEVELS.items()), validate_choice=False)
    acuity = RadioField("Acuity", choices=list(ACUITIES.items()), validate_choice=False)
    route = RadioField("Route", choices=list(ROUTES.items()), validate_choice=False)
    outside_service = SelectField("Outside service", choices=[("", "- Choose -"), *OUTSIDE_SERVICES.items()],
                                  validate_choice=False)
    override_reason = TextAreaField("Reason for choosing another route")

    question_names = tuple(QUESTIONS)
    questions = QUESTIONS
    observations_max = OBSERVATIONS_MAX
    override_reason_max = OVERRIDE_REASON_MAX

    def to_data(self) -> TriageInput:
        return TriageInput(
            answers=ScreenAnswers(**{name: _yes_no(self[name].data) for name in QUESTIONS}),
            observations=self.observations.data or "",
            risk_level=self.risk_level.data or None,
            acuity=self.acuity.data or None,
            route=self.route.data or None,
            outside_service=self.outside_service.data or None,
            override_reason=self.override_reason.data or "",
        )

    def fill_from(self, triage, answers: dict | None, observations: str | None) -> None:
        """Start a second triage from the current one."""
        for name in QUESTIONS:
            self[name].data = _answer((answers or {}).get(name))
        self.observations.data = observations or ""
        self.risk_level.data = triage.risk_level
        self.acuity.data = triage.acuity
        self.route.data = triage.route
        self.outside_service.data = triage.outside_service or ""


class AssignForm(FlaskForm):
    assignee_id = SelectField("Clinician", choices=[], validate_choice=False)
    reason = TextAreaField("Reason")
    reason_max = ASSIGN_REASON_MAX


class RuleForm(FlaskForm):
    priority = StringField("Priority", description="Lower numbers are tried first; the first matching rule wins.")
    acuities = SelectMultipleField("Acuity is one of", choices=list(ACUITIES.items()), validate_choice=False)
    on_duty = SelectField("Department clinician", choices=list(ON_DUTY_CONDITIONS.items()), validate_choice=False)
    route = SelectField("Suggest the route", choices=[("", "- Choose -"), *ROUTES.items()], validate_choice=False)
    outside_service = SelectField("Outside service", choices=[("", "- None -"), *OUTSIDE_SERVICES.items()],
                                  validate_choice=False)
    description = TextAreaField("Why this rule")
    description_max = RULE_DESCRIPTION_MAX

    def to_data(self) -> dict:
        return {"priority": (self.priority.data or "").strip(), "acuities": list(self.acuities.data or []),
                "on_duty": self.on_duty.data, "route": self.route.data or None,
                "outside_service": self.outside_service.data or None, "description": self.description.data or ""}
