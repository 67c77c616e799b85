"""clinician_app: behavioral health co-response case management."""
from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_login import current_user

from config import CONFIGS

from .extensions import csrf, db, limiter, login_manager, migrate


def create_app(config_name: str = "development", **overrides) -> Flask:
    if config_name not in CONFIGS:
        raise ValueError(f"unknown configuration {config_name!r}; choose one of {sorted(CONFIGS)}")
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_object(CONFIGS[config_name])
    app.config.update(overrides)
    if app.config.get("TRUSTED_PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _load_keys(app)
    from .core.logging import configure_logging

    configure_logging(app.config["LOG_JSON"], app.config["LOG_LEVEL"])
    _init_extensions(app)
    if app.config["ENV_NAME"] == "production":
        _check_keys_fit_data(app)
    _register_blueprints(app)
    _register_hooks(app)
    _register_cli(app)
    _register_template_helpers(app)
    return app


def _load_keys(app: Flask) -> None:
    """Fail closed: no app without its keys, in every configuration."""
    from .core.keyfile import KeyConfigError, load_keys

    if app.config["ENV_NAME"] == "production":
        for name in ("SQLALCHEMY_DATABASE_URI",):
            if not app.config.get(name) or "sqlite" in app.config[name] and not app.config.get("ALLOW_SQLITE"):
                raise KeyConfigError("production needs DATABASE_URL pointing at PostgreSQL")
    keys = load_keys(app.config["KEYS_FILE"])
    app.extensions["clinician_keys"] = keys
    app.secret_key = keys.secret_key


def _check_keys_fit_data(app: Flask) -> None:
    """Fail closed at start-up: a key file that doesn't decrypt the stored data stops the app."""
    from .core.rotation import check_keys_fit_data

    with app.app_context():
        try:
            check_keys_fit_data(db.session, app.extensions["clinician_keys"].ring)
        finally:
            db.session.remove()


def _init_extensions(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            k: v for k, v in app.config["SQLALCHEMY_ENGINE_OPTIONS"].items() if k != "pool_pre_ping"
        }
    db.init_app(app)
    from . import models  # noqa: F401  (registers every table before migrations look)
    if uri.startswith("sqlite"):
        from .core.database import configure_sqlite

        with app.app_context():
            configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(__import__("pathlib").Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"

    from .auth.loader import load_user_from_session

    login_manager.request_loader(load_user_from_session)


def _register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin_bp
    from .audit_console.views import bp as audit_bp
    from .auth.views import bp as auth_bp
    from .calls.views import bp as calls_bp
    from .home.views import bp as home_bp
    from .people.views import bp as people_bp

    for bp in (auth_bp, home_bp, admin_bp, audit_bp, people_bp, calls_bp):
        app.register_blueprint(bp)

    from .cases.views import bp as cases_bp

    app.register_blueprint(cases_bp)

    from .cases.break_glass_views import bp as break_glass_bp
    from .cases.notes_views import bp as notes_bp

    for bp in (notes_bp, break_glass_bp):
        app.register_blueprint(bp)

    from .agencies.roster_views import bp as roster_bp
    from .notifications.views import bp as notifications_bp
    from .triage.views import bp as triage_bp

    for bp in (triage_bp, roster_bp, notifications_bp):
        app.register_blueprint(bp)

    from .followups.views import bp as followups_bp

    app.register_blueprint(followups_bp)

    from .referrals.views import bp as referrals_bp

    app.register_blueprint(referrals_bp)

    from .engagement.views import bp as engagement_bp

    app.register_blueprint(engagement_bp)

    from .reports.views import bp as reports_bp

    app.register_blueprint(reports_bp)

    from .api import init_api

    init_api(app)


def _register_hooks(app: Flask) -> None:
    from .core import web

    app.before_request(web.enforce_endpoint_permission)
    app.after_request(web.security_headers)
    app.after_request(web.log_request)
    web.register_error_handlers(app)

    @app.teardown_request
    def _rollback_uncommitted(exc):
        # One request, one transaction: whatever a view did not commit is undone.
        if exc is not None:
            db.session.rollback()


def _register_cli(app: Flask) -> None:
    from .cli import register

    register(app)
    from .followups.cli import followups_cli

    app.cli.add_command(followups_cli)


def _register_template_helpers(app: Flask) -> None:
    from .core import timeutil
    from .core.policy import ROLE_LABELS, Permission, Role

    @app.context_processor
    def inject():
        return {
            "Permission": Permission,
            "ROLE_LABELS": ROLE_LABELS,
            "Role": Role,
            "banner": app.config["SYSTEM_USE_BANNER"],
            "frame_figures": _frame_figures,
        }

    def _frame_figures() -> dict:
        """The bell's count and the break-the-glass banner's figures: one statement,
        read once per request however often the page asks."""
        from .core import frame_figures

        # Outside a request current_user is None: only a request has a signed-in user.
        if not getattr(current_user, "is_authenticated", False):
            return frame_figures.defaults()
        figures = getattr(request, "frame_figures", None)
        if figures is None:
            figures = request.frame_figures = frame_figures.read(current_user._get_current_object())
        return figures

    @app.template_filter("local")
    def local_time(value, fmt="%Y-%m-%d %H:%M %Z"):
        return timeutil.format_local(value, _viewer_timezone(), fmt)

    def _viewer_timezone() -> str:
        # Looked up once per request (kept on the request, not on g, which a test's
        # app context may share between requests): a page formats dozens of times.
        if not has_request_context():
            return "America/New_York"
        tz = getattr(request, "viewer_timezone", None)
        if tz is None:
            user = current_user._get_current_object()
            tz = user.agency.timezone if getattr(user, "is_authenticated", False) else "America/New_York"
            request.viewer_timezone = tz
        return tz

    from .home.navigation import navigation

    app.add_template_global(navigation)

    @app.template_global()
    def can(permission) -> bool:
        user = current_user._get_current_object()
        return getattr(user, "is_authenticated", False) and permission in user.permissions

