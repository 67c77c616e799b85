"""Security headers (SECURITY.md promise 7) and error pages without detail."""
import pytest

from clinician_app import create_app


def test_security_headers_on_public_page(client):
    response = client.get("/auth/login")
    h = response.headers
    csp = h["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert h["X-Frame-Options"] == "DENY"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in h  # only in production


def test_authenticated_pages_are_not_cached(client, agencies, make_user, login_as):
    login_as(make_user(agencies["A"], "clinician"))
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_flags(client, csrf, agencies, make_user):
    user = make_user(agencies["A"], "clinician")
    page = client.get("/auth/login")
    response = client.post("/auth/login", data={"csrf_token": csrf(page), "username": user.username,
                                                "password": "correct horse battery staple"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_config_hardens_cookie_and_hsts(keys_file, monkeypatch, tmp_path):
    app = create_app("production", KEYS_FILE=keys_file,
                     SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")
    with app.test_client() as c:
        assert "Strict-Transport-Security" in c.get("/healthz").headers


def test_production_refuses_to_start_without_keys(tmp_path):
    from clinician_app.core.keyfile import KeyConfigError

    with pytest.raises(KeyConfigError, match="no key file"):
        create_app("production", KEYS_FILE=str(tmp_path / "absent.json"),
                   SQLALCHEMY_DATABASE_URI="postgresql+psycopg://postgres@127.0.0.1:5432/test")


def test_production_refuses_sqlite(keys_file):
    from clinician_app.core.keyfile import KeyConfigError

    with pytest.raises(KeyConfigError, match="PostgreSQL"):
        create_app("production", KEYS_FILE=keys_file, SQLALCHEMY_DATABASE_URI="sqlite:///x.db")


def test_404_page_in_layout_without_detail(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Not found" in text and "Traceback" not in text and "usa-header" in text


def test_405_page(client):
    response = client.post("/healthz")
    assert response.status_code == 405


def test_api_paths_get_json_errors(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "fields"}


def test_unexpected_error_is_a_plain_500_page_without_the_message(app, client, agencies, make_user, login_as, caplog):
    from clinician_app.home import views

    login_as(make_user(agencies["A"], "clinician"))
    secret = "SENTINEL-DETAIL-7731"

    def explode(user):
        raise RuntimeError(secret)

    original = views.services.home_panels
    views.services.home_panels = explode
    try:
        response = client.get("/")
    finally:
        views.services.home_panels = original
    assert response.status_code == 500
    assert secret not in response.get_data(as_text=True)
    assert "Something went wrong" in response.get_data(as_text=True)
    assert secret not in caplog.text
    assert any(getattr(r, "error_type", None) == "RuntimeError" for r in caplog.records)


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json()["database"] == "ok"
