"""The dispatch form and the call list's filter bar. They parse and check what
was typed; the views turn them into plain values (``NewCall``, ``CallFilter``)
for the services, which check again."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    Form,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from clinician_app.core.text import CONTROL_CHARACTERS, has_control_characters

from . import services
from .codes import CALL_TYPES, CALLER_RELATIONS, INDICATORS, RECEIVED_VIA, STATUSES, URGENCIES
from .models import ADDRESS_MAX, CAUTION_NOTES_MAX, INCIDENT_NUMBER_MAX, NARRATIVE_MAX

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
BAD_DATE = "Enter a real date, like 2025-03-31."


def _length(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


def _one_of(codes: dict, message: str):
    def check(form, field):
        if field.data not in codes:
            raise ValidationError(message)
    return check


def _no_control_characters(form, field):
    if field.data and has_control_characters(field.data, multiline=field.type == "TextAreaField"):
        raise ValidationError(CONTROL_CHARACTERS)


def _incident_number(form, field):
    if problem := services.incident_number_problem(services.normalise_incident_number(field.data)):
        raise ValidationError(problem)


class LocalDateTimeField(DateTimeLocalField):
    """``<input type="datetime-local">``: a wall-clock time in the agency's zone."""

    def __init__(self, label, **kwargs):
        super().__init__(label, format=LOCAL_FORMATS, **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter a date and time, like 2025-03-31 14:05.") from None


class CallForm(FlaskForm):
    incident_number = StringField("Incident number", validators=[
        InputRequired("Enter the incident number."), _length(INCIDENT_NUMBER_MAX), _incident_number])
    received_at = LocalDateTimeField("Received", validators=[
        InputRequired("Enter the date and time the call was received.")])
    address = StringField("Address or location", validators=[
        InputRequired("Enter the address or location."), _length(ADDRESS_MAX), _no_control_characters])
    latitude = StringField("Latitude", validators=[Optional(), _length(20)])
    longitude = StringField("Longitude", validators=[Optional(), _length(20)])
    call_type = SelectField("Call type", choices=[("", "- Choose -"), *CALL_TYPES.items()], validate_choice=False,
                            validators=[InputRequired("Choose the call type."), _one_of(CALL_TYPES, "Choose the call type.")])
    caller_relation = SelectField(
        "Caller", choices=[("", "- Choose -"), *CALLER_RELATIONS.items()], validate_choice=False,
        validators=[InputRequired("Choose who called."), _one_of(CALLER_RELATIONS, "Choose who called.")])
    received_via = SelectField(
        "Came in by", choices=list(RECEIVED_VIA.items()), default="911", validate_choice=False,
        validators=[InputRequired("Choose how the call came in."), _one_of(RECEIVED_VIA, "Choose how the call came in.")])
    co_response = BooleanField("Request co-response", default=True)
    urgency = RadioField("Urgency", choices=list(URGENCIES.items()), validate_choice=False)
    indicators = SelectMultipleField("Behavioral health indicators", choices=list(INDICATORS.items()), validate_choice=False)
    caution_weapon = BooleanField("Weapon")
    caution_violence = BooleanField("Violence")
    caution_hazards = BooleanField("Hazards")
    caution_notes = TextAreaField("Caution notes", validators=[Optional(), _length(CAUTION_NOTES_MAX), _no_control_characters])
    narrative = TextAreaField("Narrative", validators=[Optional(), _length(NARRATIVE_MAX), _no_control_characters])

    def __init__(self, *args, timezone: str, now: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(timezone)
        self.now = now

    def validate_received_at(self, field):
        if field.data is None:
            return
        received = self.received_at_aware()
        if received > self.now + services.FUTURE_TOLERANCE:
            raise ValidationError("The received time can't be in the future.")
        if received < services.EARLIEST_RECEIVED:
            raise ValidationError("Enter a received time after the year 2000.")

    def validate_urgency(self, field):
        if self.co_response.data and field.data not in URGENCIES:
            raise ValidationError("Choose how soon the co-responder is needed.")

    def validate_indicators(self, field):
        if any(code not in INDICATORS for code in field.data or []):
            raise ValidationError("Choose indicators from the list.")

    def received_at_aware(self) -> datetime | None:
        if self.received_at.data is None:
            return None
        # fold=0: in the repeated hour when clocks go back, the first (daylight) time.
        return self.received_at.data.replace(tzinfo=self.zone)

    def to_data(self) -> services.NewCall:
        return services.NewCall(
            incident_number=self.incident_number.data or "",
            received_at=self.received_at_aware(),
            address=self.address.data or "",
            latitude=self.latitude.data or None,
            longitude=self.longitude.data or None,
            call_type=self.call_type.data or "",
            caller_relation=self.caller_relation.data or "",
            received_via=self.received_via.data or None,
            indicators=list(self.indicators.data or []),
            caution_weapon=bool(self.caution_weapon.data),
            caution_violence=bool(self.caution_violence.data),
            caution_hazards=bool(self.caution_hazards.data),
            caution_notes=self.caution_notes.data or "",
            narrative=self.narrative.data or "",
            co_response=bool(self.co_response.data),
            urgency=self.urgency.data if self.co_response.data else None,
        )


class DayField(DateField):
    """A calendar date (``<input type="date">`` sends YYYY-MM-DD), with a plain-language error."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(BAD_DATE) from exc


class CallFilterForm(Form):
    # Plain wtforms.Form: a GET search changes nothing, so it carries no CSRF token.
    status = SelectField("Status", choices=[("", "Any status"), *STATUSES.items()], validate_choice=False)
    call_type = SelectField("Call type", choices=[("", "Any type"), *CALL_TYPES.items()], validate_choice=False)
    date_from = DayField("Received from", validators=[Optional()])
    date_to = DayField("Received to", validators=[Optional()])

    def validate_status(self, field):
        if field.data and field.data not in STATUSES:
            raise ValidationError("Choose a status from the list.")

    def validate_call_type(self, field):
        if field.data and field.data not in CALL_TYPES:
            raise ValidationError("Choose a call type from the list.")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def as_filter(self) -> services.CallFilter:
        """Only what passed its check: a list page ignores a value it doesn't know."""
        def ok(name):
            return self[name].data if not self[name].errors else None

        return services.CallFilter(status=ok("status") or "", call_type=ok("call_type") or "",
                                   date_from=ok("date_from"), date_to=ok("date_to"))

    def active_args(self) -> dict:
        values = {"status": self.status.data, "call_type": self.call_type.data,
                  "date_from": self.date_from.data.isoformat() if self.date_from.data else None,
                  "date_to": self.date_to.data.isoformat() if self.date_to.data else None}
        return {k: v for k, v in values.items() if v and not self[k].errors}
