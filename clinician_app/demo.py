"""Demo data for a new install: six agencies and a user for every role.

Demo passwords and TOTP secrets are derived from this install's secret key, so
re-running the seed prints the same sign-ins without storing them anywhere,
and no two installs share them.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy import select

from clinician_app.agencies.models import Agency
from clinician_app.auth import services as auth_services
from clinician_app.auth.models import User
from clinician_app.core.keyfile import current_keys
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

AGENCIES = [
    ("Chelmsford Police Department", "CPD", "town"),
    ("Billerica Police Department", "BPD", "town"),
    ("Westford Police Department", "WPD", "town"),
    ("Carlisle Police Department", "CARPD", "town"),
    ("Tyngsborough Police Department", "TPD", "town"),
    ("Regional Behavioral Health Unit", "BHU", "bhu"),
]

# (username, display name, agency code, roles)
USERS = [
    ("dispatch.chelmsford", "Dana Dispatcher", "CPD", ["dispatcher"]),
    ("officer.chelmsford", "Owen Officer", "CPD", ["officer"]),
    ("clinician.chelmsford", "Casey Clinician", "CPD", ["clinician"]),
    ("supervisor.chelmsford", "Sam Supervisor", "CPD", ["supervisor"]),
    ("liaison.chelmsford", "Lee Liaison", "CPD", ["liaison"]),
    ("engagement.chelmsford", "Erin Engagement", "CPD", ["engagement"]),
    ("auditor.chelmsford", "Avery Auditor", "CPD", ["auditor"]),
    ("admin.chelmsford", "Alex Admin", "CPD", ["admin"]),
    ("clinician.bhu", "Bailey BHU Clinician", "BHU", ["bhu_clinician"]),
    ("supervisor.bhu", "Blake BHU Supervisor", "BHU", ["supervisor"]),
    ("liaison.bhu", "Logan BHU Liaison", "BHU", ["liaison"]),
    ("admin.bhu", "Ari Regional Admin", "BHU", ["admin"]),
    ("dispatch.westford", "Wren Westford Dispatcher", "WPD", ["dispatcher"]),
    ("clinician.westford", "Wes Westford Clinician", "WPD", ["clinician"]),
    ("liaison.westford", "Willa Westford Liaison", "WPD", ["liaison"]),
]


def _derive(purpose: str, username: str) -> bytes:
    return hmac.new(current_keys().secret_key, f"demo:{purpose}:{username}".encode(), hashlib.sha256).digest()


def demo_password(username: str) -> str:
    raw = base64.b32encode(_derive("password", username)).decode().lower()
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


def demo_totp_secret(username: str) -> str:
    return base64.b32encode(_derive("totp", username)[:20]).decode()


def seed_demo() -> dict:
    """Create what is missing; leave what exists. Returns the demo sign-ins."""
    agencies = {}
    for name, code, kind in AGENCIES:
        agency = db.session.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
        if agency is None:
            agency = Agency(name=name, code=code, kind=kind, timezone="America/New_York")
            db.session.add(agency)
            db.session.flush()
        agencies[code] = agency
    result = []
    for username, display, code, roles in USERS:
        user = auth_services.find_user(username)
        if user is None:
            user, _ = auth_services.create_user(None, auth_services.NewUser(
                username=username, display_name=display, email=None, agency_id=agencies[code].id,
                roles=roles, password=demo_password(username)))
            auth_services._set_totp_secret(user, demo_totp_secret(username))
            user.totp_confirmed_at = utcnow()
        result.append({"username": username, "password": demo_password(username),
                       "totp_secret": demo_totp_secret(username), "roles": user.roles, "agency": code})
    db.session.flush()
    return {"users": result}


def demo_users() -> list[User]:
    return list(db.session.execute(select(User).where(User.username.in_([u[0] for u in USERS]))).scalars())
