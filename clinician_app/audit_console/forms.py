"""The audit trail's filter bar: GET parameters, so a filtered view can be bookmarked."""
from wtforms import DateField, Form, SelectField, StringField
from wtforms.validators import Length, Optional

from .services import AuditFilter

BAD_DATE = "Enter a real date, like 2025-03-31."


class DayField(DateField):
    """A calendar date (``<input type="date">`` sends YYYY-MM-DD), with a plain-language error."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(BAD_DATE) from exc


class AuditFilterForm(Form):
    # Plain wtforms.Form: a GET search changes nothing, so it carries no CSRF token.
    user = StringField("User", validators=[Optional(), Length(max=80, message="Use at most 80 characters.")])
    action = SelectField("Action", validate_choice=False, validators=[Optional(), Length(max=81, message="Use at most 81 characters.")])
    record_type = StringField("Record type", validators=[Optional(), Length(max=40, message="Use at most 40 characters.")])
    record_id = StringField("Record id", validators=[Optional(), Length(max=64, message="Use at most 64 characters.")])
    date_from = DayField("From", validators=[Optional()])
    date_to = DayField("To", validators=[Optional()])

    def set_action_choices(self, actions: list[str]) -> None:
        """Whole families (``auth.*``) first, then each action seen in the trail;
        a typed-in value that is not listed is kept so the page shows what was asked."""
        families = sorted({a.split(".", 1)[0] + ".*" for a in actions if "." in a})
        choices = [("", "Any action")]
        choices += [(f, f"{f[:-2]}: every action") for f in families]
        choices += [(a, a) for a in actions]
        current = (self.action.data or "").strip()
        if current and current not in families and current not in actions:
            choices.append((current, current))
        self.action.choices = choices

    def as_filter(self) -> AuditFilter:
        return AuditFilter(
            username=self.user.data or "",
            action=self.action.data or "",
            record_type=self.record_type.data or "",
            record_id=self.record_id.data or "",
            date_from=self.date_from.data,
            date_to=self.date_to.data,
        )
