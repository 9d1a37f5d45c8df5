"""Security headers from Flask-Talisman: HSTS only over HTTPS, no redirect, cookie flags as configured."""

from __future__ import annotations

from flask.testing import FlaskClient


def test_hsts_is_sent_over_https_only_and_plain_http_is_not_redirected(client: FlaskClient) -> None:
    plain = client.get("/healthz")
    assert plain.status_code == 200 and "Strict-Transport-Security" not in plain.headers
    secure = client.get("/healthz", base_url="https://emotune.example")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]
    assert secure.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_session_cookie_keeps_the_configured_secure_flag(client: FlaskClient) -> None:
    # The test app turns SESSION_COOKIE_SECURE off; Talisman must not turn it back on.
    cookie = client.get("/api/csrf").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_cookie_flags_changed_after_the_app_is_built_are_kept(app) -> None:
    # What `emotune` does for plain-http localhost, and production's default, both hold.
    for secure in (False, True):
        app.config["SESSION_COOKIE_SECURE"] = secure
        cookie = app.test_client().get("/api/csrf").headers["Set-Cookie"]
        assert ("Secure" in cookie) is secure
