"""The analysis task run in-process against the real recognizer, plan model and recommender.

Celery itself is exercised in tests/integration; here the task body is called directly so each
branch (done, no face, no model, re-run, crash-rerun) is checked on its own.
"""

from __future__ import annotations

import io
import math
import uuid

import numpy as np
from cryptography.fernet import Fernet
from flask import Flask
from PIL import Image

from emotune import lifecycle
from emotune.api.access import token_hash
from emotune.extensions import db
from emotune.models import Analysis, Face
from recognizer.emotions import EMOTIONS
from tests.conftest import make_app


# The API client's token of every analysis made by ``new_analysis``.
TOKEN = "test-access-token"


def new_analysis(app: Flask, **fields: object) -> str:
    """A queued analysis as the API makes one (its photo key, an access token), without a photo."""
    with app.app_context():
        analysis = lifecycle.create(None, None, token_hash(TOKEN))
        for name, value in fields.items():
            setattr(analysis, name, value)
        db.session.commit()
        return str(analysis.id)


def fetch(app: Flask, analysis_id: str) -> dict:
    """GET the analysis as its API client (bearer token, no cookie)."""
    response = app.test_client().get(f"/api/analyses/{analysis_id}", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def run_task(app: Flask, analysis_id: str, image: bytes) -> str:
    """Run the task body on ``image`` sealed with the analysis's key, as the message carries it."""
    from emotune.tasks import analyse_selfie

    with app.app_context():
        analysis = db.session.get(Analysis, uuid.UUID(analysis_id))
        key = analysis.photo_key if analysis and analysis.photo_key else Fernet.generate_key().decode()
        sealed = Fernet(key.encode()).encrypt(image).decode()
        return analyse_selfie.run(analysis_id, sealed)


def background_jpeg() -> bytes:
    rng = np.random.default_rng(3)
    pixels = np.clip(rng.normal(140, 8, (480, 640, 3)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, "JPEG")
    return out.getvalue()


def test_face_photo_gives_done_analysis_with_faces_and_playlists(model_app: Flask, face_jpeg: bytes) -> None:
    analysis_id = new_analysis(model_app)
    assert run_task(model_app, analysis_id, face_jpeg) == "done"
    body = fetch(model_app, analysis_id)
    assert body["status"] == "done" and body["stage"] == "done"
    assert body["error"] is None and body["notice"] is None
    assert len(body["faces"]) == 1
    face = body["faces"][0]
    assert list(face["probabilities"]) == list(EMOTIONS)
    assert math.isclose(sum(face["probabilities"].values()), 1.0, abs_tol=1e-6)
    assert face["emotion"] == max(face["probabilities"], key=face["probabilities"].get)
    assert face["primary"] is True and face["confidence_label"]
    assert body["primary_emotion"] == face["emotion"]
    assert body["confidence"] == face["confidence"]
    assert body["model"]["name"] == "mobilenetv2_test_1" and len(body["model"]["version"]) == 12
    assert body["image"] == {"width": 640, "height": 480}
    assert {"queue", "decode", "detect", "classify", "recommend", "total"} <= set(body["timings_ms"])
    playlists = body["recommendations"]["playlists"]
    assert playlists and body["recommendations"]["strategy"] == body["strategy"]
    assert all(p["embed_url"].startswith("https://open.spotify.com/embed/playlist/") for p in playlists)


def test_running_twice_gives_one_result(model_app: Flask, face_jpeg: bytes) -> None:
    analysis_id = new_analysis(model_app, strategy="lift")
    assert run_task(model_app, analysis_id, face_jpeg) == "done"
    assert run_task(model_app, analysis_id, face_jpeg) == "skipped"
    with model_app.app_context():
        assert db.session.query(Face).count() == 1
        analysis = db.session.get(Analysis, uuid.UUID(analysis_id))
        assert analysis.attempts == 1
        assert analysis.recommendations["strategy"] == "lift"


def test_rerun_after_a_crash_replaces_partial_faces(model_app: Flask, face_jpeg: bytes) -> None:
    analysis_id = new_analysis(model_app)
    with model_app.app_context():
        # What a worker killed mid-task leaves behind: running, one attempt, a stray face.
        analysis = db.session.get(Analysis, uuid.UUID(analysis_id))
        analysis.status, analysis.stage, analysis.attempts = "running", "analysing", 1
        stray = Face(analysis_id=analysis.id, position=0, box_x=0, box_y=0, box_width=1, box_height=1,
                     emotion="Sad", confidence=1.0, is_primary=True)
        stray.set_probabilities([0, 0, 0, 0, 0, 1, 0])
        db.session.add(stray)
        db.session.commit()
    assert run_task(model_app, analysis_id, face_jpeg) == "done"
    with model_app.app_context():
        faces = db.session.query(Face).filter_by(analysis_id=uuid.UUID(analysis_id)).all()
        assert len(faces) == 1 and faces[0].box_width > 1
        assert db.session.get(Analysis, uuid.UUID(analysis_id)).attempts == 2


def test_gives_up_after_repeated_crashes(model_app: Flask, face_jpeg: bytes) -> None:
    analysis_id = new_analysis(model_app, attempts=3, status="running")
    assert run_task(model_app, analysis_id, face_jpeg) == "skipped"
    body = fetch(model_app, analysis_id)
    assert body["status"] == "failed" and body["error"]["code"] == "worker_lost"


def test_no_face_is_done_with_a_notice_and_no_emotion(model_app: Flask) -> None:
    analysis_id = new_analysis(model_app)
    assert run_task(model_app, analysis_id, background_jpeg()) == "done"
    body = fetch(model_app, analysis_id)
    assert body["status"] == "done"
    assert body["faces"] == [] and body["primary_emotion"] is None and body["confidence"] is None
    assert body["notice"]["code"] == "no_face"
    assert "face" in body["notice"]["message"] and body["notice"]["tips"]
    assert body["recommendations"] is None


def test_without_a_model_the_worker_refuses_clearly(tmp_path, face_jpeg: bytes) -> None:
    empty = tmp_path / "no-models"
    empty.mkdir()
    app = make_app(tmp_path / "instance", EMOTUNE_MODELS_DIR=str(empty))
    analysis_id = new_analysis(app)
    assert run_task(app, analysis_id, face_jpeg) == "failed"
    body = fetch(app, analysis_id)
    assert body["status"] == "failed" and body["stage"] == "failed"
    assert body["error"]["code"] == "model_unavailable"
    assert "EMOTUNE_MODEL_PATH" in body["error"]["message"] and "ml/models" in body["error"]["message"]
    assert body["faces"] == []


def test_missing_configured_model_names_the_path(tmp_path, face_jpeg: bytes) -> None:
    missing = tmp_path / "nowhere" / "mobilenetv2_x_1.tflite"
    app = make_app(tmp_path / "instance", EMOTUNE_MODEL_PATH=str(missing))
    analysis_id = new_analysis(app)
    assert run_task(app, analysis_id, face_jpeg) == "failed"
    body = fetch(app, analysis_id)
    assert body["error"]["code"] == "model_unavailable" and str(missing) in body["error"]["message"]


def test_deleted_analysis_is_skipped(model_app: Flask, face_jpeg: bytes) -> None:
    assert run_task(model_app, str(uuid.uuid4()), face_jpeg) == "skipped"
