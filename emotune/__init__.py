"""EmoTune: a selfie in, the emotion on each face and Spotify playlists that fit out.

``create_app`` is the Flask application factory; gunicorn serves ``emotune:create_app()`` and the
worker (``celery -A worker worker``) builds the same app for its tasks.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask.cli import load_dotenv

from emotune.config import (
    MISSING_SECRET_KEY,
    ConfigError,
    config_from_env,
    derived_config,
    load_secret_key,
)

log = logging.getLogger(__name__)

# Absolute, so `flask db ...`, `emotune` and tests work from any working directory.
MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")


def create_app(config_overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app: config from the environment (then ``config_overrides``), extensions, routes."""
    # gunicorn and the Celery worker do not go through the flask CLI, which loads these itself.
    load_dotenv()
    overrides = config_overrides or {}
    settings = config_from_env()
    instance_path = overrides.get("INSTANCE_PATH") or settings["EMOTUNE_INSTANCE_PATH"]
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(settings)
    app.config.from_mapping(overrides)
    app.config.from_mapping(derived_config(app.config, app.instance_path))
    _require_secret_key(app)

    from emotune.extensions import celery_init_app, csrf, db, limiter, migrate, use_sqlite_wal

    db.init_app(app)
    with app.app_context():
        use_sqlite_wal(db.engine)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    celery_init_app(app)

    from emotune import models  # noqa: F401  (tables must be known before migrations run)
    from emotune import api, health, http, metrics_http, pages, security, spotify_auth

    app.register_blueprint(api.bp, url_prefix="/api")
    app.register_blueprint(pages.bp)
    app.register_blueprint(spotify_auth.bp)
    app.register_blueprint(health.bp)
    api.errors.register_error_handlers(app)
    security.init_app(app)
    http.init_app(app)
    metrics_http.init_app(app)

    from emotune.cli import register_commands

    register_commands(app)
    return app


def _require_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    stored = load_secret_key(app.instance_path)
    if stored:
        app.config["SECRET_KEY"] = stored
        return
    if app.debug or app.testing:
        # Debug/testing only: sessions reset on every restart, which is fine there.
        app.config["SECRET_KEY"] = os.urandom(32).hex()
        log.warning("SECRET_KEY not set; using a throw-away key (debug/testing only).")
        return
    raise ConfigError(MISSING_SECRET_KEY)
