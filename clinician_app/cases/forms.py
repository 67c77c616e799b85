"""The encounter form, the supervisor's closing form and the disposition admin form.
They parse and check what was typed; views turn them into plain values for the
services, which check again."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from clinician_app.calls.forms import LocalDateTimeField

from . import services
from .codes import ENCOUNTER_KINDS, POINTS_OF_INTERVENTION, YES_NO_UNKNOWN
from .models import CHARGE_MAX, CLOSE_REASON_MAX, DISPOSITION_CODE_MAX, DISPOSITION_LABEL_MAX, NOTE_MAX

CHARGE_ROWS = 3


def _length(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


class ChargeForm(Form):
    charge = StringField("Charge considered", validators=[Optional(), _length(CHARGE_MAX)])
    diverted = BooleanField("Charge diverted")


class EncounterForm(FlaskForm):
    kind = RadioField("Type of encounter", choices=list(ENCOUNTER_KINDS.items()), validate_choice=False,
                      validators=[InputRequired("Choose the type of encounter.")])
    started_at = LocalDateTimeField("Started", validators=[InputRequired("Enter when the encounter started.")])
    ended_at = LocalDateTimeField("Ended", validators=[InputRequired("Enter when the encounter ended.")])
    disposition = SelectField("Disposition", validate_choice=False,
                              validators=[InputRequired("Choose the disposition.")])
    point_of_intervention = RadioField("Point of intervention", choices=list(POINTS_OF_INTERVENTION.items()),
                                       validate_choice=False,
                                       validators=[InputRequired("Choose the point of intervention.")])
    custody_diverted = RadioField("Was criminal custody diverted?", choices=list(YES_NO_UNKNOWN.items()),
                                  default="unknown", validate_choice=False)
    jail_diversion_option = RadioField("Was jail diversion an option?", choices=list(YES_NO_UNKNOWN.items()),
                                       default="unknown", validate_choice=False)
    ed_visit_prevented = RadioField("Did the intervention prevent an emergency department visit?",
                                    choices=list(YES_NO_UNKNOWN.items()), default="unknown", validate_choice=False)
    charges = FieldList(FormField(ChargeForm), min_entries=CHARGE_ROWS, max_entries=CHARGE_ROWS)
    note = TextAreaField("Note", validators=[Optional(), _length(NOTE_MAX)])

    def __init__(self, *args, timezone: str, dispositions, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(timezone)
        self.disposition.choices = [("", "- Choose -"), *((d.code, d.label) for d in dispositions)]
        self._codes = {d.code for d in dispositions}

    def validate_disposition(self, field):
        if field.data not in self._codes:
            raise ValidationError("Choose the disposition.")

    def validate_ended_at(self, field):
        # Said here as well as in the service, so the message sits next to the field.
        if field.data and self.started_at.data and field.data < self.started_at.data:
            raise ValidationError("The end time is before the start time. Check both times.")

    def _aware(self, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=self.zone) if value else None

    def to_data(self) -> services.NewEncounter:
        return services.NewEncounter(
            kind=self.kind.data or "",
            started_at=self._aware(self.started_at.data),
            ended_at=self._aware(self.ended_at.data),
            disposition=self.disposition.data or "",
            point_of_intervention=self.point_of_intervention.data or "",
            custody_diverted=self.custody_diverted.data or "unknown",
            jail_diversion_option=self.jail_diversion_option.data or "unknown",
            ed_visit_prevented=self.ed_visit_prevented.data or "unknown",
            charges=[(entry.charge.data or "", bool(entry.diverted.data)) for entry in self.charges],
            note=self.note.data or "",
        )


class CloseCallForm(FlaskForm):
    reason = TextAreaField("Reason for closing", validators=[
        InputRequired("Give the reason for closing the call."), _length(CLOSE_REASON_MAX)])


class DispositionForm(FlaskForm):
    code = StringField("Code", validators=[InputRequired("Enter a code."), _length(DISPOSITION_CODE_MAX)])
    label = StringField("Label", validators=[InputRequired("Enter a label."), _length(DISPOSITION_LABEL_MAX)])
    counts_as_diversion = BooleanField("Counts as a diversion (from arrest or the emergency department)")
