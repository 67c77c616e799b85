"""Admin console forms. They check shape only; the services hold the rules,
and the views hand them plain values, never a form."""
from functools import lru_cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from clinician_app.agencies.models import AGENCY_KINDS
from clinician_app.auth.models import API_SCOPES
from clinician_app.auth.services import USER_STATUSES
from clinician_app.core.policy import ROLE_LABELS, Role

ROLE_CHOICES = [(role.value, ROLE_LABELS[role]) for role in Role]

# The zones US departments use, offered first; every other IANA zone follows.
US_TIMEZONES = [
    ("America/New_York", "Eastern (America/New_York)"),
    ("America/Chicago", "Central (America/Chicago)"),
    ("America/Denver", "Mountain (America/Denver)"),
    ("America/Phoenix", "Arizona (America/Phoenix)"),
    ("America/Los_Angeles", "Pacific (America/Los_Angeles)"),
    ("America/Anchorage", "Alaska (America/Anchorage)"),
    ("Pacific/Honolulu", "Hawaii (Pacific/Honolulu)"),
    ("America/Puerto_Rico", "Atlantic (America/Puerto_Rico)"),
]


@lru_cache(maxsize=1)
def _other_timezones() -> tuple[str, ...]:
    curated = {zone for zone, _ in US_TIMEZONES}
    return tuple(sorted(available_timezones() - curated))


def timezone_choices() -> dict[str, list[tuple[str, str]]]:
    return {"United States": list(US_TIMEZONES), "Other time zones": [(z, z) for z in _other_timezones()]}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def at_least_one(message: str):
    """Like DataRequired, but without the "required" flag, which would render
    every single checkbox as required."""

    def check(form, field):
        if not field.data:
            raise StopValidation(message)

    return check


EMAIL_VALIDATORS = [Optional(), Length(max=254), Email("Enter an email address like name@town.gov.")]


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField("Name or username", validators=[Optional(), Length(max=80)])
    role = SelectField("Role", choices=[("", "Any role"), *ROLE_CHOICES], validators=[Optional()])
    status = SelectField("Status", choices=[("", "Any status"), *USER_STATUSES.items()], validators=[Optional()])


class NewUserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Enter a username."), Length(max=80)])
    display_name = StringField("Name", validators=[DataRequired("Enter the person's name as colleagues know it."),
                                                   Length(max=120)])
    email = StringField("Email", validators=EMAIL_VALIDATORS)
    agency_id = SelectField("Agency", validators=[DataRequired("Choose an agency.")])
    roles = MultiCheckboxField("Roles", choices=ROLE_CHOICES, validators=[at_least_one("Choose at least one role.")])


class RolesForm(FlaskForm):
    roles = MultiCheckboxField("Roles", choices=ROLE_CHOICES, validators=[at_least_one("Choose at least one role.")])


class ProfileForm(FlaskForm):
    display_name = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=120)])
    email = StringField("Email", validators=EMAIL_VALIDATORS)


class DisableForm(FlaskForm):
    reason = TextAreaField("Reason for disabling", validators=[DataRequired("Give a reason for disabling the account."),
                                                               Length(max=200)])


class AgencyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the agency's name."), Length(max=120)])
    code = StringField("Code", validators=[DataRequired("Enter a short code of letters and digits (up to 12)."),
                                           Length(max=12)])
    timezone = SelectField("Time zone", choices=timezone_choices,
                           validators=[DataRequired("Choose a time zone from the list.")])


    target_now_minutes = IntegerField("Target for 'now' calls (minutes)", default=15,
                                      validators=[Optional(), NumberRange(1, 1440, "Choose between 1 and 1440 minutes.")])
    target_same_day_minutes = IntegerField("Target for 'same day' calls (minutes)", default=480,
                                           validators=[Optional(), NumberRange(1, 2880, "Choose between 1 and 2880 minutes.")])
    target_follow_up_minutes = IntegerField("Target for 'follow-up' calls (minutes)", default=4320,
                                            validators=[Optional(), NumberRange(1, 43200, "Choose between 1 and 43200 minutes.")])
    repeat_contact_calls = IntegerField("Repeat contact: number of calls", default=3,
                                        validators=[Optional(), NumberRange(2, 50, "Choose between 2 and 50 calls.")])
    repeat_contact_days = IntegerField("Repeat contact: within days", default=90,
                                       validators=[Optional(), NumberRange(7, 365, "Choose between 7 and 365 days.")])


class NewAgencyForm(AgencyForm):
    kind = SelectField("Kind", choices=list(AGENCY_KINDS.items()), default="town")


class ApiClientForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the system that will use this key (e.g. 'CAD production')."),
                                           Length(max=120)])
    scopes = MultiCheckboxField("Permitted actions", choices=list(API_SCOPES.items()),
                                validators=[at_least_one("Choose at least one permitted action.")])
    expires_in_days = IntegerField("Expires after (days)", default=365,
                                   validators=[InputRequired("Enter a number of days."),
                                               NumberRange(1, 730, "Choose between 1 and 730 days.")])
