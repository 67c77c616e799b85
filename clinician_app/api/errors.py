"""The API's HTTP errors in the project's one JSON shape.

Domain errors (NotFound, Conflict, ...) already become
``{"error": {"code", "message", "fields"}}`` in ``core/web.py``. This module
does the same for what webargs and Flask-Limiter raise inside API views:
a body that is not JSON (400), fields that fail the schema (422, with the
field names), and the per-client rate limit (429).
"""
from __future__ import annotations

from werkzeug.exceptions import HTTPException

from clinician_app.core.web import ERROR_TITLES, json_error

MESSAGES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "A valid API token is required."),
    403: ("forbidden", "This API token is not allowed to do this."),
    404: ("not_found", "There is no such resource, or this API token has no access to it."),
    405: ("method_not_allowed", "That method is not allowed here."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the body as application/json."),
    422: ("validation_error", "Some fields are not valid; see 'fields'."),
    429: ("rate_limited", "Too many requests from this API client. Slow down and retry after the Retry-After delay."),
}


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dicts -> {"field" or "field.0": ["message", ...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for name, value in messages.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            if isinstance(value, dict):
                flat.update(flatten_messages(value, key))
            elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
                flat[key] = list(value)
            else:
                flat[key] = [str(value)]
    elif messages:
        flat[prefix or "_schema"] = [str(m) for m in (messages if isinstance(messages, list | tuple) else [messages])]
    return flat


def _webargs_fields(exc: HTTPException) -> dict[str, list[str]]:
    """webargs nests messages under the request location ("json", "query",
    "headers"); clients know their field names, not our locations."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    fields: dict[str, list[str]] = {}
    for location_messages in messages.values():
        fields.update(flatten_messages(location_messages))
    return fields


def api_http_error(exc: HTTPException):
    status = exc.code or 500
    code, message = MESSAGES.get(status, (exc.name.lower().replace(" ", "_"), ERROR_TITLES.get(status, (exc.name,))[0]))
    fields = _webargs_fields(exc)
    if status == 400 and fields:
        # webargs' only 400 is a body that does not parse as JSON.
        code, message, fields = "malformed_json", "The request body is not valid JSON.", {}
    response = json_error(status, code, message, fields)
    headers = (getattr(exc, "data", None) or {}).get("headers") or {}
    response.headers.update(headers)
    return response  # a 429's Retry-After is added by Flask-Limiter (RATELIMIT_HEADERS_ENABLED)
