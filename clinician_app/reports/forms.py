"""The report's choices: which town (or all of the BHU's) and which months.
A GET form: the choice is in the URL, so a report can be bookmarked and shared."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Optional, Regexp

MONTH = Regexp(r"^\d{4}-\d{2}$", message="Enter a month as YYYY-MM, for example 2025-03.")


class ReportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    scope = SelectField("Town", validate_choice=False)
    start = StringField("First month", validators=[Optional(), MONTH])
    end = StringField("Last month", validators=[Optional(), MONTH])

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope.choices = choices
