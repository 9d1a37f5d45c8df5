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
    for body in ({"vote": "up"}, {"playlist_id": playlist, "strategy": {"a": 1}}):
        bad = owner.delete(f"{url}/feedback", json=body, headers=headers)
        assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_feedback"
    # A vote can be cast again after being withdrawn.
    assert owner.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "down"}, headers=headers).status_code == 201


def _other_emotion(read: str, offset: int = 1) -> str:
    from recognizer.emotions import EMOTIONS

    return EMOTIONS[(EMOTIONS.index(read) + offset) % len(EMOTIONS)]


def _counts(app: Flask) -> dict[tuple[str, str], int]:
    from emotune.field_accuracy import FieldCorrection

    with app.app_context():
        return {(r.read_emotion, r.said_emotion): r.count for r in db.session.query(FieldCorrection) if r.count}


def test_a_correction_rechooses_the_music_and_counts_once(model_app: Flask, face_jpeg: bytes) -> None:
    from recommender.service import ADJECTIVES
    from recommender.strategies import default_strategy

    client = model_app.test_client()
    url = done_analysis(model_app, client, face_jpeg)
    read = client.get(url).get_json()["primary_emotion"]
    said, said_again = _other_emotion(read), _other_emotion(read, 2)
    headers = csrf(client)
    answer = client.put(f"{url}/correction", json={"emotion": said.lower()}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["primary_emotion"], body["said_emotion"]) == (read, said)
    # The music is chosen again for the said emotion, under its default strategy (none was asked).
    assert body["strategy"] == body["strategy_choice"]["strategy"] == default_strategy(said)
    cards = body["recommendations"]["playlists"]
    assert cards and all(ADJECTIVES[said] in card["reason"] for card in cards), [c["reason"] for c in cards]
    assert client.get(url).get_json()["said_emotion"] == said
    assert client.get("/api/history").get_json()["analyses"][0]["said_emotion"] == said
    assert client.get(f"{url}/recommendations").get_json()["emotion"] == said
    # Votes after a correction count for the said emotion.
    voted = client.post(f"{url}/feedback", json={"playlist_id": cards[0]["spotify_id"], "vote": "up"}, headers=headers)
    assert voted.status_code == 201 and voted.get_json()["emotion"] == said
    assert _counts(model_app) == {(read, said): 1}
    # Saying it twice counts once; a second correction replaces the first and moves the count.
    client.put(f"{url}/correction", json={"emotion": said}, headers=headers)
    assert _counts(model_app) == {(read, said): 1}
    again = client.put(f"{url}/correction", json={"emotion": said_again, "strategy": "calm"}, headers=headers)
    assert again.get_json()["said_emotion"] == said_again
    assert again.get_json()["strategy_choice"] == {**again.get_json()["strategy_choice"], "strategy": "calm",
                                                   "chosen_by": "you"}
    assert _counts(model_app) == {(read, said_again): 1}
    # "Keep yours" takes the correction (and its count) back; saying the read emotion is the same.
    kept = client.put(f"{url}/correction", json={"emotion": None}, headers=headers).get_json()
    assert kept["said_emotion"] is None and all(ADJECTIVES[read] in c["reason"] for c in kept["recommendations"]["playlists"])
    assert _counts(model_app) == {}
    client.put(f"{url}/correction", json={"emotion": said_again}, headers=headers)
    client.put(f"{url}/correction", json={"emotion": read}, headers=headers)
    assert _counts(model_app) == {} and client.get(url).get_json()["said_emotion"] is None
    # The counts name no analysis and no session: deleting the history keeps them.
    client.put(f"{url}/correction", json={"emotion": said}, headers=headers)
    assert client.delete("/api/history", headers=headers).status_code == 204
    assert _counts(model_app) == {(read, said): 1}
    with model_app.app_context():
        from emotune.field_accuracy import FieldCorrection

        assert {c.name for c in FieldCorrection.__table__.columns} == {
            "model_name", "model_version", "read_emotion", "said_emotion", "count"}
    # No photo bytes anywhere the app writes (its database, its broker), corrections included.
    from pathlib import Path

    chunk = face_jpeg[len(face_jpeg) // 2:len(face_jpeg) // 2 + 64]
    written = [path for path in Path(model_app.instance_path).rglob("*") if path.is_file()]
    assert written and not [path for path in written if chunk in path.read_bytes()]
    report = model_app.test_cli_runner().invoke(args=["field-report"])
    assert report.exit_code == 0, report.output
    assert "self-selected sample" in report.output
    assert f"read {read:<8} corrected    1 times, to: {said} 1" in report.output


def test_corrections_refuse_bad_input_and_other_sessions(model_app: Flask, face_jpeg: bytes) -> None:
    client = model_app.test_client()
    url = done_analysis(model_app, client, face_jpeg)
    headers = csrf(client)
    for body, code in (({"emotion": "Loud"}, "unknown_emotion"), ({"emotion": 3}, "invalid_correction"),
                       ({}, "invalid_correction"), ({"emotion": "Sad", "strategy": "loud"}, "unknown_strategy"),
                       ({"emotion": "Sad", "strategy": ["calm"]}, "invalid_correction")):
        answer = client.put(f"{url}/correction", json=body, headers=headers)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == code, (body, answer.get_json())
    stranger = model_app.test_client()
    refused = stranger.put(f"{url}/correction", json={"emotion": "Sad"}, headers=csrf(stranger))
    assert refused.status_code == 404
    assert _counts(model_app) == {}
    empty = model_app.test_cli_runner().invoke(args=["field-report"])
    assert "No corrections yet." in empty.output and "self-selected" in empty.output
