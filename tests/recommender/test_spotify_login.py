"""Spotify login with PKCE against the stand-in, tokens on the server, saving a playlist."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import requests
from flask.testing import FlaskClient
from tests.spotify_stub import Scripted, SpotifyStub
from sqlalchemy import select

from recommender.models import SpotifyToken
from recommender.service import recommend


def log_in(client: FlaskClient) -> None:
    """Follow the redirects a browser would: app -> Spotify authorize -> app callback."""
    start = client.get("/spotify/login")
    assert start.status_code == 302
    query = parse_qs(urlsplit(start.location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["redirect_uri"] == ["http://127.0.0.1:5000/spotify/callback"]
    consent = requests.get(start.location, allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["Location"])
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302 and done.location.endswith("/?spotify=connected"), done.get_json()


def token_row(app) -> SpotifyToken | None:  # type: ignore[no-untyped-def]
    from emotune.extensions import db

    with app.app_context():
        row = db.session.scalar(select(SpotifyToken))
        if row is not None:
            db.session.expunge(row)
        return row


def test_login_keeps_tokens_on_the_server_only(stub_app, stub: SpotifyStub) -> None:
    client = stub_app.test_client()
    log_in(client)
    status = client.get("/spotify/status").get_json()
    assert status["logged_in"] and status["display_name"] == "Stub User stubuser"
    row = token_row(stub_app)
    assert row is not None and row.access_token in stub.user_tokens and row.refresh_token
    cookie = client.get_cookie("emotune_session") or client.get_cookie("session")
    assert cookie is not None and row.access_token not in cookie.value and row.refresh_token not in cookie.value
    token_posts = [r for r in stub.requests if r.path == "/api/token"]
    assert b"code_verifier=" in token_posts[-1].body  # PKCE: no client secret needed


def test_logged_in_user_saves_a_playlist(stub_app, stub: SpotifyStub) -> None:
    client = stub_app.test_client()
    log_in(client)
    response = client.post("/spotify/playlists", json={"emotion": "Angry", "strategy": "calm",
                                                        "source_playlist_id": "37i9dQZF1DX4sWSpwq3LiO"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    created = stub.playlists[body["id"]]
    assert created["owner"] == "stubuser" and created["public"] is False
    assert created["name"] == "EmoTune: calm acoustic for feeling angry"
    assert "Peaceful Piano" in created["description"]
    assert len(created["items"]) == body["tracks_added"] == 30
    assert all(uri.startswith("spotify:track:") for uri in created["items"])
    assert ("POST", "/v1/me/playlists") in [(r.method, r.path) for r in stub.requests]
    assert ("POST", f"/v1/playlists/{body['id']}/items") in [(r.method, r.path) for r in stub.requests]
    assert all(r.query.get("limit", ["10"]) == ["10"] for r in stub.requests if r.path == "/v1/search")
    assert stub.removed_calls == []


def test_expired_access_token_is_refreshed(stub_app, stub: SpotifyStub) -> None:
    from emotune.extensions import db

    client = stub_app.test_client()
    log_in(client)
    old = token_row(stub_app)
    with stub_app.app_context():
        db.session.scalar(select(SpotifyToken)).expires_at = int(time.time()) - 10
        db.session.commit()
    response = client.post("/spotify/playlists", json={"emotion": "Happy", "strategy": "match"})
    assert response.status_code == 201, response.get_json()
    new = token_row(stub_app)
    assert new.access_token != old.access_token and new.expires_at > time.time()
    assert b"grant_type=refresh_token" in [r for r in stub.requests if r.path == "/api/token"][-1].body


def test_revoked_login_asks_to_log_in_again(stub_app, stub: SpotifyStub) -> None:
    from emotune.extensions import db

    client = stub_app.test_client()
    log_in(client)
    stub.revoke_refresh_tokens()
    with stub_app.app_context():
        db.session.scalar(select(SpotifyToken)).expires_at = int(time.time()) - 10
        db.session.commit()
    response = client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "lift"})
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "spotify_login_expired" and "connect Spotify again" in error["message"]
    assert token_row(stub_app) is None
    assert client.get("/spotify/status").get_json()["logged_in"] is False


def test_401_expired_user_token_asks_to_log_in_again(stub_app, stub: SpotifyStub) -> None:
    client = stub_app.test_client()
    log_in(client)
    stub.expire_user_tokens()  # Spotify now answers 401 "The access token expired"
    response = client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "lift"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "spotify_login_expired"
    assert not stub.playlists


def test_saving_without_login_or_with_bad_input_is_refused(stub_app) -> None:
    client = stub_app.test_client()
    response = client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "lift"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "spotify_login_required"
    response = client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "loud"})
    assert response.status_code == 400 and "match, lift, calm" in response.get_json()["error"]["message"]


def test_callback_with_wrong_state_or_declined_login(stub_app, stub: SpotifyStub) -> None:
    client = stub_app.test_client()
    client.get("/spotify/login")
    # The callback is a browser's page load: it goes back to the page, which reads the sentence once.
    response = client.get("/spotify/callback?code=abc&state=forged")
    assert response.status_code == 302 and response.location.endswith("/?spotify=failed")
    assert client.get("/spotify/status").get_json()["notice"]["code"] == "spotify_login_invalid"
    assert client.get("/spotify/status").get_json()["notice"] is None
    stub.deny_authorization = True
    start = client.get("/spotify/login")
    back = urlsplit(requests.get(start.location, allow_redirects=False, timeout=5).headers["Location"])
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 302 and response.location.endswith("/?spotify=failed")
    assert client.get("/spotify/status").get_json()["notice"]["code"] == "spotify_login_declined"


def test_logout_forgets_the_tokens(stub_app) -> None:
    client = stub_app.test_client()
    log_in(client)
    assert client.post("/spotify/logout").status_code == 204
    assert token_row(stub_app) is None
    assert client.get("/spotify/status").get_json()["logged_in"] is False


def test_without_any_credentials_everything_but_login_works(make_app) -> None:
    from emotune.extensions import db
    from recommender.seed import seed_catalogue

    app = make_app()
    client = app.test_client()
    status = client.get("/spotify/status").get_json()
    assert status["login_available"] is False and status["catalogue"]["refreshes"] is False
    assert "seeded catalogue" in status["catalogue"]["message"]
    response = client.get("/spotify/login")
    assert response.status_code == 503 and "SPOTIFY_CLIENT_ID" in response.get_json()["error"]["message"]
    with app.app_context():
        seed_catalogue(db.session)
        assert recommend(db.session, "Happy", None, limit=3)


def test_readiness_says_plainly_whether_the_catalogue_refreshes(make_app, stub: SpotifyStub) -> None:
    body = make_app(EMOTUNE_READY_PING_TIMEOUT_S=0.1).test_client().get("/readyz").get_json()
    assert body["spotify"]["catalogue_refreshes"] is False
    assert "seeded catalogue" in body["spotify"]["detail"]
    body = make_app(EMOTUNE_READY_PING_TIMEOUT_S=0.1, **stub.config()).test_client().get("/readyz").get_json()
    assert body["spotify"]["catalogue_refreshes"] is True


def test_saving_names_the_real_cause_of_a_403(stub_app, stub: SpotifyStub) -> None:
    """Development mode: a user not on the allowlist, or a lapsed Premium, is said as such."""
    client = stub_app.test_client()
    log_in(client)
    for cause, status, code, named in (
            ("allowlist", 403, "spotify_user_not_allowed", "up to 5"),
            ("premium", 502, "spotify_failed", "Premium subscription has lapsed")):
        stub.script("/v1/me/playlists", Scripted.forbidden(cause))
        response = client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "lift"})
        body = response.get_json()
        assert response.status_code == status and body["error"]["code"] == code
        assert named in body["error"]["message"]


def test_saving_lives_in_the_recommender_and_the_web_only_translates() -> None:
    """Track collection and playlist text are the recommender's; spotify_auth keeps no second copy."""
    from pathlib import Path

    web = (Path(__file__).resolve().parents[2] / "emotune" / "spotify_auth" / "views.py").read_text()
    assert "search_track_uris" not in web and "def _playlist_text" not in web and "hashlib" not in web
    assert "error_response(" not in web  # one error style: ApiError
