"""Sign-in with password and TOTP, lockout, sessions (SECURITY.md promise 5)."""
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from clinician_app.auth import mfa, passwords
from clinician_app.auth.models import RecoveryCode, User, UserSession
from clinician_app.core.audit import AuditEvent
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db
from tests.conftest import TEST_PASSWORD


def _post_login(client, csrf, username, password):
    token = csrf(client.get("/auth/login"))
    return client.post("/auth/login", data={"csrf_token": token, "username": username, "password": password})


def _post_code(client, csrf, code):
    token = csrf(client.get("/auth/verify"))
    return client.post("/auth/verify", data={"csrf_token": token, "code": code})


def _code(user, offset_steps=0):
    totp = pyotp.TOTP(user.totp_secret)
    import time

    return totp.at(time.time() + offset_steps * 30)


def _sign_in(client, csrf, user):
    assert _post_login(client, csrf, user.username, TEST_PASSWORD).status_code == 302
    return _post_code(client, csrf, _code(user))


def _actions(user):
    return [e.action for e in db.session.execute(
        select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.seq)).scalars()]


def test_full_sign_in_lands_on_home_and_is_audited(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "clinician")
    response = _sign_in(client, csrf, user)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert 'data-role-panel="clinician"' in home.get_data(as_text=True)
    assert "auth.signin" in _actions(user)


def test_wrong_password_is_refused_with_the_generic_message(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "dispatcher")
    response = _post_login(client, csrf, user.username, "not the password at all")
    assert response.status_code == 401
    assert "The username or password is incorrect." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert "auth.signin_failed" in _actions(user)


def test_unknown_user_gets_the_identical_reply(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "dispatcher")
    known = _post_login(client, csrf, user.username, "wrong password here")
    unknown = _post_login(client, csrf, "nobody.here", "wrong password here")
    assert known.status_code == unknown.status_code == 401

    def alert(resp):
        text = resp.get_data(as_text=True)
        return text[text.index('usa-alert--error'):][:300]

    assert alert(known).replace(user.username, "") == alert(unknown).replace("nobody.here", "")


def test_password_alone_does_not_sign_in(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "officer")
    response = _post_login(client, csrf, user.username, TEST_PASSWORD)
    assert response.headers["Location"] == "/auth/verify"
    assert client.get("/").status_code == 302


def test_wrong_totp_is_refused(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "officer")
    _post_login(client, csrf, user.username, TEST_PASSWORD)
    wrong = "000000" if _code(user) != "000000" else "111111"
    response = _post_code(client, csrf, wrong)
    assert response.status_code == 401
    assert "That code is not valid" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_totp_code_cannot_be_replayed(app, client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "officer")
    code = _code(user)
    assert _sign_in(client, csrf, user).headers["Location"] == "/"
    other = app.test_client()
    assert _post_login(other, csrf, user.username, TEST_PASSWORD).status_code == 302
    replay = _post_code(other, csrf, code)
    assert replay.status_code == 401
    assert other.get("/").status_code == 302


def test_match_totp_window_and_replay_rule():
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    now = 1_800_000_000
    counter = now // 30
    assert mfa.match_totp(secret, totp.at(now), None, now=now) == counter
    assert mfa.match_totp(secret, totp.at(now - 30), None, now=now) == counter - 1  # clock drift
    assert mfa.match_totp(secret, totp.at(now - 90), None, now=now) is None  # too old
    assert mfa.match_totp(secret, totp.at(now), counter, now=now) is None  # replay
    assert mfa.match_totp(secret, "12345", None, now=now) is None
    assert mfa.match_totp(secret, "abcdef", None, now=now) is None


def test_five_failures_lock_the_account_until_an_admin_unlocks(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "clinician")
    for _ in range(4):
        assert "incorrect" in _post_login(client, csrf, user.username, "wrong wrong wrong").get_data(as_text=True)
    fifth = _post_login(client, csrf, user.username, "wrong wrong wrong")
    assert "This account is locked" in fifth.get_data(as_text=True)
    db.session.refresh(user)
    assert user.locked_at is not None
    # the right password no longer works
    right = _post_login(client, csrf, user.username, TEST_PASSWORD)
    assert right.status_code == 401 and "This account is locked" in right.get_data(as_text=True)
    assert "auth.account_locked" in _actions(user)
    # an admin unlocks (through the service the admin console uses)
    from clinician_app.auth.services import unlock_user

    admin = make_user(agencies["A"], "admin")
    unlock_user(admin, user)
    db.session.commit()
    assert _post_login(client, csrf, user.username, TEST_PASSWORD).headers["Location"] == "/auth/verify"


def test_lockout_reply_is_the_same_for_an_unknown_username(client, csrf):
    replies = [_post_login(client, csrf, "ghost.user", "wrong wrong wrong") for _ in range(6)]
    assert "This account is locked" in replies[-1].get_data(as_text=True)


def test_wrong_totp_codes_count_towards_lockout(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "clinician")
    _post_login(client, csrf, user.username, TEST_PASSWORD)
    wrong = "000000" if _code(user) != "000000" else "111111"
    for _ in range(5):
        response = _post_code(client, csrf, wrong)
        if "locked" in response.get_data(as_text=True):
            break
    assert "This account is locked" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.locked_at is not None


def test_recovery_code_works_once(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "clinician")
    codes = mfa.new_recovery_codes()
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=mfa.hash_recovery_code(c)) for c in codes)
    db.session.commit()
    _post_login(client, csrf, user.username, TEST_PASSWORD)
    assert _post_code(client, csrf, codes[0].upper()).headers["Location"] == "/"
    second = client.application.test_client()
    _post_login(second, csrf, user.username, TEST_PASSWORD)
    assert _post_code(second, csrf, codes[0]).status_code == 401


def test_enrolment_shows_qr_and_confirms_then_gives_recovery_codes(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "supervisor", enrolled=False)
    response = _post_login(client, csrf, user.username, TEST_PASSWORD)
    assert response.headers["Location"] == "/auth/enrol"
    page = client.get("/auth/enrol")
    html = page.get_data(as_text=True)
    assert "<svg" in html and 'data-testid="totp-secret"' in html
    import re

    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    bad = client.post("/auth/enrol", data={"csrf_token": csrf(page), "code": "000000" if pyotp.TOTP(secret).now() != "000000" else "1"})
    assert bad.status_code == 400 and "does not match" in bad.get_data(as_text=True)
    done = client.post("/auth/enrol", data={"csrf_token": csrf(page), "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200 and "Save your recovery codes" in done.get_data(as_text=True)
    db.session.refresh(user)
    assert user.mfa_enrolled
    assert user.totp_secret == secret and secret.encode() not in user.totp_secret_enc  # stored encrypted
    assert client.get("/").status_code == 200


def test_session_id_rotates_at_sign_in(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "clinician")
    client.get("/auth/login")
    before = client.get_cookie("clinician_session")
    _sign_in(client, csrf, user)
    after = client.get_cookie("clinician_session")
    assert after is not None and (before is None or before.value != after.value)
    assert db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalar_one()


def test_idle_timeout_is_enforced_on_the_server(app, client, agencies, make_user, login_as):
    user = make_user(agencies["A"], "clinician")
    login_as(user)
    assert client.get("/").status_code == 200
    record = db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalar_one()
    record.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    assert "after a period without activity" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.refresh(record)
    assert record.revoked_at is not None and record.revoke_reason == "idle"


def test_absolute_lifetime_is_enforced(app, client, agencies, make_user, login_as):
    user = make_user(agencies["A"], "clinician")
    login_as(user)
    record = db.session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalar_one()
    record.created_at = utcnow() - timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"], minutes=1)
    db.session.commit()
    assert client.get("/").status_code == 302


def test_disabling_a_user_ends_their_sessions(app, agencies, make_user, login_as):
    from clinician_app.auth.services import disable_user

    user = make_user(agencies["A"], "clinician")
    admin = make_user(agencies["A"], "admin")
    c1, c2 = login_as(user, app.test_client()), login_as(user, app.test_client())
    assert c1.get("/").status_code == 200 and c2.get("/").status_code == 200
    disable_user(admin, user, "left the department")
    db.session.commit()
    assert c1.get("/").status_code == 302 and c2.get("/").status_code == 302


def test_password_change_ends_every_session(app, csrf, agencies, make_user, login_as):
    user = make_user(agencies["A"], "clinician")
    other = login_as(user, app.test_client())
    me = login_as(user, app.test_client())
    page = me.get("/auth/password")
    response = me.post("/auth/password", data={"csrf_token": csrf(page), "current_password": TEST_PASSWORD,
                                               "new_password": "a new long passphrase 42", "confirm": "a new long passphrase 42"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert other.get("/").status_code == 302
    assert me.get("/").status_code == 302
    db.session.refresh(user)
    assert passwords.verify_password(user.password_hash, "a new long passphrase 42")


def test_sign_out_everywhere(app, csrf, agencies, make_user, login_as):
    user = make_user(agencies["A"], "clinician")
    other = login_as(user, app.test_client())
    me = login_as(user, app.test_client())
    page = me.get("/auth/account")
    assert me.post("/auth/logout-everywhere", data={"csrf_token": csrf(page)}).status_code == 302
    assert other.get("/").status_code == 302


def test_sign_out_revokes_the_server_session(client, csrf, agencies, make_user, login_as):
    user = make_user(agencies["A"], "clinician")
    login_as(user)
    page = client.get("/")
    with client.session_transaction() as sess:
        stolen = sess["sid"]
    assert client.post("/auth/logout", data={"csrf_token": csrf(page)}).status_code == 302
    # replaying the old cookie value does not bring the session back
    with client.session_transaction() as sess:
        sess["sid"] = stolen
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("path,data", [
    ("/auth/login", {"username": "x", "password": "y"}),
    ("/auth/logout", {}),
    ("/auth/password", {"current_password": "a", "new_password": "b", "confirm": "b"}),
])
def test_csrf_is_required(client, agencies, make_user, login_as, path, data):
    login_as(make_user(agencies["A"], "clinician"))
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_password_rules():
    assert passwords.password_problems("short") == ["Use at least 12 characters."]
    assert any("commonly used" in p for p in passwords.password_problems("password1234"))
    assert any("commonly used" in p for p in passwords.password_problems("Qwerty123456"))
    assert passwords.password_problems("a" * 129)[0].startswith("Use at most")
    assert passwords.password_problems("correct horse battery staple") == []
    assert passwords.password_problems("x" * 64) == []
    assert passwords.password_problems("jane.doe.cpd", "jane.doe.cpd") == ["Your password must not be your username."]
    assert len(passwords.common_passwords()) >= 10_000


def test_weak_new_password_is_refused_and_form_kept(client, csrf, agencies, make_user, login_as):
    login_as(make_user(agencies["A"], "clinician"))
    page = client.get("/auth/password")
    response = client.post("/auth/password", data={"csrf_token": csrf(page), "current_password": TEST_PASSWORD,
                                                   "new_password": "password1234", "confirm": "password1234"})
    assert response.status_code == 400
    assert "commonly used" in response.get_data(as_text=True)


def test_argon2id_parameters_and_rehash_on_sign_in(app, client, csrf, agencies, make_user):
    assert passwords.DEFAULT_PARAMS == {"time_cost": 3, "memory_cost": 65536, "parallelism": 4}
    user = make_user(agencies["A"], "clinician")
    assert user.password_hash.startswith("$argon2id$")
    old = user.password_hash
    app.config["ARGON2_PARAMS"] = {"time_cost": 2, "memory_cost": 8 * 1024, "parallelism": 1}
    try:
        _post_login(client, csrf, user.username, TEST_PASSWORD)
        db.session.refresh(user)
        assert user.password_hash != old and "t=2" in user.password_hash
    finally:
        app.config["ARGON2_PARAMS"] = {"time_cost": 1, "memory_cost": 8 * 1024, "parallelism": 1}


def test_must_change_password_forces_the_change_page(client, agencies, make_user, login_as):
    user = make_user(agencies["A"], "clinician")
    user.must_change_password = True
    db.session.commit()
    login_as(user)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/password"


def test_inactive_accounts_are_disabled_by_the_command(app, agencies, make_user):
    stale = make_user(agencies["A"], "clinician")
    fresh = make_user(agencies["A"], "clinician")
    stale.last_sign_in_at = utcnow() - timedelta(days=91)
    fresh.last_sign_in_at = utcnow() - timedelta(days=5)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "disable-inactive"])
    assert result.exit_code == 0, result.output
    assert db.session.get(User, stale.id).disabled_at is not None
    assert db.session.get(User, fresh.id).disabled_at is None
