"""The CAD JSON API under ``/api/v1`` (flask-smorest + marshmallow).

``init_api(app)`` registers the API blueprint, the OpenAPI document at
``/api/v1/openapi.json`` and a server-rendered reference page at
``/api/v1/docs`` (flask-smorest's own doc pages load scripts from a CDN, which
the Content-Security-Policy forbids).
"""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from clinician_app.extensions import csrf

from .schemas import Error

BEARER_SCHEME = {"type": "http", "scheme": "bearer",
                 "description": "An API client token from the admin console (Administration > API clients)."}


class CadApi(Api):
    ERROR_SCHEMA = Error

    def _register_error_handlers(self):
        # flask-smorest would answer every HTTP error of the whole app (pages
        # too) in its own JSON shape. The API blueprint's handler (errors.py)
        # and core/web.py answer in the project's shape instead.
        pass


def init_api(app: Flask) -> None:
    from .docs import bp as docs_bp
    from .views import bp

    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "Calls posted and polled by CAD systems. Errors are "
                                "`{\"error\": {\"code\", \"message\", \"fields\"}}` with a 4xx status."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {"bearerAuth": BEARER_SCHEME}},
    })
    api = CadApi(app)
    api.register_blueprint(bp)
    app.extensions["cad_api"] = api
    # Token-authenticated and cookie-free: there is no session to forge a request with.
    csrf.exempt(bp)
    app.register_blueprint(docs_bp)


def openapi_document(app: Flask) -> dict:
    return app.extensions["cad_api"].spec.to_dict()
