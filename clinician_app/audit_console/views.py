from flask import Blueprint

bp = Blueprint("auditor", __name__, url_prefix="/audit")
