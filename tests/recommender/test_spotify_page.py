"""The page's Spotify login against the stand-in: it returns to the result it started from, and
each failure is a sentence saying what to do (account not allowed, expired, busy, unreachable)."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import requests

from tests.recommender.test_spotify_login import log_in, token_row
from tests.spotify_stub import Scripted, SpotifyStub


def _follow_login(client, query: str = "") -> str:  # type: ignore[no-untyped-def]
    start = client.get(f"/spotify/login{query}")
    back = urlsplit(requests.get(start.location, allow_redirects=False, timeout=5).headers["Location"])
    return client.get(f"{back.path}?{back.query}").location


def test_the_login_returns_to_the_result_it_started_from(stub_app) -> None:
    client = stub_app.test_client()
    analysis = str(uuid.uuid4())
    assert _follow_login(client, f"?analysis={analysis}") == f"/?spotify=connected&analysis={analysis}"
    assert client.get("/spotify/status").get_json()["display_name"] == "Stub User stubuser"
    # Anything but an analysis id is ignored: the login cannot be turned into a redirect elsewhere.
    client.post("/spotify/logout")
    assert _follow_login(client, "?analysis=https://evil.example/") == "/?spotify=connected"


def test_an_account_not_on_the_apps_user_list_is_told_who_can_add_it(stub_app, stub: SpotifyStub) -> None:
    client = stub_app.test_client()
    stub.script("/v1/me", Scripted.forbidden("allowlist"))
    analysis = str(uuid.uuid4())
    assert _follow_login(client, f"?analysis={analysis}") == f"/?spotify=failed&analysis={analysis}"
    status = client.get("/spotify/status").get_json()
    assert status["logged_in"] is False and token_row(stub_app) is None
    assert status["notice"]["code"] == "spotify_user_not_allowed"
    assert "up to 5" in status["notice"]["message"] and "owner" in status["notice"]["message"]
    # The same account, once logged in, refused when saving: the same sentence.
    log_in(client)
    stub.script("/v1/me/playlists", Scripted.forbidden("allowlist"))
    refused = client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "lift"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "spotify_user_not_allowed"


def test_busy_and_unreachable_spotify_say_when_to_try_again(stub_app, stub: SpotifyStub) -> None:
    client = stub_app.test_client()
    log_in(client)
    stub.script("/v1/search", Scripted.rate_limited(30))
    busy = client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "lift"})
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "30"
    assert busy.get_json()["error"] == {
        "code": "spotify_busy", "message": "Spotify is busy right now; nothing was lost. Try again in 30 seconds."}
    stub.script("/v1/me/playlists", Scripted.unreachable())
    down = client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "lift"})
    assert down.status_code == 502 and down.get_json()["error"]["code"] == "spotify_unreachable", down.get_json()
    assert "nothing was lost" in down.get_json()["error"]["message"]
    assert not stub.playlists
    # Still logged in: nothing about the login was lost either.
    assert client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "lift"}).status_code == 201
