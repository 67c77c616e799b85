"""Forms of the case pages: linking a call to a person, opening, joining,
closing and reassigning a case, the case list's filters, and the response plan.
They parse what was typed; the views hand plain values to the services, which
check again."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from clinician_app.people.forms import LookupForm

from .codes import CASE_OUTCOMES
from .models import RESPONSE_FIELD_MAX
from .response_plans import FIELD_LABELS, PlanData


class LinkSearchForm(LookupForm):
    """The exact-match lookup (first name, last name, date of birth) on a call."""


class LinkChoiceForm(FlaskForm):
    person_id = HiddenField("Person", validators=[InputRequired("Choose a person.")])


class OpenCaseForm(FlaskForm):
    person_id = HiddenField("Person", validators=[InputRequired("Choose a person.")])
    call_id = HiddenField("Call", validators=[Optional()])
    assignee_id = SelectField("Assigned clinician", validators=[InputRequired("Choose a clinician.")], choices=[])

    def __init__(self, *args, clinicians=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = [(u.id, u.display_name) for u in clinicians]


class JoinCaseForm(FlaskForm):
    case_id = HiddenField("Case", validators=[InputRequired("Choose an open case.")])


class CloseCaseForm(FlaskForm):
    outcome = SelectField("Outcome", choices=[("", "- Choose -"), *CASE_OUTCOMES.items()],
                          validators=[InputRequired("Choose how the episode of care ended.")])


class ReassignCaseForm(FlaskForm):
    assignee_id = SelectField("New clinician", validators=[InputRequired("Choose a clinician.")], choices=[])

    def __init__(self, *args, clinicians=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = [("", "- Choose -"), *[(u.id, u.display_name) for u in clinicians]]


class CaseFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    scope = SelectField("Show", choices=[("mine", "My cases"), ("open", "My agency's open cases")], default="mine")
    clinician_id = SelectField("Clinician", choices=[("", "Anyone")], default="", validators=[Optional()])
    status = SelectField("Status", choices=[("", "Open and closed"), ("open", "Open"), ("closed", "Closed")],
                         default="", validators=[Optional()])

    def __init__(self, *args, supervisor=False, clinicians=(), **kwargs):
        super().__init__(*args, **kwargs)
        if supervisor:
            self.scope.choices = [*self.scope.choices, ("all", "All of my agency's cases")]
            self.clinician_id.choices = [("", "Anyone"), *[(u.id, u.display_name) for u in clinicians]]
        else:
            del self.clinician_id

    def active_args(self) -> dict:
        return {name: self[name].data for name in ("scope", "clinician_id", "status") if name in self and self[name].data}


def _plan_field(name: str) -> TextAreaField:
    return TextAreaField(FIELD_LABELS[name], validators=[Optional(), Length(
        max=RESPONSE_FIELD_MAX, message=f"Use at most {RESPONSE_FIELD_MAX} characters.")])


class ResponsePlanForm(FlaskForm):
    """Only the four non-clinical fields: there is deliberately no free note."""

    approach = _plan_field("approach")
    de_escalation = _plan_field("de_escalation")
    contacts = _plan_field("contacts")
    officer_safety = _plan_field("officer_safety")

    def to_data(self) -> PlanData:
        return PlanData(**{name: self[name].data or "" for name in FIELD_LABELS})
