"""The CAD API (``/api/v1``): CAD posts calls and polls their status.

Every endpoint takes an API client token (``Authorization: Bearer ...``, from
the admin console) and acts for that client's agency only. Replies carry a
call's status and step times, never its narrative or anything clinical.
"""
from __future__ import annotations

from http import HTTPStatus

from flask import jsonify, request
from flask_smorest import Blueprint
from werkzeug.exceptions import HTTPException

from clinician_app.calls import services as calls
from clinician_app.calls.services import NewCall

from . import idempotency
from .auth import api_token_required, current_client
from .errors import api_http_error
from .schemas import CallChangesQuery, CallCreate, CallList, CallStatus, IdempotencyHeader, Ping

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Calls posted and polled by CAD systems.")
bp.register_error_handler(HTTPException, api_http_error)


def errors(*statuses: int):
    """Document the error replies an operation may give (all in the Error shape)."""
    def decorate(view):
        for status in statuses:
            view = bp.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorate


@bp.route("/ping", methods=["GET"])
@api_token_required()
@errors(401, 429)
@bp.response(200, Ping)
def ping():
    """Check a token

    Answers 200 for any usable token, naming its agency and scopes: the cheapest
    way for a CAD integration to test its credentials.
    """
    client = current_client()
    return {"status": "ok", "agency": client.agency.code, "scopes": client.scope_list}


# Argument schemas go in as instances: given a class, webargs would build one
# (copying every field) on each request.
@bp.route("/calls", methods=["POST"])
@api_token_required("calls:create")
@errors(400, 401, 403, 409, 429)
@bp.arguments(IdempotencyHeader(), location="headers", as_kwargs=True)
@bp.arguments(CallCreate())
@bp.response(201, CallStatus, description="The call was created.")
@bp.alt_response(200, schema=CallStatus, description="A retry: the call this key (or incident number) created before.")
def create_call(body, idempotency_key=None):
    """Post a call

    Creates a call in the token's agency; flagged for co-response unless
    `co_response` is false. Retries are safe: send an `Idempotency-Key`, or rely
    on the incident number, which is unique within the agency.
    """
    data = NewCall(
        incident_number=body["incident_number"],
        received_at=body["received_at"],
        address=body["address"],
        latitude=body["latitude"],
        longitude=body["longitude"],
        call_type=body["call_type"],
        caller_relation=body["caller_relation"],
        received_via=body["received_via"],
        indicators=list(body["indicators"]),
        caution_weapon="weapon" in body["cautions"],
        caution_violence="violence" in body["cautions"],
        caution_hazards="hazards" in body["cautions"],
        caution_notes=body["caution_notes"] or "",
        narrative=body["narrative"] or "",
        co_response=body["co_response"],
        urgency=body["urgency"],
    )
    reply = idempotency.ingest_call(current_client(), data, idempotency_key,
                                    idempotency.request_fingerprint(request.get_json()))
    # Already dumped with CallStatus (it is what a replay will return).
    response = jsonify(reply.body)
    if reply.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, reply.status


@bp.route("/calls/<uuid:call_id>", methods=["GET"])
@api_token_required("calls:read")
@errors(401, 403, 404, 429)
@bp.response(200, CallStatus)
def get_call(call_id):
    """A call's status

    The call's status and the time of each step. Another agency's call is a 404.
    """
    return calls.get_call(current_client(), str(call_id))


@bp.route("/calls", methods=["GET"])
@api_token_required("calls:read")
@errors(401, 403, 429)
@bp.arguments(CallChangesQuery(), location="query", as_kwargs=True)
@bp.response(200, CallList)
def list_calls(since=None, limit=100):
    """Calls changed since

    The agency's calls whose status or details changed after `since`, oldest
    change first. Poll with the reply's `next_since` to get the next changes.
    """
    client = current_client()
    items = page_of_changes(client.agency_id, since, limit)
    return {"items": items, "next_since": items[-1].updated_at if items else since}


def page_of_changes(agency_id: str, since, limit: int) -> list:
    """At most ``limit`` changes, never cut between calls changed at the same
    instant: the next poll asks for changes strictly after the last one here,
    so a cut there would skip the rest of that instant."""
    rows = calls.status_changes_since(agency_id, since, limit + 1)
    if len(rows) <= limit:
        return rows
    boundary = rows[limit].updated_at
    kept = [row for row in rows[:limit] if row.updated_at != boundary]
    return kept or rows[:limit]
