"""The CAD API's request and response schemas: they validate requests and
generate the OpenAPI document, so the two can't drift apart.

Requests refuse unknown fields (``unknown=RAISE``): a body naming
``agency_id``, ``status`` or ``role`` is a 422 that names them, never an
assignment (SECURITY.md promise 6). Responses carry a call's status and step
times only: no narrative, no indicators, nothing clinical.
"""
from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import fields, validate

from clinician_app.calls import codes
from clinician_app.calls.models import ADDRESS_MAX, CAUTION_NOTES_MAX, INCIDENT_NUMBER_MAX, NARRATIVE_MAX

# Control characters can't be stored in PostgreSQL text (NUL) and have no
# place in what dispatch types; line breaks are allowed where text is long.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
INCIDENT_NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"  # as calls.services accepts


class PlainText(fields.String):
    """A string without control characters (``multiline`` allows line breaks)."""

    def __init__(self, *args, multiline: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._pattern = _CONTROL_EXCEPT_LINES if multiline else _CONTROL

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if self._pattern.search(text):
            raise ma.ValidationError("Control characters are not allowed.")
        return text


def _choice(choices: dict[str, str], **kwargs):
    return fields.String(validate=validate.OneOf(list(choices)), **kwargs)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE
        ordered = True


class CallCreate(StrictSchema):
    """A call as CAD posts it. The agency is the API client's, never the body's."""

    incident_number = PlainText(
        required=True, validate=[validate.Length(min=1, max=INCIDENT_NUMBER_MAX), validate.Regexp(INCIDENT_NUMBER_PATTERN)],
        metadata={"description": "CAD's incident number; unique within the agency, so a retry without an "
                                 "Idempotency-Key finds the call it already created.", "example": "24-018812"})
    received_at = fields.AwareDateTime(required=True, metadata={"description": "When the call was received (RFC 3339, with offset)."})
    address = PlainText(required=True, validate=validate.Length(min=1, max=ADDRESS_MAX), metadata={"example": "12 Main St, Chelmsford"})
    latitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    longitude = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))
    call_type = _choice(codes.CALL_TYPES, required=True)
    caller_relation = _choice(codes.CALLER_RELATIONS, load_default="anonymous")
    received_via = _choice(codes.RECEIVED_VIA, load_default=None, allow_none=True,
                           metadata={"description": "How the call came in (911, business line, ...), if CAD knows."})
    indicators = fields.List(_choice(codes.INDICATORS), load_default=list, validate=validate.Length(max=len(codes.INDICATORS)),
                             metadata={"description": "Behavioral health indicators present."})
    cautions = fields.List(_choice(codes.CAUTIONS), load_default=list, validate=validate.Length(max=len(codes.CAUTIONS)),
                           metadata={"description": "Safety cautions for responders."})
    caution_notes = PlainText(load_default=None, allow_none=True, multiline=True, validate=validate.Length(max=CAUTION_NOTES_MAX))
    narrative = PlainText(load_default=None, allow_none=True, multiline=True, validate=validate.Length(max=NARRATIVE_MAX),
                          metadata={"description": "Dispatch narrative; stored encrypted and never returned by the API."})
    co_response = fields.Boolean(load_default=True, metadata={"description": "Flag the call for a clinician's co-response."})
    urgency = _choice(codes.URGENCIES, load_default=None, allow_none=True,
                      metadata={"description": "How soon a co-responder is needed; required when co_response is true."})


class IdempotencyHeader(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key", validate=[validate.Length(min=1, max=255), validate.Regexp(r"^[\x21-\x7e]+$")],
        metadata={"description": "A unique key per call (a UUID is fine). A retry with the same key and body returns "
                                 "the original reply with 200; the same key with another body is a 422; a retry "
                                 "while the first request is still being processed is a 409."})


class CallStatus(ma.Schema):
    """Where a call is in the workflow, and when each step happened."""

    class Meta:
        ordered = True

    id = fields.String(required=True, metadata={"format": "uuid"})
    incident_number = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(list(codes.STATUSES)))
    received_at = fields.AwareDateTime(required=True)
    flagged_at = fields.AwareDateTime(allow_none=True, required=True)
    triaged_at = fields.AwareDateTime(allow_none=True, required=True)
    assigned_at = fields.AwareDateTime(allow_none=True, required=True)
    on_scene_at = fields.AwareDateTime(allow_none=True, required=True)
    first_contact_at = fields.AwareDateTime(allow_none=True, required=True)
    closed_at = fields.AwareDateTime(allow_none=True, required=True)
    updated_at = fields.AwareDateTime(required=True)


class CallChangesQuery(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE
        ordered = True

    since = fields.AwareDateTime(load_default=None, metadata={
        "description": "Return calls changed after this time (RFC 3339, with offset); leave out on the first poll. "
                       "Poll again with the reply's `next_since`."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class CallList(ma.Schema):
    class Meta:
        ordered = True

    items = fields.List(fields.Nested(CallStatus), required=True)
    next_since = fields.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "Pass as `since` on the next poll; null when nothing changed."})


class Ping(ma.Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    agency = fields.String(required=True, metadata={"description": "The agency code this token acts for."})
    scopes = fields.List(fields.String(), required=True)


class ErrorBody(ma.Schema):
    class Meta:
        ordered = True

    code = fields.String(required=True, metadata={"example": "validation_error"})
    message = fields.String(required=True)
    fields_ = fields.Dict(data_key="fields", keys=fields.String(), values=fields.List(fields.String()), required=True,
                          metadata={"description": "Field name -> messages; empty when the error is not about fields."})


class Error(ma.Schema):
    """Every API error: ``{"error": {"code", "message", "fields"}}``."""

    error = fields.Nested(ErrorBody, required=True)
