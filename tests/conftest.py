"""Shared pytest fixtures: the app on embedded defaults, a client, real photos, a plan model, servers.

``app`` runs on a temporary instance folder (SQLite, migrated with Alembic). ``pg_url`` and
``redis_url`` point at the real local servers, isolated per test session (a fresh PostgreSQL
database; a unique Celery queue name and key prefix on Redis db 0).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from recognizer.emotions import EMOTIONS
from recognizer.preprocess import INPUT_SIZE, PREPROCESSING

from tests.prerequisites import REPO_ROOT, SHARED_DATA, missing, require_fer2013

DATA_DIR = SHARED_DATA
# Fixtures that need something from outside, and the marker a test using them gets, so that
# `-m "not postgres"` and the like select by what a test needs.
NEEDS: dict[str, str] = {
    "pg_url": "postgres",
    "redis_url": "redis",
    "plan_model_tflite": "tensorflow",
    "face_jpeg": "data",
    "fer2013_root": "data",
    "imagenet_weights": "data",
    "chromium_path": "browser",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test by what it needs (see NEEDS), read from the fixtures it uses."""
    for item in items:
        for fixture in getattr(item, "fixturenames", ()):
            if fixture in NEEDS:
                item.add_marker(NEEDS[fixture])
PG_ADMIN_URL = os.environ.get("EMOTUNE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_TEST_URL = os.environ.get("EMOTUNE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_name(prefix: str) -> str:
    """A name no other test session (or helper) uses at the same time."""
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def app_overrides(instance_path: Path, **extra: Any) -> dict[str, Any]:
    """Config for a test app: embedded defaults in ``instance_path``, whatever the environment says."""
    overrides: dict[str, Any] = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": None,
        "REDIS_URL": None,
        "EMOTUNE_MODEL_PATH": None,
        "EMOTUNE_QUEUE": unique_name("emotune_test"),
        "EMOTUNE_ANALYSES_RATE_LIMIT": "1000 per minute",
        "SESSION_COOKIE_SECURE": False,
    }
    overrides.update(extra)
    return overrides


def make_app(instance_path: Path, **extra: Any) -> Flask:
    """Build an app with ``app_overrides`` and apply every migration to its database."""
    from flask_migrate import upgrade

    from emotune import create_app

    app = create_app(app_overrides(instance_path, **extra))
    with app.app_context():
        upgrade()
    return app


def write_model_metadata(model_path: Path) -> Path:
    """The ``<stem>.json`` the recognizer checks before serving a model."""
    path = model_path.with_suffix(".json")
    path.write_text(
        json.dumps(
            {
                "name": model_path.stem,
                "classes": list(EMOTIONS),
                "input_shape": [INPUT_SIZE, INPUT_SIZE, 3],
                "preprocessing": PREPROCESSING,
                "note": "untrained plan-architecture model for tests",
            }
        ),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """The app on embedded defaults: temporary instance folder, migrated SQLite, no model."""
    app = make_app(tmp_path / "instance")
    yield app
    with app.app_context():
        from emotune.extensions import db

        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client (keeps cookies, so the session and CSRF token persist)."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A runner for the app's CLI commands."""
    return app.test_cli_runner()


@pytest.fixture
def csrf_headers(client: FlaskClient) -> dict[str, str]:
    """Headers carrying a valid CSRF token for ``client``'s session (as the page sends them)."""
    token = client.get("/api/csrf").get_json()["csrf_token"]
    return {"X-CSRFToken": token}


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    """A realistic photo: a FER2013 test face upscaled to 256 px on a 640x480 background, as JPEG."""
    require_fer2013()
    from tests.recognizer.photos import encode, one_face_photo

    return encode(one_face_photo(), "JPEG", quality=90)


@pytest.fixture(scope="session")
def plan_model_tflite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained model of the plan's architecture exported to LiteRT, with its metadata JSON."""
    import keras

    from ml.export import export_tflite
    from ml.model import build_model

    keras.utils.set_random_seed(7)
    directory = tmp_path_factory.mktemp("plan_model")
    path = export_tflite(build_model(weights=None).model, directory / "mobilenetv2_test_1.tflite")
    write_model_metadata(path)
    return path


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the local server, dropped after the test."""
    name = unique_name("emotune_test")
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        missing(f"PostgreSQL at {PG_ADMIN_URL} (not reachable: {exc})")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> str:
    """The local Redis (db 0); tests keep to themselves with unique queue names (``app_overrides``)."""
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        missing(f"Redis at {REDIS_TEST_URL} (not reachable: {exc})")
    return REDIS_TEST_URL
