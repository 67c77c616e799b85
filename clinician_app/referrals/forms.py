"""Referral, consent, directory and disclosure forms. They parse what was typed;
views turn them into plain values for the services, which check again (and the
page keeps what was typed on an error)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from clinician_app.admin.forms import MultiCheckboxField
from clinician_app.calls.forms import LocalDateTimeField

from . import codes
from .consents import NewConsent
from .directory import ServiceData
from .disclosures import NewEmergencyDisclosure
from .models import (
    AFFILIATION_MAX,
    CAUTION_NOTES_MAX,
    DECLINE_REASON_MAX,
    DESCRIPTION_MAX,
    EMERGENCY_NATURE_MAX,
    EXPIRY_EVENT_MAX,
    NAME_MAX,
    PURPOSE_MAX,
    REASON_MAX,
    SERVICE_ADDRESS_MAX,
    SERVICE_DESCRIPTION_MAX,
    SERVICE_HOURS_MAX,
    SERVICE_NAME_MAX,
    SERVICE_PHONE_MAX,
    SERVICE_WEBSITE_MAX,
    SUMMARY_MAX,
)
from .services import NewAgencyReferral, NewServiceReferral

BAD_DATE = "Enter a real date, like 2025-03-31."


def _length(limit: int) -> Length:
    return Length(max=limit, message=f"Use at most {limit} characters.")


class _DateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(BAD_DATE) from None


def _choices(table: dict, blank: str | None = "- Choose -"):
    return ([("", blank)] if blank else []) + list(table.items())


# --- the directory ---------------------------------------------------------------------

class DirectorySearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField("Search", validators=[Optional(), _length(100)])
    kind = SelectField("Kind of service", choices=_choices(codes.SERVICE_KINDS, "Any kind"), validate_choice=False)
    town = SelectField("Serves the town", validate_choice=False)

    def __init__(self, *args, towns, **kwargs):
        super().__init__(*args, **kwargs)
        self.town.choices = [("", "Any town"), *((t.id, t.name) for t in towns)]


class ServiceForm(FlaskForm):
    name = StringField("Name", validators=[InputRequired("Name the service."), _length(SERVICE_NAME_MAX)])
    kind = SelectField("Kind of service", choices=_choices(codes.SERVICE_KINDS), validate_choice=False,
                       validators=[InputRequired("Choose the kind of service.")])
    description = TextAreaField("What it offers", validators=[Optional(), _length(SERVICE_DESCRIPTION_MAX)])
    phone = StringField("Phone", validators=[Optional(), _length(SERVICE_PHONE_MAX)])
    address = StringField("Address", validators=[Optional(), _length(SERVICE_ADDRESS_MAX)])
    website = StringField("Web address", validators=[Optional(), _length(SERVICE_WEBSITE_MAX)])
    hours = StringField("Hours", validators=[Optional(), _length(SERVICE_HOURS_MAX)])
    serves_all_towns = BooleanField("Serves every partner town")
    town_ids = MultiCheckboxField("Towns served", validate_choice=False)
    active = BooleanField("Listed (untick to retire it; referrals already made keep it)", default=True)

    def __init__(self, *args, towns, **kwargs):
        super().__init__(*args, **kwargs)
        self.town_ids.choices = [(t.id, t.name) for t in towns]

    def to_data(self) -> ServiceData:
        return ServiceData(name=self.name.data or "", kind=self.kind.data or "", description=self.description.data or "",
                           phone=self.phone.data or "", address=self.address.data or "",
                           website=self.website.data or "", hours=self.hours.data or "",
                           serves_all_towns=bool(self.serves_all_towns.data), town_ids=list(self.town_ids.data or []),
                           active=bool(self.active.data))


# --- consents --------------------------------------------------------------------------

class ConsentForm(FlaskForm):
    recipient_kind = RadioField("To whom", choices=list(codes.RECIPIENT_KINDS.items()), validate_choice=False,
                                validators=[InputRequired("Say to whom the information may be disclosed.")])
    recipient_agency_id = SelectField("Agency", validate_choice=False)
    recipient_service_id = SelectField("Service", validate_choice=False)
    recipient_class = SelectField("Class of recipients", choices=_choices(codes.RECIPIENT_CLASSES),
                                  validate_choice=False)
    categories = MultiCheckboxField("What information", choices=list(codes.CATEGORIES.items()), validate_choice=False)
    purpose = StringField("Purpose", validators=[InputRequired("State the purpose of the disclosure."),
                                                 _length(PURPOSE_MAX)])
    expires_on = _DateField("Expires on", validators=[Optional()])
    expiry_event = StringField("Or ends when", validators=[Optional(), _length(EXPIRY_EVENT_MAX)])
    signed_on = _DateField("Signed or given on", validators=[InputRequired("Enter the date the consent was given.")])
    signed_method = RadioField("How it was given", choices=list(codes.SIGNED_METHODS.items()), validate_choice=False,
                               validators=[InputRequired("Choose how the consent was given.")])
    signed_by = RadioField("Given by", choices=list(codes.SIGNERS.items()), default="person", validate_choice=False,
                           validators=[InputRequired("Choose who gave the consent.")])
    representative_name = StringField("Representative's name", validators=[Optional(), _length(NAME_MAX)])
    witness_name = StringField("Witness's name (verbal consent)", validators=[Optional(), _length(NAME_MAX)])

    def __init__(self, *args, agencies, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.recipient_agency_id.choices = [("", "- Choose -"), *((a.id, a.name) for a in agencies)]
        self.recipient_service_id.choices = [("", "- Choose -"), *((s.id, s.name) for s in services)]

    def to_data(self) -> NewConsent:
        return NewConsent(recipient_kind=self.recipient_kind.data or "",
                          recipient_agency_id=self.recipient_agency_id.data or None,
                          recipient_service_id=self.recipient_service_id.data or None,
                          recipient_class=self.recipient_class.data or None,
                          categories=list(self.categories.data or []), purpose=self.purpose.data or "",
                          expires_on=self.expires_on.data, expiry_event=self.expiry_event.data or "",
                          signed_on=self.signed_on.data, signed_method=self.signed_method.data or "",
                          signed_by=self.signed_by.data or "", representative_name=self.representative_name.data or "",
                          witness_name=self.witness_name.data or "")


class RevokeForm(FlaskForm):
    revoked_on = _DateField("Revoked on", validators=[InputRequired("Enter the date the consent was revoked.")])
    revoked_by = RadioField("Revoked by", choices=list(codes.REVOKERS.items()), default="person",
                            validate_choice=False, validators=[InputRequired("Choose who revoked the consent.")])


class ExpiryEventForm(FlaskForm):
    happened_on = _DateField("The event happened on", validators=[InputRequired("Enter the date the event happened.")])


# --- referrals -------------------------------------------------------------------------

class _SharingForm(FlaskForm):
    basis = RadioField("Relies on", choices=list(codes.BASES.items()), validate_choice=False)
    consent_id = SelectField("Consent", validate_choice=False)
    emergency_nature = TextAreaField("Nature of the medical emergency",
                                     validators=[Optional(), _length(EMERGENCY_NATURE_MAX)])
    emergency_recipient = StringField("Who receives it (medical personnel)", validators=[Optional(), _length(NAME_MAX)])

    def __init__(self, *args, consents, **kwargs):
        super().__init__(*args, **kwargs)
        self.consent_id.choices = [("", "- Choose -"), *consents]

    def _sharing(self) -> dict:
        return {"basis": self.basis.data or "", "consent_id": self.consent_id.data or None,
                "emergency_nature": self.emergency_nature.data or "",
                "emergency_recipient": self.emergency_recipient.data or ""}


class AgencyReferralForm(_SharingForm):
    to_agency_id = SelectField("Refer to", validate_choice=False, validators=[InputRequired("Choose the agency.")])
    reason = TextAreaField("Reason for the referral", validators=[InputRequired("Give the reason for the referral."),
                                                                 _length(REASON_MAX)])
    risk_level = RadioField("Current risk level", validate_choice=False,
                            validators=[InputRequired("Choose the current risk level.")])
    cautions = MultiCheckboxField("Safety cautions", choices=list(codes.CAUTIONS.items()), validate_choice=False)
    caution_notes = TextAreaField("Caution notes", validators=[Optional(), _length(CAUTION_NOTES_MAX)])
    requested_action = RadioField("What you ask them to do", choices=list(codes.REQUESTED_ACTIONS.items()),
                                  validate_choice=False, validators=[InputRequired("Choose what you ask for.")])
    summary_text = TextAreaField("Short summary", validators=[Optional(), _length(SUMMARY_MAX)])
    includes_part2 = BooleanField("The summary includes substance-use information (42 CFR Part 2)")

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        from clinician_app.triage.codes import RISK_LEVELS

        self.to_agency_id.choices = [("", "- Choose -"), *((a.id, a.name) for a in agencies)]
        self.risk_level.choices = list(RISK_LEVELS.items())

    def to_data(self) -> NewAgencyReferral:
        return NewAgencyReferral(to_agency_id=self.to_agency_id.data or "", reason=self.reason.data or "",
                                 risk_level=self.risk_level.data or "", cautions=list(self.cautions.data or []),
                                 caution_notes=self.caution_notes.data or "",
                                 requested_action=self.requested_action.data or "",
                                 summary_text=self.summary_text.data or "",
                                 includes_part2=bool(self.includes_part2.data), **self._sharing())


class ServiceReferralForm(_SharingForm):
    service_id = SelectField("Service", validate_choice=False, validators=[InputRequired("Choose a service.")])
    reason = TextAreaField("Reason for the referral", validators=[InputRequired("Give the reason for the referral."),
                                                                 _length(REASON_MAX)])
    shares_information = BooleanField("I share information about the person with the service "
                                      "(a call, a form or a warm hand-off)")
    categories = MultiCheckboxField("What you share", choices=list(codes.CATEGORIES.items()), validate_choice=False)

    def __init__(self, *args, services, **kwargs):
        super().__init__(*args, **kwargs)
        self.service_id.choices = [("", "- Choose -"), *((s.id, f"{s.name} ({s.kind_label})") for s in services)]

    def to_data(self) -> NewServiceReferral:
        categories = list(self.categories.data or [])
        return NewServiceReferral(service_id=self.service_id.data or "", reason=self.reason.data or "",
                                  shares_information=bool(self.shares_information.data), categories=categories,
                                  includes_part2=codes.CATEGORY_SUBSTANCE_USE in categories, **self._sharing())


class ServiceStatusForm(FlaskForm):
    status = SelectField("Status", choices=list(codes.SERVICE_STATUSES.items()), validate_choice=False,
                         validators=[InputRequired("Choose the status.")])


class AcceptForm(FlaskForm):
    assignee_id = SelectField("Assign the case to", validate_choice=False)

    def __init__(self, *args, clinicians, **kwargs):
        super().__init__(*args, **kwargs)
        self.assignee_id.choices = [("", "Leave for a supervisor to assign"),
                                    *((u.id, u.display_name) for u in clinicians)]


class DeclineForm(FlaskForm):
    reason = TextAreaField("Reason for declining", validators=[
        InputRequired("Give the reason: the sending agency reads it to plan what to do next."),
        _length(DECLINE_REASON_MAX)])


class EmergencyDisclosureForm(FlaskForm):
    recipient_name = StringField("Who received it", validators=[
        InputRequired("Name the medical personnel who received the information."), _length(NAME_MAX)])
    recipient_affiliation = StringField("Their affiliation", validators=[
        InputRequired("Give their affiliation."), _length(AFFILIATION_MAX)])
    disclosed_at = LocalDateTimeField("When", validators=[InputRequired("Enter when the information was disclosed.")])
    emergency_nature = TextAreaField("Nature of the medical emergency", validators=[
        InputRequired("Describe the nature of the medical emergency."), _length(EMERGENCY_NATURE_MAX)])
    categories = MultiCheckboxField("Kinds of information disclosed", choices=list(codes.CATEGORIES.items()),
                                    validate_choice=False)
    description = TextAreaField("What was disclosed", validators=[
        InputRequired("Say briefly what was disclosed."), _length(DESCRIPTION_MAX)])

    def __init__(self, *args, timezone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = ZoneInfo(timezone)

    def to_data(self) -> NewEmergencyDisclosure:
        when: datetime | None = self.disclosed_at.data
        return NewEmergencyDisclosure(
            recipient_name=self.recipient_name.data or "", recipient_affiliation=self.recipient_affiliation.data or "",
            disclosed_at=when.replace(tzinfo=self.zone) if when else None,
            emergency_nature=self.emergency_nature.data or "", categories=list(self.categories.data or []),
            description=self.description.data or "")


class AccountingLookupForm(FlaskForm):
    """Posted, never in a URL: names and dates of birth stay out of logs and history."""

    first_name = StringField("First name", validators=[InputRequired("Enter the first name."), _length(80)])
    last_name = StringField("Last name", validators=[InputRequired("Enter the last name."), _length(80)])
    date_of_birth = _DateField("Date of birth", validators=[InputRequired("Enter the date of birth.")])
