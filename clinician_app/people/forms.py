"""Person forms. They parse and check what was typed; the views turn them into
plain values (``PersonData``) for the services, which check again."""
from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from clinician_app.core.text import has_control_characters

from . import rules
from .codes import CODED_FIELDS, CODED_LABELS, UNKNOWN
from .models import ADDRESS_MAX, ALIAS_MAX, ALIASES_MAX, MERGE_REASONS, NAME_MAX, NOTES_MAX, PHONE_MAX
from .services import MERGE_NOTE_MAX, PersonData


class DateOfBirthField(DateField):
    """A date typed as 1984-03-07 (what a date picker sends) or 03/07/1984."""

    def __init__(self, label, **kwargs):
        super().__init__(label, format=["%Y-%m-%d", "%m/%d/%Y"], **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a real date, for example 1984-03-07.") from None


def _date_in_range(form, field):
    if field.data is not None and (problem := rules.date_of_birth_problem(field.data, form.today)):
        raise ValidationError(problem)


def _no_control_characters(form, field):
    if field.data and has_control_characters(field.data, multiline=field.type == "TextAreaField"):
        raise ValidationError("Remove the control characters.")


def _phone(form, field):
    if field.data and (problem := rules.phone_problem(field.data.strip())):
        raise ValidationError(problem)


def _aliases(form, field):
    lines = [line.strip() for line in (field.data or "").splitlines() if line.strip()]
    if any(len(line) > ALIAS_MAX for line in lines):
        raise ValidationError(f"Write each other name on its own line, at most {ALIAS_MAX} characters.")
    if len(lines) > ALIASES_MAX:
        raise ValidationError(f"Record at most {ALIASES_MAX} other names.")


def _length(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


def _name_field(label: str, missing: str) -> StringField:
    return StringField(label, validators=[InputRequired(missing), _length(NAME_MAX), _no_control_characters])


class _Dated(FlaskForm):
    """Forms with a date of birth check it against today in the user's time zone."""

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today


class PersonForm(_Dated):
    first_name = _name_field("First name", "Enter a first name.")
    last_name = _name_field("Last name", "Enter a last name.")
    date_of_birth = DateOfBirthField("Date of birth", validators=[InputRequired("Enter the date of birth."), _date_in_range])
    aliases = TextAreaField("Other names (aliases)", validators=[Optional(), _aliases, _no_control_characters])
    phone = StringField("Phone", validators=[Optional(), _length(PHONE_MAX), _phone])
    address = TextAreaField("Address", validators=[Optional(), _length(ADDRESS_MAX), _no_control_characters])
    identifying_notes = TextAreaField("Identifying notes", validators=[Optional(), _length(NOTES_MAX), _no_control_characters])
    sex = SelectField(CODED_LABELS["sex"], choices=list(CODED_FIELDS["sex"].items()), default=UNKNOWN)
    race = SelectField(CODED_LABELS["race"], choices=list(CODED_FIELDS["race"].items()), default=UNKNOWN)
    ethnicity = SelectField(CODED_LABELS["ethnicity"], choices=list(CODED_FIELDS["ethnicity"].items()), default=UNKNOWN)
    veteran_status = SelectField(CODED_LABELS["veteran_status"], choices=list(CODED_FIELDS["veteran_status"].items()), default=UNKNOWN)
    housing_status = SelectField(CODED_LABELS["housing_status"], choices=list(CODED_FIELDS["housing_status"].items()), default=UNKNOWN)

    def to_data(self) -> PersonData:
        return PersonData(
            first_name=self.first_name.data or "", last_name=self.last_name.data or "",
            date_of_birth=self.date_of_birth.data,
            aliases=[line for line in (self.aliases.data or "").splitlines() if line.strip()],
            phone=self.phone.data or "", address=self.address.data or "",
            identifying_notes=self.identifying_notes.data or "",
            **{name: getattr(self, name).data for name in CODED_FIELDS})

    @classmethod
    def from_data(cls, data: PersonData, today: date) -> PersonForm:
        values = {**data.__dict__, "aliases": "\n".join(data.aliases)}
        return cls(formdata=None, today=today, **values)


class NewPersonForm(PersonForm):
    confirm_new = BooleanField("None of these records is this person: add a new record")


class LookupForm(_Dated):
    first_name = _name_field("First name", "Enter the first name.")
    last_name = _name_field("Last name", "Enter the last name.")
    date_of_birth = DateOfBirthField("Date of birth", validators=[InputRequired("Enter the date of birth."), _date_in_range])


class MergeFindForm(_Dated):
    """Find the duplicate by exact name and date of birth, or by its record id."""

    first_name = StringField("First name", validators=[Optional(), _length(NAME_MAX), _no_control_characters])
    last_name = StringField("Last name", validators=[Optional(), _length(NAME_MAX), _no_control_characters])
    date_of_birth = DateOfBirthField("Date of birth", validators=[Optional(), _date_in_range])
    record_id = StringField("Record ID", validators=[Optional(), Regexp(
        r"\s*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\s*\Z",
        message="Enter the record ID as shown on the record's page, like 0b6e5a0c-7d1e-4f6a-9c1e-2f0a7d9b3c4e.")])

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        by_name = [self.first_name.data, self.last_name.data, self.date_of_birth.data]
        if (self.record_id.data or "").strip() or all(by_name):
            return True
        message = "Enter the first name, last name and date of birth, or a record ID."
        for f in (self.first_name, self.last_name, self.date_of_birth):
            if not f.data:
                f.errors = [*f.errors, message]
        return False


class MergeForm(FlaskForm):
    reason = SelectField("Why are these the same person?", choices=[("", "- Choose -"), *MERGE_REASONS.items()],
                         validators=[InputRequired("Choose why these records are the same person.")])
    note = TextAreaField("Note", validators=[Optional(), _length(MERGE_NOTE_MAX), _no_control_characters])
