"""The web's calls to Spotify in /metrics, by outcome: a login, a saved playlist, an expired login;
a declined or stale login makes no call and is not counted."""

from __future__ import annotations

import time

from sqlalchemy import select

from recommender.models import SpotifyToken
from tests.recommender.test_spotify_login import log_in
from tests.service.test_metrics import delta, scrape
from tests.spotify_stub import SpotifyStub


def test_spotify_calls_are_counted_by_outcome(stub_app, stub: SpotifyStub) -> None:
    from emotune.extensions import db

    client = stub_app.test_client()
    before = scrape(client)
    assert client.get("/spotify/callback?error=access_denied").status_code == 302
    assert client.get("/spotify/callback?code=x&state=y").status_code == 302
    log_in(client)
    saved = client.post("/spotify/playlists", json={"emotion": "Angry", "strategy": "calm"})
    assert saved.status_code == 201, saved.get_json()
    stub.revoke_refresh_tokens()
    with stub_app.app_context():
        db.session.scalar(select(SpotifyToken)).expires_at = int(time.time()) - 10
        db.session.commit()
    assert client.post("/spotify/playlists", json={"emotion": "Sad", "strategy": "lift"}).status_code == 401
    after = scrape(client)

    name = "emotune_spotify_calls_total"
    assert delta(before, after, name, call="login", outcome="ok") == 1
    assert delta(before, after, name, call="save_playlist", outcome="ok") == 1
    assert delta(before, after, name, call="save_playlist", outcome="login_expired") == 1
    assert sum(value - before.get(key, 0.0) for key, value in after.items() if key[0] == name) == 3
