"""Configuration, read from the environment (12-factor).

Secrets never live in this file or in the database: they come from a key file
(``instance/keys.json`` in development, created by ``flask keys init``; a mounted
file in production) named by ``CLINICIAN_KEYS_FILE``.
"""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CLINICIAN_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    ENV_NAME = "base"
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'clinician_app.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # A read replica for the monthly report's figures (reports/database.py); unset: the primary.
    REPORTS_DATABASE_URL = os.environ.get("REPORTS_DATABASE_URL") or None
    KEYS_FILE = os.environ.get("CLINICIAN_KEYS_FILE", str(INSTANCE_DIR / "keys.json"))
    REDIS_URL = os.environ.get("REDIS_URL") or None

    # Sessions (SECURITY.md promise 5): revocable server-side records; these
    # limits are enforced on the server, never by cookie expiry.
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "30"))
    SESSION_ABSOLUTE_HOURS = int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12"))
    SESSION_COOKIE_NAME = "clinician_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_PATH = "/"

    # Sign-in lockout: this many failures within the window lock the account.
    LOCKOUT_THRESHOLD = 5
    LOCKOUT_WINDOW_MINUTES = 15
    INACTIVE_ACCOUNT_DAYS = 90
    RATELIMIT_SIGNIN = os.environ.get("RATELIMIT_SIGNIN", "30 per minute")
    RATELIMIT_HEADERS_ENABLED = True

    WTF_CSRF_TIME_LIMIT = None  # the session lifetime already bounds the token
    HSTS = False
    SYSTEM_USE_BANNER = (
        "You are accessing a restricted information system of a police department that "
        "contains protected health information and criminal justice information. Use is "
        "limited to authorised users for official purposes, and is monitored and recorded. "
        "Unauthorised use is prohibited and subject to criminal and civil penalties. By "
        "signing in you consent to this monitoring."
    )
    # The daily reminder's local time when RQ schedules it (cron sets its own time).
    REMINDER_LOCAL_TIME = os.environ.get("REMINDER_LOCAL_TIME", "07:00")
    REMINDER_TIMEZONE = os.environ.get("REMINDER_TIMEZONE", "America/New_York")
    LOG_JSON = _bool("LOG_JSON", False)
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # `keys rotate` waits this long after saving a new key, so running processes
    # (which re-read the key file within 2 s) encrypt with it before rows move.
    KEY_ROTATION_GRACE_SECONDS = float(os.environ.get("KEY_ROTATION_GRACE_SECONDS", "5"))

    # The CAD API (clinician_app/api): flask-smorest builds the OpenAPI document;
    # requests are limited per API client, not per address.
    API_TITLE = "Clinician App CAD API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    API_RATELIMIT = os.environ.get("API_RATELIMIT", "120 per minute")
    # An Idempotency-Key left "in flight" longer than this (its request died
    # midway) may be taken over by a retry.
    # How often an open co-response queue page asks for fresh rows.
    QUEUE_POLL_SECONDS = int(os.environ.get("QUEUE_POLL_SECONDS", "15"))
    # The daily follow-up reminder's e-mail (counts and a link only, never PHI);
    # without SMTP_HOST it is an in-app notification only.
    SMTP_HOST = os.environ.get("SMTP_HOST") or None
    SMTP_PORT = int(os.environ.get("SMTP_PORT", "587"))
    SMTP_FROM = os.environ.get("SMTP_FROM", "clinician-app@localhost")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", True)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME") or None
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
    SMTP_TIMEOUT_SECONDS = float(os.environ.get("SMTP_TIMEOUT_SECONDS", "10"))
    APP_BASE_URL = os.environ.get("APP_BASE_URL", "http://localhost:5000").rstrip("/")
    # Behind a reverse proxy (deploy/nginx.conf): how many proxies in front set
    # X-Forwarded-For/-Proto/-Host. 0 (the default) trusts no such header, so a
    # client can't fake its address; 1 behind one proxy. Rate limits and the audit
    # trail then see the client's address, not the proxy's.
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS", "0"))


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REPORTS_DATABASE_URL = None  # tests that want one set it
    RATELIMIT_ENABLED = False
    WTF_CSRF_ENABLED = True
    KEY_ROTATION_GRACE_SECONDS = 0.0


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_NAME = "__Host-clinician_session"
    SESSION_COOKIE_SECURE = True
    HSTS = True
    LOG_JSON = _bool("LOG_JSON", True)


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}
