"""The group reading in the API: several faces -> one group emotion the music follows, a face can
still be picked to drive the music, ignored and left-out faces are listed."""

from __future__ import annotations

import io
import math
import re
import uuid

from flask import Flask
from PIL import Image

from emotune import lifecycle
from emotune.extensions import db
from emotune.models import Analysis
from recognizer.emotions import EMOTIONS
from recognizer.pipeline import FaceResult, IgnoredFace, RecognitionResult
from tests.recognizer.photos import fer_face, photo
from tests.service.test_tasks import TOKEN, fetch, new_analysis, run_task

HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def one_hot(emotion: str, top: float = 0.9) -> tuple[float, ...]:
    rest = (1 - top) / (len(EMOTIONS) - 1)
    return tuple(top if name == emotion else rest for name in EMOTIONS)


def finished_with(app: Flask, result: RecognitionResult) -> str:
    """An analysis that ended with ``result`` (as the worker would record it), music chosen."""
    analysis_id = new_analysis(app)
    with app.app_context():
        analysis = db.session.get(Analysis, uuid.UUID(analysis_id))
        lifecycle.record_recognition(analysis, result, "mobilenetv2_test_1", "abc")
        lifecycle.record_music(analysis)
        lifecycle.finish(analysis)
    return analysis_id


def four_faces() -> RecognitionResult:
    """Three happy faces and one sad one; the sad one is the largest."""
    faces = [FaceResult((10, 10, 300, 300), one_hot("Sad"), "Sad", 0.9)]
    faces += [FaceResult((400 + 150 * i, 10, 120, 120), one_hot("Happy"), "Happy", 0.9) for i in range(3)]
    ignored = [IgnoredFace((900, 700, 20, 20), "This face is too small in the photo to read its expression.")]
    return RecognitionResult(faces, (1280, 960), {"decode": 1.0}, ignored_faces=ignored, faces_left_out=2)


def test_music_follows_the_group_and_says_how_many_agree(model_app: Flask) -> None:
    body = fetch(model_app, finished_with(model_app, four_faces()))
    group = body["group"]
    assert group["emotion"] == "Happy" and group["faces_read"] == 4 and group["faces_agreeing"] == 3
    assert group["sentence"] == "3 of 4 faces look happy"
    assert list(group["probabilities"]) == list(EMOTIONS)
    assert math.isclose(sum(group["probabilities"].values()), 1.0, abs_tol=1e-9)
    assert body["music_follows"] == "group"
    # The music is chosen for the group's emotion, not for the largest face's.
    assert body["primary_emotion"] == "Happy" and body["faces"][0]["emotion"] == "Sad"
    assert body["faces"][0]["primary"] is True
    assert body["recommendations"]["playlists"]
    assert body["ignored_faces"] == [{"box": {"x": 900, "y": 700, "width": 20, "height": 20},
                                      "reason": "This face is too small in the photo to read its expression."}]
    assert body["faces_left_out"] == 2


def test_a_picked_face_drives_the_music_instead(model_app: Flask) -> None:
    analysis_id = finished_with(model_app, four_faces())
    client = model_app.test_client()
    url = f"/api/analyses/{analysis_id}/recommendations"
    group = client.get(url, headers=HEADERS).get_json()
    assert (group["emotion"], group["music_follows"], group["face"]) == ("Happy", "group", None)
    picked = client.get(f"{url}?face=0&strategy=match", headers=HEADERS).get_json()
    assert (picked["emotion"], picked["music_follows"], picked["face"]) == ("Sad", "face", 0)
    assert picked["playlists"]
    for bad in ("4", "-1", "two"):
        response = client.get(f"{url}?face={bad}", headers=HEADERS)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "unknown_face"
        assert "0 to 3" in response.get_json()["error"]["message"]


def test_a_vote_on_a_picked_faces_music_counts_for_that_face(model_app: Flask) -> None:
    from recommender.models import Feedback

    analysis_id = finished_with(model_app, four_faces())
    client = model_app.test_client()
    # The cards shown for face 0: its own emotion's music, under that emotion's strategy.
    shown = client.get(f"/api/analyses/{analysis_id}/recommendations?face=0", headers=HEADERS).get_json()
    playlist = shown["playlists"][0]["spotify_id"]
    headers = {**HEADERS, "X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}
    response = client.post(f"/api/analyses/{analysis_id}/feedback", headers=headers,
                           json={"playlist_id": playlist, "vote": "up", "face": 0, "strategy": shown["strategy"]})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["emotion"] == "Sad"
    with model_app.app_context():
        (vote,) = db.session.query(Feedback).all()
        assert vote.emotion == "Sad"


def test_one_face_has_no_group_and_the_music_follows_it(model_app: Flask) -> None:
    result = RecognitionResult([FaceResult((10, 10, 300, 300), one_hot("Sad"), "Sad", 0.9)], (640, 480), {})
    body = fetch(model_app, finished_with(model_app, result))
    assert body["group"] is None and body["music_follows"] == "face"
    assert body["ignored_faces"] == [] and body["faces_left_out"] == 0
    assert body["primary_emotion"] == "Sad"


def test_a_group_photo_through_the_worker_gets_a_group_reading(model_app: Flask) -> None:
    faces = [(fer_face(i, emotion), (40 + 300 * i, 120 + 40 * i), 200 + 20 * i)
             for i, emotion in enumerate(("happy", "happy", "sad"))]
    out = io.BytesIO()
    photo(faces, size=(1000, 600)).save(out, "JPEG", quality=92)
    analysis_id = new_analysis(model_app)
    assert run_task(model_app, analysis_id, out.getvalue()) == "done"
    body = fetch(model_app, analysis_id)
    assert len(body["faces"]) == 3
    group = body["group"]
    assert group["faces_read"] == 3 and 0 <= group["faces_agreeing"] <= 3
    assert re.fullmatch(r"(\d of 3 faces look|Taken together, the 3 faces look) \w+", group["sentence"])
    assert body["music_follows"] == "group" and body["primary_emotion"] == group["emotion"]
