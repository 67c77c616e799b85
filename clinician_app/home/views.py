from flask import Blueprint, jsonify, render_template
from flask_login import current_user
from sqlalchemy import text

from clinician_app.core.policy import Permission, public, requires
from clinician_app.extensions import db

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
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready; no detail leaves
        db.session.rollback()
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="ok", keys="loaded")
