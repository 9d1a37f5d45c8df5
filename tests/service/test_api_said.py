"""A correction through the one music decision: the said emotion becomes the stored choice
(``music.follows`` "said"), re-ranking and votes follow it, and "keep yours" returns to the reading."""

from __future__ import annotations

import uuid

from flask import Flask

from emotune.extensions import db
from emotune.models import Analysis
from tests.service.test_api_group import HEADERS, finished_with, four_faces
from tests.service.test_api_music import csrf


def test_a_correction_is_the_stored_choice_and_keep_yours_returns_to_the_group(model_app: Flask) -> None:
    analysis_id = finished_with(model_app, four_faces())
    client = model_app.test_client()
    headers = {**HEADERS, **csrf(client)}
    url = f"/api/analyses/{analysis_id}"
    answer = client.put(f"{url}/correction", json={"emotion": "Angry", "strategy": "lift"}, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["music"] == {"emotion": "Angry", "follows": "said", "face": None, "strategy": "lift",
                             "chosen_by": "you", "why": body["music"]["why"]}
    # The reading stays what was read: the group's emotion, not the said one.
    assert (body["primary_emotion"], body["said_emotion"], body["group"]["emotion"]) == ("Happy", "Angry", "Happy")
    assert body["recommendations"]["strategy"] == "lift" and body["recommendations"]["playlists"]
    with model_app.app_context():
        assert db.session.get(Analysis, uuid.UUID(analysis_id)).music == body["music"]
    assert client.get(url, headers=HEADERS).get_json()["music"] == body["music"]
    # Re-ranking without a face follows what was said, with the strategy asked then; a picked face still wins.
    again = client.get(f"{url}/recommendations", headers=HEADERS).get_json()["music"]
    assert (again["emotion"], again["follows"], again["strategy"], again["chosen_by"]) == ("Angry", "said", "lift", "you")
    face = client.get(f"{url}/recommendations?face=0", headers=HEADERS).get_json()["music"]
    assert (face["emotion"], face["follows"], face["face"]) == ("Sad", "face", 0)
    # A vote and its withdrawal count for the said emotion under the stored strategy.
    card = body["recommendations"]["playlists"][0]["spotify_id"]
    voted = client.post(f"{url}/feedback", json={"playlist_id": card, "vote": "up"}, headers=headers)
    assert voted.status_code == 201, voted.get_json()
    assert (voted.get_json()["emotion"], voted.get_json()["strategy"]) == ("Angry", "lift")
    withdrawn = client.delete(f"{url}/feedback", json={"playlist_id": card}, headers=headers).get_json()
    assert (withdrawn["emotion"], withdrawn["strategy"], withdrawn["withdrawn"]) == ("Angry", "lift", True)
    # "Keep yours": the music follows the group's reading again, as the worker chose it (the strategy
    # the person asked for stands).
    kept = client.put(f"{url}/correction", json={"emotion": None}, headers=headers).get_json()
    assert kept["music"] == {"emotion": "Happy", "follows": "group", "face": None, "strategy": "lift",
                             "chosen_by": "you", "why": kept["music"]["why"]}
    assert (kept["said_emotion"], kept["primary_emotion"]) == (None, "Happy")
