"""Votes taken back, and (further down) corrections of the reading, through the API."""

from __future__ import annotations

from flask import Flask

from emotune.extensions import db
from recommender.models import Feedback
from tests.service.test_api_analyses import done_analysis
from tests.service.test_api_music import csrf


def _card(client, url: str, spotify_id: str) -> dict:  # type: ignore[no-untyped-def]
    return next(c for c in client.get(url).get_json()["recommendations"]["playlists"] if c["spotify_id"] == spotify_id)


def test_a_vote_can_be_withdrawn_and_leaves_liked_by(model_app: Flask, face_jpeg: bytes) -> None:
    owner = model_app.test_client()
    url = done_analysis(model_app, owner, face_jpeg)
    playlist = owner.get(url).get_json()["recommendations"]["playlists"][0]["spotify_id"]
    headers = csrf(owner)
    assert owner.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "up"}, headers=headers).status_code == 201
    assert (_card(owner, url, playlist)["liked_by"], _card(owner, url, playlist)["my_vote"]) == (1, 1)
    # Someone else cannot take the owner's vote back.
    stranger = model_app.test_client()
    refused = stranger.delete(f"{url}/feedback", json={"playlist_id": playlist}, headers=csrf(stranger))
    assert refused.status_code == 404
    gone = owner.delete(f"{url}/feedback", json={"playlist_id": playlist}, headers=headers)
    assert gone.status_code == 200, gone.get_json()
    assert gone.get_json() | {"emotion": None, "strategy": None} == {
        "playlist_id": playlist, "withdrawn": True, "my_vote": None, "liked_by": 0, "emotion": None, "strategy": None}
    assert (_card(owner, url, playlist)["liked_by"], _card(owner, url, playlist)["my_vote"]) == (0, None)
    with model_app.app_context():
        assert db.session.query(Feedback).count() == 0
    # Withdrawing again is harmless and says nothing was there; a malformed body is a clear 400.
    again = owner.delete(f"{url}/feedback", json={"playlist_id": playlist}, headers=headers)
    assert again.status_code == 200 and again.get_json()["withdrawn"] is False
    bad = owner.delete(f"{url}/feedback", json={"vote": "up"}, headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_feedback"
    # A vote can be cast again after being withdrawn.
    assert owner.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "down"}, headers=headers).status_code == 201
