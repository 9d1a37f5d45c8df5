"""/metrics: who may read it (the rule of /readyz's detail) and what it counts after a few analyses."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

from emotune import lifecycle
from emotune.extensions import db
from emotune.models import Analysis
from recommender.seed import seed_catalogue
from tests.conftest import make_app
from tests.recognizer.photos import photo
from tests.service.test_api_group import four_faces
from tests.service.test_tasks import new_analysis

READYZ_TOKEN = "metrics-test-token"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def metrics_app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path / "instance", EMOTUNE_READYZ_TOKEN=READYZ_TOKEN, EMOTUNE_READY_PING_TIMEOUT_S=0.1)
    with app.app_context():
        seed_catalogue(db.session)
    return app


def scrape(client: FlaskClient) -> Samples:
    """Every sample of /metrics by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


CLIENTS = {
    "loopback": ({}, {}),
    "another host": ({"REMOTE_ADDR": "203.0.113.7"}, {}),
    "relayed by a proxy": ({}, {"X-Forwarded-For": "203.0.113.7"}),
    "another host with the token": ({"REMOTE_ADDR": "203.0.113.7"}, {"Authorization": f"Bearer {READYZ_TOKEN}"}),
    "another host with a wrong token": ({"REMOTE_ADDR": "203.0.113.7"}, {"Authorization": "Bearer nope"}),
}


@pytest.mark.parametrize("who", sorted(CLIENTS))
def test_metrics_are_shown_to_whoever_sees_readiness_detail(metrics_app: Flask, who: str) -> None:
    environ, headers = CLIENTS[who]
    client = metrics_app.test_client()
    readyz = client.get("/readyz", environ_base=environ, headers=headers)
    metrics = client.get("/metrics", environ_base=environ, headers=headers)
    sees_detail = "checks" in readyz.get_json()
    assert sees_detail == (who in {"loopback", "another host with the token"})
    if sees_detail:
        assert metrics.status_code == 200 and b"emotune_uploads_total" in metrics.data
    else:
        assert metrics.status_code == 403
        assert metrics.get_json()["error"]["code"] == "metrics_forbidden"
        assert b"emotune_" not in metrics.data


def jpeg() -> bytes:
    out = io.BytesIO()
    photo([], size=(320, 240)).save(out, "JPEG", quality=85)
    return out.getvalue()


def run_to_done(app: Flask) -> str:
    """A queued analysis taken by a worker (claimed), recognised (four faces), given music and done."""
    analysis_id = new_analysis(app)
    with app.app_context():
        analysis = lifecycle.claim(uuid.UUID(analysis_id))
        assert analysis is not None
        lifecycle.record_recognition(analysis, four_faces(), "mobilenetv2_test_1", "abc")
        lifecycle.record_music(analysis)
        lifecycle.finish(analysis)
    return analysis_id


def test_uploads_rejections_and_finished_analyses_are_counted(metrics_app: Flask) -> None:
    client = metrics_app.test_client()
    headers = {"X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}
    before = scrape(client)
    for _ in range(2):
        accepted = client.post("/api/analyses", data={"image": (io.BytesIO(jpeg()), "selfie.jpg")}, headers=headers)
        assert accepted.status_code == 202
    empty = client.post("/api/analyses", data={"image": (io.BytesIO(b""), "selfie.jpg")}, headers=headers)
    text = client.post("/api/analyses", data={"image": (io.BytesIO(b"hello"), "selfie.jpg")}, headers=headers)
    no_token = client.post("/api/analyses", data={"image": (io.BytesIO(jpeg()), "selfie.jpg")})
    assert (empty.status_code, text.status_code, no_token.status_code) == (400, 400, 400)
    for _ in range(3):
        run_to_done(metrics_app)
    failed_id = new_analysis(metrics_app)
    with metrics_app.app_context():
        failed = db.session.get(Analysis, uuid.UUID(failed_id))
        assert lifecycle.claim(failed.id) is not None
        lifecycle.fail(failed, "model_unavailable", "No model.")
        rolled_back = db.session.get(Analysis, uuid.UUID(new_analysis(metrics_app)))
        rolled_back.status = "failed"
        db.session.flush()
        db.session.rollback()  # an end that was never committed is not counted

    after = scrape(client)
    assert delta(before, after, "emotune_uploads_total") == 2
    assert delta(before, after, "emotune_upload_rejections_total", code="empty_file") == 1
    assert delta(before, after, "emotune_upload_rejections_total", code="not_an_image") == 1
    assert delta(before, after, "emotune_upload_rejections_total", code="csrf_failed") == 1
    assert delta(before, after, "emotune_analyses_finished_total", status="done", code="none") == 3
    assert delta(before, after, "emotune_analyses_finished_total", status="failed", code="model_unavailable") == 1
    assert delta(before, after, "emotune_analyses_finished_total", status="failed", code="none") == 0
    # Queue waits of all four that a worker took; stages and faces of the three done.
    assert delta(before, after, "emotune_analysis_queue_wait_seconds_count") == 4
    for stage in ("decode", "recommend"):
        assert delta(before, after, "emotune_analysis_stage_seconds_count", stage=stage) == 3
    assert delta(before, after, "emotune_analysis_stage_seconds_count", stage="queue") == 0
    assert delta(before, after, "emotune_faces_per_photo_count") == 3
    assert delta(before, after, "emotune_faces_per_photo_sum") == 12
    assert delta(before, after, "emotune_faces_per_photo_bucket", le="3.0") == 0
    assert delta(before, after, "emotune_faces_per_photo_bucket", le="4.0") == 3


def test_the_recognizers_cpu_is_counted(model_app: Flask, face_jpeg: bytes) -> None:
    import time

    from tests.service.test_tasks import run_task

    client = model_app.test_client()
    before = scrape(client)
    analysis_id = new_analysis(model_app)
    started = time.process_time()
    assert run_task(model_app, analysis_id, face_jpeg) == "done"
    used = time.process_time() - started
    counted = delta(before, scrape(client), "emotune_recognizer_cpu_seconds_total")
    # Part of the run's CPU, not its wall time and not all of it (claim, music, commit are not the recognizer's).
    assert 0 < counted < used
