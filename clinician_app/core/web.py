"""Request plumbing shared by every blueprint: permission enforcement, security
headers, and turning errors into pages or JSON in one place."""
from __future__ import annotations

import logging
import time
import traceback
import uuid

from flask import (
    Flask,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from .errors import DomainError
from .logging import user_id_of
from .policy import endpoint_declaration

log = logging.getLogger("clinician_app.request")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

ERROR_TITLES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    401: ("Sign-in needed", "Sign in to continue."),
    403: ("Not permitted", "Your role does not allow this. If you need it, ask your supervisor or administrator."),
    404: ("Not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "That action is not available here."),
    409: ("Conflict", "Someone else changed this first. Reload and try again."),
    422: ("Check what you entered", "Some of what was sent is not valid."),
    429: ("Too many requests", "Too many attempts in a short time. Wait a minute and try again."),
    500: ("Something went wrong",
          "The error has been logged without anything you entered. Try again, and tell your administrator if it keeps happening."),
    503: ("Service unavailable", "A service the app depends on is not reachable. Try again shortly."),
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, code: str, message: str, fields: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    response.status_code = status
    return response


def error_page(status: int, message: str | None = None):
    title, default = ERROR_TITLES.get(status, ERROR_TITLES[500])
    return render_template("errors/error.html", status=status, title=title, message=message or default), status


def enforce_endpoint_permission():
    """Deny by default: an endpoint with no declared permission is refused."""
    g.request_id = uuid.uuid4().hex[:16]
    g.started = time.perf_counter()
    if request.endpoint is None:
        return None  # 404/405 handled by the router
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint)
    declared = endpoint_declaration(view, request.endpoint)
    if declared == "public":
        return None
    if declared is None:
        log.error("endpoint without a declared permission refused", extra={"endpoint": request.endpoint})
        return (json_error(403, "forbidden", "Forbidden") if wants_json() else error_page(403))
    if getattr(view, "token_authenticated", False):
        # The API's own decorator (api/auth.py) checks the Bearer token and its
        # scope; a browser session opens nothing there.
        return None
    if not current_user.is_authenticated:
        if wants_json():
            return json_error(401, "unauthorized", "Authentication required.")
        return redirect(url_for("auth.login", next=request.path if request.method == "GET" else None,
                                ended=g.get("session_end_reason")))
    if current_user.must_change_password and request.endpoint not in {"auth.change_password", "auth.logout"}:
        return redirect(url_for("auth.change_password"))
    if declared not in current_user.permissions:
        return json_error(403, "forbidden", "Your role does not allow this.") if wants_json() else error_page(403)
    return None


def security_headers(response):
    from flask import current_app

    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    if not request.path.startswith("/static/"):
        # Authenticated pages may hold PHI; nothing but static assets is cached.
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    if current_app.config.get("HSTS"):
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return response


def log_request(response):
    started = g.get("started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    user = current_user._get_current_object() if current_user else None
    log.info(
        "request",
        extra={
            "request_id": g.get("request_id"),
            "method": request.method,
            "endpoint": request.endpoint,
            "path": request.path,  # paths carry opaque ids only; query strings are never logged
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user_id": user_id_of(user),  # no query, though the commit expired the user
            "api_client_id": g.get("api_client_id"),
        },
    )
    return response


def register_error_handlers(app: Flask) -> None:
    from clinician_app.extensions import db

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if wants_json():
            return json_error(exc.status, exc.code, exc.message, exc.fields)
        return error_page(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if wants_json():
            message = ERROR_TITLES.get(status, (exc.name, ""))[0]
            if status == 400 and "CSRF" in (exc.description or ""):
                message = "The form expired or was not sent from this site. Reload and try again."
            return json_error(status, exc.name.lower().replace(" ", "_"), message)
        message = None
        if status == 400 and "CSRF" in (exc.description or ""):
            message = "The form expired or was not sent from this site. Go back, reload the page and try again."
        return error_page(status, message)

    from limits.errors import StorageError
    from redis.exceptions import RedisError

    @app.errorhandler(StorageError)
    @app.errorhandler(RedisError)
    def dependency_down(exc: Exception):
        # What depends on Redis fails closed: no request goes unthrottled.
        db.session.rollback()
        log.error("dependency unavailable", extra={"request_id": g.get("request_id"), "error_type": type(exc).__name__})
        if wants_json():
            return json_error(503, "service_unavailable", "A required service is unavailable. Try again shortly.")
        return error_page(503)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # The message of an unexpected exception might quote data: log only its type.
        db.session.rollback()
        log.error("unhandled error", extra={"request_id": g.get("request_id"), "error_type": type(exc).__name__,
                                            "endpoint": request.endpoint,
                                            "trace": "".join(traceback.format_tb(exc.__traceback__))})
        if wants_json():
            return json_error(500, "internal_error", "Internal error.")
        return error_page(500)


def clear_sign_in_state() -> None:
    session.clear()
