from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user

from clinician_app.core.policy import Permission, public, requires
from clinician_app.ops import readiness

from . import services

bp = Blueprint("home", __name__)


@bp.route("/")
@requires(Permission.SIGNED_IN)
def index():
    return render_template("home/index.html", panels=services.home_panels(current_user))


@bp.route("/healthz")
@public
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
@public
def readyz():
    """Ready for traffic: the database answers, the keys encrypt and decrypt, and
    Redis answers when one is configured. A load balancer takes a server whose
    answer is 503 out of rotation; the reply names only which part is down."""
    checks = {"database": readiness.database_ready(), "keys": readiness.keys_ready()}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = readiness.redis_ready(current_app.config["REDIS_URL"])
    ready = all(checks.values())
    body = {name: ("ok" if ok else "down") for name, ok in checks.items()}
    return jsonify(status="ok" if ready else "unavailable", **body), (200 if ready else 503)
