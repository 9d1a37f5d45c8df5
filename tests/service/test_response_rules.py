"""Personal data is not cached, success asks no retry, relayed requests are not local, the Spotify
login returns only to a configured (or this machine's own) address and /readyz says the same,
and a vote counts only for a playlist shown under its strategy."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient

from emotune.extensions import db
from recommender.models import Playlist
from recommender.service import showable_ids
from tests.conftest import make_app
from tests.service.test_api_group import HEADERS, finished_with, four_faces
from tests.service.test_api_hostile_input import seeded_app, voter  # noqa: F401  (fixture)
from tests.service.test_api_validation import assert_error, post_image


def test_personal_answers_are_not_stored_by_caches(seeded_app: Flask) -> None:  # noqa: F811
    analysis_id = finished_with(seeded_app, four_faces())
    client = seeded_app.test_client()
    for url in (f"/api/analyses/{analysis_id}", f"/api/analyses/{analysis_id}/recommendations", "/api/history",
                "/spotify/status"):
        response = client.get(url, headers=HEADERS)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store", url


def test_a_successful_upload_has_no_retry_after_but_a_refusal_does(tmp_path: Path, face_jpeg: bytes) -> None:
    limited = make_app(tmp_path / "limited", EMOTUNE_ANALYSES_RATE_LIMIT="1 per minute")
    client = limited.test_client()
    headers = {"X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}
    accepted = post_image(client, headers, face_jpeg)
    assert accepted.status_code == 202 and "Retry-After" not in accepted.headers
    assert accepted.headers["Cache-Control"] == "no-store"
    refused = post_image(client, headers, face_jpeg)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


@pytest.mark.parametrize("relay", ["X-Real-IP", "X-Forwarded-For", "Forwarded"])
def test_a_request_relayed_by_a_proxy_sees_no_readiness_detail(client: FlaskClient, relay: str) -> None:
    assert "checks" in client.get("/readyz").get_json()  # loopback, direct
    value = "for=203.0.113.9" if relay == "Forwarded" else "203.0.113.9"
    assert set(client.get("/readyz", headers={relay: value}).get_json()) == {"status"}


def login_app(tmp_path: Path, **extra: object) -> Flask:
    settings = {"SPOTIFY_CLIENT_ID": "client-id", "SPOTIFY_REDIRECT_URI": None, "EMOTUNE_READY_PING_TIMEOUT_S": 0.2}
    return make_app(tmp_path / "instance", **{**settings, **extra})


def test_without_a_configured_redirect_uri_login_never_follows_the_host_header(tmp_path: Path) -> None:
    client = login_app(tmp_path).test_client()
    for host in ("evil.example", "emotune.example.org:443"):
        response = client.get("/spotify/login", headers={"Host": host})
        assert "SPOTIFY_REDIRECT_URI" in assert_error(response, 503, "spotify_redirect_not_configured")
        assert client.get("/spotify/status", headers={"Host": host}).get_json()["login_available"] is False
    relayed = client.get("/spotify/login", headers={"Host": "127.0.0.1:5000", "X-Forwarded-For": "203.0.113.9"})
    assert_error(relayed, 503, "spotify_redirect_not_configured")


def test_on_this_machine_login_returns_to_its_loopback_address(tmp_path: Path) -> None:
    client = login_app(tmp_path).test_client()
    response = client.get("/spotify/login", headers={"Host": "127.0.0.1:5000"})
    assert response.status_code == 302
    query = parse_qs(urlparse(response.headers["Location"]).query)
    assert query["redirect_uri"] == ["http://127.0.0.1:5000/spotify/callback"]
    status = client.get("/spotify/status", headers={"Host": "127.0.0.1:5000"}).get_json()
    assert status["login_available"] is True and "only for visitors on this machine" in status["login_message"]
    hint = assert_error(client.get("/spotify/login", headers={"Host": "localhost:5000"}), 503,
                        "spotify_redirect_not_configured")
    assert "http://127.0.0.1:5000/" in hint


def test_a_configured_redirect_uri_is_the_only_one_used(tmp_path: Path) -> None:
    client = login_app(tmp_path, SPOTIFY_REDIRECT_URI="https://emotune.example.org/spotify/callback").test_client()
    response = client.get("/spotify/login", headers={"Host": "evil.example"})
    assert response.status_code == 302
    query = parse_qs(urlparse(response.headers["Location"]).query)
    assert query["redirect_uri"] == ["https://emotune.example.org/spotify/callback"]


@pytest.mark.parametrize("redirect", [None, "https://emotune.example.org/spotify/callback"])
def test_readyz_says_what_spotify_login_does(tmp_path: Path, redirect: str | None) -> None:
    # A client id without a secret: login (PKCE) works although the catalogue does not refresh.
    client = login_app(tmp_path, SPOTIFY_REDIRECT_URI=redirect).test_client()
    host = {"Host": "127.0.0.1:5000"}
    spotify = client.get("/readyz", headers=host).get_json()["spotify"]
    login = client.get("/spotify/login", headers=host)
    assert login.status_code == 302 and spotify["login_available"] is True
    assert "login is off" not in spotify["detail"] and "login is off" not in spotify["login_detail"]
    no_id = make_app(tmp_path / "no-id", SPOTIFY_CLIENT_ID=None, EMOTUNE_READY_PING_TIMEOUT_S=0.2).test_client()
    spotify = no_id.get("/readyz", headers=host).get_json()["spotify"]
    assert spotify["login_available"] is False and "SPOTIFY_CLIENT_ID" in spotify["login_detail"]
    assert no_id.get("/spotify/login", headers=host).status_code == 503


def test_a_vote_on_a_playlist_never_shown_under_that_strategy_is_refused(seeded_app: Flask) -> None:  # noqa: F811
    client, headers, url, shown = voter(seeded_app)
    body = client.get(url.rsplit("/", 1)[0], headers=HEADERS).get_json()
    emotion, strategy = body["primary_emotion"], body["recommendations"]["strategy"]
    with seeded_app.app_context():
        showable = showable_ids(db.session, emotion, strategy, seeded_app.config["EMOTUNE_PLAYLIST_COUNT"])
        elsewhere = next(p.spotify_id for p in db.session.query(Playlist) if p.spotify_id not in showable)
    refused = client.post(url, json={"playlist_id": elsewhere, "vote": "up"}, headers=headers)
    assert "not among the playlists shown" in assert_error(refused, 409, "playlist_not_shown")
    assert client.post(url, json={"playlist_id": shown, "vote": "up"}, headers=headers).status_code == 201
