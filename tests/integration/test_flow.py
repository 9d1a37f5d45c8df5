"""The real flow: a face photo in, a done analysis with 7 probabilities and playlists out.

Run twice: on the embedded defaults (SQLite files, kombu's SQLAlchemy transport, no server) with
the app in-process, and against the real Redis and PostgreSQL with gunicorn and
`celery -A worker worker` as separate processes. Also: stopping the worker while analyses are
queued and starting it again loses none of them.
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from recognizer.emotions import EMOTIONS
from tests.conftest import make_app
from tests.integration.conftest import http_session, poll_done
from tests.integration.processes import free_port, service_env, start_gunicorn, start_worker

pytestmark = pytest.mark.integration


def prepare_app(config: dict[str, str | None]) -> Flask:
    """Migrate and seed the database the processes will share; returns an in-process app on it."""
    from emotune.extensions import db
    from recommender.seed import seed_catalogue

    keys = ("EMOTUNE_QUEUE", "EMOTUNE_MODEL_PATH", "DATABASE_URL", "REDIS_URL", "SECRET_KEY")
    app = make_app(Path(config["EMOTUNE_INSTANCE_PATH"]), **{k: config.get(k) for k in keys},
                   EMOTUNE_READY_PING_TIMEOUT_S=10)
    with app.app_context():
        seed_catalogue(db.session)
    return app


def assert_good_result(body: dict[str, Any]) -> None:
    assert body["status"] == "done", body
    assert body["stage"] == "done" and body["error"] is None
    assert len(body["faces"]) >= 1
    probabilities = body["faces"][0]["probabilities"]
    assert list(probabilities) == list(EMOTIONS)
    assert math.isclose(sum(probabilities.values()), 1.0, abs_tol=1e-6)
    assert body["primary_emotion"] == body["faces"][0]["emotion"]
    assert body["model"]["name"] == "mobilenetv2_test_1"
    assert len(body["recommendations"]["playlists"]) >= 1


def broker_rows(instance: Path) -> int:
    with sqlite3.connect(instance / "broker.sqlite") as conn:
        return conn.execute("SELECT count(*) FROM kombu_message").fetchone()[0]


def test_embedded_defaults_flow(tmp_path: Path, service_config: dict[str, str | None], face_jpeg: bytes) -> None:
    import io
    import time

    app = prepare_app(service_config)
    worker = start_worker(service_env(service_config), tmp_path, service_config["EMOTUNE_QUEUE"])
    try:
        client = app.test_client()
        token = client.get("/api/csrf").get_json()["csrf_token"]
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        model_check = ready.get_json()["checks"]["model"]
        assert model_check["name"] == "mobilenetv2_test_1"
        # Loaded in a forked pool child, never in the worker's parent process.
        assert "worker process" in model_check["detail"]
        assert f"process {worker.process.pid}" not in model_check["detail"]
        started = time.monotonic()
        response = client.post("/api/analyses", data={"image": (io.BytesIO(face_jpeg), "me.jpg")},
                               headers={"X-CSRFToken": token}, content_type="multipart/form-data")
        assert response.status_code == 202
        body = poll_done(lambda: client.get(response.headers["Location"]).get_json())
        print(f"embedded: done in {time.monotonic() - started:.2f} s, timings {body['timings_ms']}")
        assert_good_result(body)
        # The selfie travelled in a broker row; once consumed, that row is deleted.
        instance = Path(service_config["EMOTUNE_INSTANCE_PATH"])
        deadline = time.monotonic() + 10
        while broker_rows(instance) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert broker_rows(instance) == 0
    finally:
        worker.stop()


def test_redis_postgres_flow_with_gunicorn_and_worker(tmp_path: Path, service_config: dict[str, str | None],
                                                      pg_url: str, redis_url: str, face_jpeg: bytes) -> None:
    import time

    config = {**service_config, "DATABASE_URL": pg_url, "REDIS_URL": redis_url}
    app = prepare_app(config)
    port = free_port()
    env = service_env(config)
    web = start_gunicorn(env, tmp_path, port)
    worker = start_worker(env, tmp_path, config["EMOTUNE_QUEUE"])
    base = f"http://127.0.0.1:{port}"
    try:
        session, headers = http_session(base)
        ready = session.get(f"{base}/readyz", timeout=30)
        assert ready.status_code == 200, ready.text
        assert "redis" in ready.json()["checks"]["broker"]["detail"]
        assert "postgresql" in ready.json()["checks"]["database"]["detail"]
        started = time.monotonic()
        response = session.post(f"{base}/api/analyses", files={"image": ("me.jpg", face_jpeg, "image/jpeg")},
                                data={"strategy": "lift"}, headers=headers, timeout=30)
        assert response.status_code == 202, response.text
        body = poll_done(lambda: session.get(base + response.headers["Location"], timeout=10).json())
        print(f"redis+postgres: done in {time.monotonic() - started:.2f} s, timings {body['timings_ms']}")
        assert_good_result(body)
        assert body["recommendations"]["strategy"] == "lift"
        history = session.get(f"{base}/api/history", timeout=10).json()["analyses"]
        assert [item["id"] for item in history] == [body["id"]]
    finally:
        worker.stop()
        web.stop()
        with app.app_context():
            from emotune.extensions import db

            db.engine.dispose()


@pytest.mark.parametrize("servers", ["embedded", "redis_postgres"])
def test_stopping_the_worker_while_queued_loses_nothing(request: pytest.FixtureRequest, tmp_path: Path,
                                                        service_config: dict[str, str | None], face_jpeg: bytes,
                                                        servers: str) -> None:
    import io

    config = dict(service_config)
    if servers == "redis_postgres":
        config.update(DATABASE_URL=request.getfixturevalue("pg_url"),
                      REDIS_URL=request.getfixturevalue("redis_url"))
    app = prepare_app(config)
    client = app.test_client()
    token = client.get("/api/csrf").get_json()["csrf_token"]

    def post() -> str:
        response = client.post("/api/analyses", data={"image": (io.BytesIO(face_jpeg), "me.jpg")},
                               headers={"X-CSRFToken": token}, content_type="multipart/form-data")
        assert response.status_code == 202
        return response.headers["Location"]

    env = service_env(config)
    queue = config["EMOTUNE_QUEUE"]
    # A worker runs, then is stopped (warm shutdown) while analyses keep arriving.
    worker = start_worker(env, tmp_path, queue)
    urls = [post() for _ in range(3)]
    assert worker.stop() == 0
    urls += [post() for _ in range(3)]
    statuses = [client.get(url).get_json()["status"] for url in urls]
    assert statuses.count("queued") >= 3, statuses
    # A new worker picks up everything that was left.
    worker = start_worker(env, tmp_path, queue)
    try:
        results = [poll_done(lambda url=url: client.get(url).get_json()) for url in urls]
    finally:
        worker.stop()
    for body in results:
        assert_good_result(body)
    with app.app_context():
        from emotune.extensions import db

        db.engine.dispose()
