"""CLI commands, and no secrets in the logs of the main flows."""
import json
import logging
import re

import pyotp
from sqlalchemy import func, select

from clinician_app.auth.models import User
from clinician_app.extensions import db


def _seed(app):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_seed_demo_is_idempotent_and_prints_every_role(app):
    first = _seed(app)
    count = db.session.execute(select(func.count()).select_from(User)).scalar_one()
    second = _seed(app)
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == count
    assert first == second
    roles = {r for u in first["users"] for r in u["roles"]}
    assert roles == {"dispatcher", "officer", "clinician", "bhu_clinician", "supervisor", "liaison",
                     "engagement", "auditor", "admin"}
    for user in first["users"]:
        assert set(user) >= {"username", "password", "totp_secret", "roles", "agency"}
        assert len(user["password"]) >= 12


def test_seed_demo_table_output(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0
    assert "admin.chelmsford" in result.output and "totp secret" in result.output


def test_create_user_command(app):
    _seed(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "new.person", "--name", "New Person", "--agency", "cpd",
                                 "--role", "clinician", "--role", "supervisor"])
    assert result.exit_code == 0, result.output
    temp = re.search(r"must be changed at first sign-in\): (\S+)", result.output).group(1)
    user = db.session.execute(select(User).where(User.username == "new.person")).scalar_one()
    assert user.roles == ["clinician", "supervisor"] and user.must_change_password
    assert temp not in user.password_hash
    bad = runner.invoke(args=["create-user", "x", "--name", "X", "--agency", "CPD", "--role", "wizard"])
    assert bad.exit_code != 0 and "username" in bad.output and "roles" in bad.output
    missing = runner.invoke(args=["create-user", "someone", "--name", "X", "--agency", "NOPE", "--role", "admin"])
    assert missing.exit_code != 0 and "no agency" in missing.output


def test_audit_verify_command_on_clean_chain(app):
    _seed(app)
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "audit chain intact" in result.output


def test_main_flows_log_no_passwords_or_totp_secrets(app, csrf, caplog):
    """Sign in as every demo user, fail some sign-ins, change a password: the
    captured logs (every logger, every level) contain no password or secret."""
    demo = _seed(app)
    caplog.set_level(logging.DEBUG)
    secrets_seen = []
    for index, user in enumerate(demo["users"]):
        client = app.test_client()
        page = client.get("/auth/login")
        if index % 3 == 0:  # a failed attempt with a near-miss password first
            client.post("/auth/login", data={"csrf_token": csrf(page), "username": user["username"],
                                             "password": user["password"] + "x"})
        response = client.post("/auth/login", data={"csrf_token": csrf(page), "username": user["username"],
                                                    "password": user["password"]})
        assert response.status_code == 302, user["username"]
        verify = client.get("/auth/verify")
        code = pyotp.TOTP(user["totp_secret"]).now()
        assert client.post("/auth/verify", data={"csrf_token": csrf(verify), "code": code}).status_code == 302
        assert client.get("/").status_code == 200
        # (one-time codes are 6 digits: they can match a timestamp by chance, so only secrets are searched)
        secrets_seen += [user["password"], user["password"] + "x", user["totp_secret"]]
    logged = caplog.text + "\n".join(str(vars(r)) for r in caplog.records)
    assert "request" in logged  # the request log did run
    for secret in secrets_seen:
        assert secret not in logged
