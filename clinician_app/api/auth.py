"""Bearer-token authentication for the CAD API (SECURITY.md promise 6).

An API endpoint is declared with ``@api_token_required(scope)``: the decorator
marks the view for the endpoint walk (``required_permission``, granted to no
role, and ``token_authenticated``, which tells ``core/web.py`` that a browser
session opens nothing here) and, on each request, resolves the token to an
``ApiClient`` in ``g.api_client``, refuses a missing scope, and applies the
per-client rate limit.
"""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import current_app, g, request
from flask_smorest import Blueprint

from clinician_app.auth.models import ApiClient
from clinician_app.auth.services import authenticate_api_token
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import as_utc, utcnow
from clinician_app.core.web import json_error
from clinician_app.extensions import db, limiter

SCOPE_PERMISSIONS = {
    "calls:create": Permission.API_CALLS_CREATE,
    "calls:read": Permission.API_CALLS_READ,
    None: Permission.API_PING,
}
REALM = 'Bearer realm="clinician_app"'
# "Last used" in the admin console is kept to this precision: one write per
# client per interval, not one per request.
LAST_USED_PRECISION = timedelta(minutes=5)


def bearer_token() -> str | None:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def current_client() -> ApiClient:
    return g.api_client


def _client_key() -> str:
    return f"api-client:{g.api_client.id}"


def _api_rate_limit() -> str:
    return current_app.config["API_RATELIMIT"]


def _note_use(client: ApiClient) -> None:
    now = utcnow()
    if client.last_used_at is None or as_utc(client.last_used_at) < now - LAST_USED_PRECISION:
        client.last_used_at = now
        db.session.commit()


def _unauthenticated():
    # One reply for a missing, unknown, revoked or expired token: which one it
    # was is nobody's business but the admin console's.
    response = json_error(401, "unauthorized", "A valid API token is required: send 'Authorization: Bearer <token>'.")
    response.headers["WWW-Authenticate"] = REALM if bearer_token() is None else f'{REALM}, error="invalid_token"'
    return response


def _insufficient_scope(scope: str):
    response = json_error(403, "insufficient_scope", f"This API token is not allowed to do this; it needs the '{scope}' scope.")
    response.headers["WWW-Authenticate"] = f'{REALM}, error="insufficient_scope", scope="{scope}"'
    return response


def api_token_required(scope: str | None = None):
    """Declare an API endpoint: a usable token, holding ``scope`` if given."""
    permission = SCOPE_PERMISSIONS[scope]

    def decorate(view):
        @wraps(view)
        def scoped(*args, **kwargs):
            if scope is not None and scope not in current_client().scope_list:
                return _insufficient_scope(scope)
            return view(*args, **kwargs)

        # Counted once the client is known, refused requests included.
        limited = limiter.limit(_api_rate_limit, key_func=_client_key)(scoped)

        @wraps(view)
        def guarded(*args, **kwargs):
            client = authenticate_api_token(bearer_token())
            if client is None:
                return _unauthenticated()
            g.api_client = client
            g.api_client_id = client.id
            _note_use(client)
            return limited(*args, **kwargs)

        # The OpenAPI document names the scope each operation needs.
        guarded = Blueprint.doc(**{"x-required-scope": scope or "any"})(guarded)
        guarded.required_permission = permission
        guarded.token_authenticated = True
        guarded.api_scope = scope
        return guarded

    return decorate
