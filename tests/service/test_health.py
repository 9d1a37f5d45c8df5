"""Liveness and readiness without a worker: what is missing is said, with 503."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import make_app


def test_healthz_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_without_worker_or_model_is_503_with_reasons(tmp_path: Path) -> None:
    empty = tmp_path / "models"
    empty.mkdir()
    app = make_app(tmp_path / "instance", EMOTUNE_MODELS_DIR=str(empty), EMOTUNE_READY_PING_TIMEOUT_S=0.5)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not_ready"
    checks = body["checks"]
    assert checks["database"]["ok"] and checks["broker"]["ok"]
    assert not checks["worker"]["ok"] and "celery -A worker worker" in checks["worker"]["detail"]
    assert not checks["model"]["ok"] and "EMOTUNE_MODEL_PATH" in checks["model"]["detail"]


def test_readyz_reports_an_unreachable_broker(tmp_path: Path) -> None:
    app = make_app(tmp_path / "instance", REDIS_URL="redis://127.0.0.1:1/0")
    body = app.test_client().get("/readyz").get_json()
    assert body["checks"]["broker"]["ok"] is False and "unreachable" in body["checks"]["broker"]["detail"]
    assert body["checks"]["worker"]["ok"] is False


def test_readyz_reports_an_unreachable_database(tmp_path: Path) -> None:
    from emotune import create_app
    from tests.conftest import app_overrides

    broken = create_app(app_overrides(tmp_path / "other", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
                                      EMOTUNE_READY_PING_TIMEOUT_S=0.2))
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["database"]["ok"] is False


def test_health_endpoints_are_json_even_for_errors(app: Flask) -> None:
    response = app.test_client().post("/healthz")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


def test_a_malformed_served_pointer_is_a_missing_model_not_a_500(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "SERVED").write_text("../elsewhere/model.tflite\n", encoding="utf-8")
    app = make_app(tmp_path / "instance", EMOTUNE_MODELS_DIR=str(models), EMOTUNE_READY_PING_TIMEOUT_S=0.5)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    detail = response.get_json()["checks"]["model"]["detail"]
    assert "SERVED" in detail and "must hold one model file name" in detail and "EMOTUNE_MODEL_PATH" in detail
