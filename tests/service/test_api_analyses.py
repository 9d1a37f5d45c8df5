"""The analyses API around the queue: create, poll, stuck detection, re-rank, feedback, history, delete."""

from __future__ import annotations

import io
import json
import sqlite3
import uuid
from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from emotune.extensions import db
from emotune.models import Analysis, utcnow
from emotune.tasks import analyse_selfie
from tests.conftest import make_app
from tests.service.test_tasks import run_task


def post_photo(client: FlaskClient, image: bytes, **form: str):
    token = client.get("/api/csrf").get_json()["csrf_token"]
    data = {"image": (io.BytesIO(image), "selfie.jpg"), **form}
    return client.post("/api/analyses", data=data, headers={"X-CSRFToken": token},
                       content_type="multipart/form-data")


def broker_messages(app: Flask) -> list[dict]:
    path = Path(app.instance_path) / "broker.sqlite"
    with sqlite3.connect(path) as conn:
        return [json.loads(row[0]) for row in conn.execute("SELECT payload FROM kombu_message")]


def test_post_queues_the_analysis_and_sends_the_selfie_in_the_task_message(app: Flask, client: FlaskClient,
                                                                           face_jpeg: bytes) -> None:
    response = post_photo(client, face_jpeg, strategy="calm")
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "queued" and uuid.UUID(body["id"])
    assert response.headers["Location"] == body["url"] == f"/api/analyses/{body['id']}"
    with app.app_context():
        analysis = db.session.get(Analysis, uuid.UUID(body["id"]))
        assert (analysis.status, analysis.stage, analysis.strategy) == ("queued", "queued", "calm")
    messages = broker_messages(app)
    assert len(messages) == 1
    headers = messages[0]["headers"]
    assert headers["task"] == analyse_selfie.name == "emotune.tasks.analyse_selfie"
    assert "selfie omitted" in headers["argsrepr"]
    assert app.config["EMOTUNE_QUEUE"] in json.dumps(messages[0]["properties"])


def test_selfie_is_not_written_to_the_database(app: Flask, client: FlaskClient, face_jpeg: bytes) -> None:
    assert post_photo(client, face_jpeg).status_code == 202
    stored = (Path(app.instance_path) / "emotune.sqlite").read_bytes()
    for needle in (face_jpeg[200:264], face_jpeg[-264:-200]):
        assert needle not in stored


def test_get_queued_analysis_has_the_documented_shape(client: FlaskClient, face_jpeg: bytes) -> None:
    url = post_photo(client, face_jpeg).get_json()["url"]
    body = client.get(url).get_json()
    assert set(body) >= {"id", "status", "stage", "created_at", "updated_at", "strategy", "error", "notice",
                         "model", "timings_ms", "image", "faces", "primary_emotion", "confidence",
                         "recommendations"}
    assert body["status"] == "queued" and body["faces"] == [] and body["error"] is None
    assert body["notice"] is None  # not waiting long yet


def test_long_queued_analysis_says_why_it_waits(tmp_path: Path, face_jpeg: bytes) -> None:
    app = make_app(tmp_path / "instance", EMOTUNE_QUEUE_NOTICE_S=0)
    client = app.test_client()
    url = post_photo(client, face_jpeg).get_json()["url"]
    body = client.get(url).get_json()
    assert body["status"] == "queued"
    assert body["notice"]["code"] == "waiting_for_worker"
    assert "celery -A worker worker" in body["notice"]["message"]


def test_running_past_the_hard_limit_is_marked_worker_lost(app: Flask, client: FlaskClient,
                                                          face_jpeg: bytes) -> None:
    url = post_photo(client, face_jpeg).get_json()["url"]
    analysis_id = uuid.UUID(url.rsplit("/", 1)[1])
    with app.app_context():
        analysis = db.session.get(Analysis, analysis_id)
        analysis.status, analysis.stage = "running", "analysing"
        analysis.started_at = utcnow() - timedelta(seconds=app.config["EMOTUNE_TASK_HARD_LIMIT_S"] + 5)
        db.session.commit()
    assert client.get(url).get_json()["status"] == "running"  # still within the margin
    with app.app_context():
        analysis = db.session.get(Analysis, analysis_id)
        analysis.started_at = utcnow() - timedelta(seconds=app.config["EMOTUNE_TASK_HARD_LIMIT_S"] + 60)
        db.session.commit()
    body = client.get(url).get_json()
    assert body["status"] == "failed" and body["stage"] == "failed"
    assert body["error"]["code"] == "worker_lost" and "try again" in body["error"]["message"]


def test_a_poll_writes_nothing_and_the_sweep_records_what_it_showed(app: Flask, client: FlaskClient,
                                                                   face_jpeg: bytes) -> None:
    from sqlalchemy import event, update

    from emotune import recovery

    url = post_photo(client, face_jpeg).get_json()["url"]
    analysis_id = uuid.UUID(url.rsplit("/", 1)[1])
    long_ago = utcnow() - timedelta(seconds=app.config["EMOTUNE_TASK_HARD_LIMIT_S"] + 60)
    with app.app_context():
        db.session.execute(update(Analysis).where(Analysis.id == analysis_id)
                           .values(status="running", stage="analysing", started_at=long_ago))
        db.session.commit()
        engine = db.engine
    statements: list[str] = []
    record = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", record)
    try:
        shown = client.get(url).get_json()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements, "the poll read the analysis"
    writes = [s for s in statements if s.split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}]
    assert writes == []
    assert shown["status"] == "failed" and shown["error"]["code"] == "worker_lost"
    with app.test_request_context():
        assert db.session.get(Analysis, analysis_id).status == "running"
        assert recovery.sweep(app.config["EMOTUNE_QUEUE"]).stuck == 1
    assert client.get(url).get_json()["error"] == shown["error"]


def test_queue_unreachable_gives_503_and_a_failed_analysis(tmp_path: Path, face_jpeg: bytes) -> None:
    app = make_app(tmp_path / "instance", REDIS_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    response = post_photo(client, face_jpeg)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "queue_unavailable"
    with app.app_context():
        (analysis,) = db.session.query(Analysis).all()
        assert analysis.status == "failed" and analysis.error_code == "queue_unavailable"


def done_analysis(app: Flask, client: FlaskClient, image: bytes) -> str:
    url = post_photo(client, image).get_json()["url"]
    analysis_id = url.rsplit("/", 1)[1]
    assert run_task(app, analysis_id, image) == "done"
    return url


def test_recommendations_rerank_without_a_new_photo(model_app: Flask, face_jpeg: bytes) -> None:
    client = model_app.test_client()
    url = done_analysis(model_app, client, face_jpeg)
    for strategy in ("match", "lift", "calm"):
        body = client.get(f"{url}/recommendations?strategy={strategy}").get_json()
        assert body["strategy"] == strategy and body["playlists"]
    bad = client.get(f"{url}/recommendations?strategy=loud")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "unknown_strategy"


def test_recommendations_of_an_unfinished_analysis_is_409(app: Flask, client: FlaskClient, face_jpeg: bytes) -> None:
    url = post_photo(client, face_jpeg).get_json()["url"]
    response = client.get(f"{url}/recommendations")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "not_ready"


def test_feedback_is_stored_and_validated(model_app: Flask, face_jpeg: bytes) -> None:
    from recommender.models import Feedback

    client = model_app.test_client()
    url = done_analysis(model_app, client, face_jpeg)
    analysis = client.get(url).get_json()
    playlist = analysis["recommendations"]["playlists"][0]["spotify_id"]
    headers = {"X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}
    ok = client.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "up"}, headers=headers)
    assert ok.status_code == 201
    assert ok.get_json()["emotion"] == analysis["primary_emotion"]
    with model_app.app_context():
        (vote,) = db.session.query(Feedback).all()
        assert vote.vote == 1 and vote.strategy == analysis["recommendations"]["strategy"]
    bad_vote = client.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "meh"}, headers=headers)
    assert bad_vote.status_code == 400 and bad_vote.get_json()["error"]["code"] == "invalid_vote"
    unknown = client.post(f"{url}/feedback", json={"playlist_id": "nope", "vote": "down"}, headers=headers)
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "unknown_playlist"
    malformed = client.post(f"{url}/feedback", data="x", headers=headers)
    assert malformed.status_code == 400 and malformed.get_json()["error"]["code"] == "invalid_feedback"
    no_token = client.post(f"{url}/feedback", json={"playlist_id": playlist, "vote": "up"})
    assert no_token.status_code == 400 and no_token.get_json()["error"]["code"] == "csrf_failed"


def test_history_is_per_browser_and_deletable(app: Flask, face_jpeg: bytes) -> None:
    mine, theirs = app.test_client(), app.test_client()
    first = post_photo(mine, face_jpeg).get_json()["id"]
    second = post_photo(mine, face_jpeg).get_json()["id"]
    other = post_photo(theirs, face_jpeg).get_json()["id"]
    ids = [item["id"] for item in mine.get("/api/history").get_json()["analyses"]]
    assert set(ids) == {first, second} and other not in ids
    headers = {"X-CSRFToken": mine.get("/api/csrf").get_json()["csrf_token"]}
    # Someone else's analysis cannot be deleted from this browser.
    refused = mine.delete(f"/api/analyses/{other}", headers=headers)
    assert refused.status_code == 404
    assert mine.delete(f"/api/analyses/{first}", headers=headers).status_code == 204
    assert mine.get(f"/api/analyses/{first}").status_code == 404
    assert [i["id"] for i in mine.get("/api/history").get_json()["analyses"]] == [second]
    assert mine.delete("/api/history", headers=headers).status_code == 204
    assert mine.get("/api/history").get_json()["analyses"] == []
    assert theirs.get(f"/api/analyses/{other}").status_code == 200


def test_consent_is_remembered_in_the_session(client: FlaskClient, csrf_headers: dict[str, str]) -> None:
    assert client.post("/api/consent").status_code == 400  # no CSRF token
    assert client.post("/api/consent", headers=csrf_headers).status_code == 204
    with client.session_transaction() as session:
        assert session["consent"] is True
