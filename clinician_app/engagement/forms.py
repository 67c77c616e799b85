"""Engagement forms. They parse what was typed (numbers stay text here, so a
value like "-5" or "abc" comes back as typed); the services check the values
and their messages are put next to the fields."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import Form, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional
from wtforms.validators import ValidationError as FieldError
from wtforms.widgets import CheckboxInput, ListWidget

from clinician_app.calls.forms import DayField, LocalDateTimeField

from . import codes
from .events import EventData
from .lists import EngagementFilter
from .models import (
    ADDRESS_MAX,
    DESCRIPTION_MAX,
    MATERIALS_MAX,
    NAME_MAX,
    NOTES_MAX,
    PARTNERS_MAX,
    PURPOSE_MAX,
    TITLE_MAX,
    URL_MAX,
)
from .partnerships import PartnershipData
from .places import PlaceData
from .posts import PostData
from .visits import VisitData
from .youth import ProgramData, SessionData


def _choose(choices: dict, first: str = "- Choose -") -> list[tuple[str, str]]:
    return [("", first), *choices.items()]


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _text(label: str, limit: int, area: bool = False):
    # Lengths are checked by the services (one message for the form and any other caller);
    # maxlength stops a phone keyboard running past the limit.
    cls = TextAreaField if area else StringField
    return cls(label, render_kw={"maxlength": limit})


def _number(label: str):
    return StringField(label, render_kw={"inputmode": "numeric", "maxlength": 12})


def _officer_choices(officers) -> list[tuple[str, str]]:
    return [(u.id, u.display_name) for u in officers]


def _place_choices(places, first: str) -> list[tuple[str, str]]:
    return [("", first), *((p.id, f"{p.name} ({codes.label(codes.PLACE_KINDS, p.kind)})") for p in places)]


class PlaceForm(FlaskForm):
    name = _text("Name", NAME_MAX)
    kind = SelectField("Kind of place", choices=_choose(codes.PLACE_KINDS), validate_choice=False)
    address = _text("Address", ADDRESS_MAX)

    def to_data(self) -> PlaceData:
        return PlaceData(name=self.name.data or "", kind=self.kind.data or "",
                         address=self.address.data or "")


class VisitForm(FlaskForm):
    place_id = SelectField("Place", validate_choice=False)
    address = _text("Or the address, if it is not in the list", ADDRESS_MAX)
    kind = SelectField("Kind of place (for an address)", choices=_choose(codes.PLACE_KINDS), validate_choice=False)
    started_at = LocalDateTimeField("Started", validators=[Optional()])
    duration_minutes = _number("Duration in minutes")
    officer_ids = CheckboxesField("Officers", validate_choice=False)
    purpose = _text("Purpose", PURPOSE_MAX)
    notes = _text("Short notes", NOTES_MAX, area=True)

    def __init__(self, *args, timezone: str, places, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(timezone)
        self.place_id.choices = _place_choices(places, "- Not in the list -")
        self.officer_ids.choices = _officer_choices(officers)

    def _aware(self, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=self.zone) if value else None

    def to_data(self) -> VisitData:
        return VisitData(place_id=self.place_id.data or None, address=self.address.data or "",
                         kind=self.kind.data or "", started_at=self._aware(self.started_at.data),
                         duration_minutes=(self.duration_minutes.data or "").strip(),
                         officer_ids=list(self.officer_ids.data or []), purpose=self.purpose.data or "",
                         notes=self.notes.data or "")


class EventForm(FlaskForm):
    kind = SelectField("Kind", choices=_choose(codes.EVENT_KINDS), validate_choice=False)
    title = _text("Title", TITLE_MAX)
    topic = _text("Topic", TITLE_MAX)
    held_on = DayField("Date", validators=[Optional()])
    place_id = SelectField("Place", validate_choice=False)
    partners = _text("Partners", PARTNERS_MAX)
    attendance = _number("Attendance")
    officer_ids = CheckboxesField("Officers involved", validate_choice=False)
    materials = _text("Materials", MATERIALS_MAX, area=True)

    def __init__(self, *args, places, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.place_id.choices = _place_choices(places, "- No place from the list -")
        self.officer_ids.choices = _officer_choices(officers)

    def to_data(self) -> EventData:
        return EventData(kind=self.kind.data or "", title=self.title.data or "", topic=self.topic.data or "",
                         held_on=self.held_on.data, place_id=self.place_id.data or None,
                         partners=self.partners.data or "",
                         attendance=(self.attendance.data or "").strip() or None,
                         officer_ids=list(self.officer_ids.data or []),
                         materials=self.materials.data or "")


class PartnershipForm(FlaskForm):
    kind = SelectField("Kind", choices=_choose(codes.PARTNERSHIP_KINDS), validate_choice=False)
    title = _text("Title", TITLE_MAX)
    partner_agency_ids = CheckboxesField("Partner agencies in this system", validate_choice=False)
    other_partners = _text("Other partners", PARTNERS_MAX)
    started_on = DayField("Start date", validators=[Optional()])
    ended_on = DayField("End date", validators=[Optional()])
    description = _text("Description", DESCRIPTION_MAX, area=True)
    outcomes = _text("Outcomes", DESCRIPTION_MAX, area=True)

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.partner_agency_ids.choices = [(a.id, a.name) for a in agencies]

    def to_data(self) -> PartnershipData:
        return PartnershipData(
            kind=self.kind.data or "", title=self.title.data or "",
            partner_agency_ids=list(self.partner_agency_ids.data or []), other_partners=self.other_partners.data or "",
            started_on=self.started_on.data, ended_on=self.ended_on.data,
            description=self.description.data or "", outcomes=self.outcomes.data or "")


class PostForm(FlaskForm):
    platform = SelectField("Platform", choices=_choose(codes.PLATFORMS), validate_choice=False)
    posted_on = DayField("Date posted", validators=[Optional()])
    topic = SelectField("Topic", choices=_choose(codes.POST_TOPICS), validate_choice=False)
    title = _text("What it said, in a line", TITLE_MAX)
    url = StringField("Link", render_kw={"maxlength": URL_MAX, "inputmode": "url"})
    reach = _number("Reach, if known")

    def to_data(self) -> PostData:
        return PostData(platform=self.platform.data or "", posted_on=self.posted_on.data,
                        topic=self.topic.data or "", title=self.title.data or "", url=self.url.data or "",
                        reach=(self.reach.data or "").strip() or None)


class ProgramForm(FlaskForm):
    program = SelectField("Program", choices=_choose(codes.YOUTH_PROGRAMS), validate_choice=False)
    title = _text("Title", TITLE_MAX)
    description = _text("Description", DESCRIPTION_MAX, area=True)

    def to_data(self) -> ProgramData:
        return ProgramData(program=self.program.data or "", title=self.title.data or "",
                           description=self.description.data or "")


class SessionForm(FlaskForm):
    held_on = DayField("Date", validators=[Optional()])
    activity = _text("Activity", TITLE_MAX)
    place_id = SelectField("Place", validate_choice=False)
    officer_ids = CheckboxesField("Officers involved", validate_choice=False)
    participants_8_10 = _number(f"Participants aged {codes.AGE_BANDS['8_10']}")
    participants_11_13 = _number(f"Participants aged {codes.AGE_BANDS['11_13']}")
    participants_14_17 = _number(f"Participants aged {codes.AGE_BANDS['14_17']}")

    def __init__(self, *args, places, officers, **kwargs):
        super().__init__(*args, **kwargs)
        self.place_id.choices = _place_choices(places, "- No place from the list -")
        self.officer_ids.choices = _officer_choices(officers)

    def band_fields(self):
        return [self[f"participants_{band}"] for band in codes.AGE_BANDS]

    def to_data(self) -> SessionData:
        return SessionData(
            held_on=self.held_on.data, activity=self.activity.data or "", place_id=self.place_id.data or None,
            officer_ids=list(self.officer_ids.data or []),
            counts={band: (self[f"participants_{band}"].data or "").strip() or None for band in codes.AGE_BANDS})


class FilterForm(Form):
    # Plain wtforms.Form: a GET search changes nothing, so it carries no CSRF token.
    date_from = DayField("From", validators=[Optional()])
    date_to = DayField("To", validators=[Optional()])
    kind = SelectField("Kind", validate_choice=False)
    place_id = SelectField("Place", validate_choice=False)
    officer_id = SelectField("Officer", validate_choice=False)

    def __init__(self, *args, kinds: dict, kind_label: str, places=None, officers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        self.kind.label.text = kind_label
        self.kind.choices = _choose(kinds, "Any")
        self.place_id.choices = _place_choices(places or [], "Any place")
        self.officer_id.choices = [("", "Any officer"), *_officer_choices(officers or [])]
        self.has_place = places is not None
        self.has_officer = officers is not None

    def validate_kind(self, field):
        if field.data and field.data not in self.kinds:
            raise FieldError("Choose from the list.")

    def validate_place_id(self, field):
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise FieldError("Choose a place from the list.")

    def validate_officer_id(self, field):
        if field.data and field.data not in {value for value, _ in field.choices}:
            raise FieldError("Choose an officer from the list.")

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise FieldError("The end date is before the start date.")

    def as_filter(self) -> EngagementFilter:
        """Only what passed its check: a list page ignores a value it doesn't know."""
        def ok(name):
            return self[name].data if not self[name].errors else None

        return EngagementFilter(date_from=ok("date_from"), date_to=ok("date_to"), kind=ok("kind") or "",
                                place_id=ok("place_id") or "", officer_id=ok("officer_id") or "")
