"""Follow-up forms. They parse what was typed; views turn them into plain values
for the services, which check again (and keep what was typed on an error)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from clinician_app.calls.forms import LocalDateTimeField

from .codes import COMMON_WINDOWS, CUSTOM_WINDOW, METHODS, OUTCOMES, TRIGGER_KINDS
from .models import ATTEMPT_NOTE_MAX, PURPOSE_MAX, REASON_MAX, TEMPLATE_NAME_MAX, TEMPLATE_WINDOWS_MAX
from .services import NewAttempt, NewFollowup, NewTemplate


def _length(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


class _Zoned(FlaskForm):
    def __init__(self, *args, timezone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(timezone)

    def _aware(self, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=self.zone) if value else None


class FollowupForm(_Zoned):
    window = RadioField("Due", choices=[*COMMON_WINDOWS.items(), (CUSTOM_WINDOW, "At a time I choose")],
                        default="72h", validate_choice=False, validators=[InputRequired("Choose when it is due.")])
    due_at = LocalDateTimeField("Due at (for a time you choose)", validators=[Optional()])
    assignee_id = SelectField("Assigned to", validate_choice=False)
    purpose = StringField("Purpose", validators=[InputRequired("Say what the follow-up is for."), _length(PURPOSE_MAX)])

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = [(u.id, u.display_name) for u in clinicians]

    def to_data(self) -> NewFollowup:
        return NewFollowup(window=self.window.data or "", due_at=self._aware(self.due_at.data),
                           assignee_id=self.assignee_id.data or None, purpose=self.purpose.data or "")


class AttemptForm(_Zoned):
    attempted_at = LocalDateTimeField("When", validators=[InputRequired("Enter when you tried to reach the person.")])
    method = RadioField("How", choices=list(METHODS.items()), validate_choice=False,
                        validators=[InputRequired("Choose how you tried to reach the person.")])
    outcome = RadioField("Outcome", choices=list(OUTCOMES.items()), validate_choice=False,
                         validators=[InputRequired("Choose the outcome.")])
    note = TextAreaField("Short note", validators=[Optional(), _length(ATTEMPT_NOTE_MAX)])

    def to_data(self) -> NewAttempt:
        return NewAttempt(attempted_at=self._aware(self.attempted_at.data), method=self.method.data or "",
                          outcome=self.outcome.data or "", note=self.note.data or "")


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[InputRequired("Give the reason."), _length(REASON_MAX)])


class ReassignForm(FlaskForm):
    assignee_id = SelectField("Assign to", validate_choice=False, validators=[InputRequired("Choose a clinician.")])

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = [("", "- Choose -"), *((u.id, u.display_name) for u in clinicians)]


class TemplateForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Name the template."), _length(TEMPLATE_NAME_MAX)])
    trigger_kind = SelectField("Set off by", choices=[("", "- Choose -"), *TRIGGER_KINDS.items()],
                               validate_choice=False, validators=[InputRequired("Choose what sets it off.")])
    trigger_code = SelectField("Disposition or risk level", validate_choice=False,
                               validators=[InputRequired("Choose a disposition or a risk level.")])
    windows = StringField("Windows", validators=[InputRequired("Give at least one window, like 24h."),
                                                 _length(TEMPLATE_WINDOWS_MAX)])
    purpose = StringField("Purpose", validators=[InputRequired("Say what the follow-ups are for."),
                                                 _length(PURPOSE_MAX)])

    def __init__(self, *args, dispositions, risk_levels, **kwargs):
        super().__init__(*args, **kwargs)
        self.trigger_code.choices = [("", "- Choose -"),
                                     *((d.code, f"Disposition: {d.label}") for d in dispositions),
                                     *((code, f"Risk: {label} or higher") for code, label in risk_levels.items())]

    def to_data(self) -> NewTemplate:
        return NewTemplate(name=self.name.data or "", trigger_kind=self.trigger_kind.data or "",
                           trigger_code=self.trigger_code.data or "", windows=self.windows.data or "",
                           purpose=self.purpose.data or "")
