"""Migrations and models agree, and the schema goes up and down on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import inspect

from emotune.extensions import db
from tests.conftest import make_app

APP_TABLES = {"analyses", "faces", "playlists", "playlist_links", "mood_profiles", "feedback", "spotify_tokens",
              "catalogue_state"}


def differences(app: Flask) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(context, db.metadata)


def test_models_and_migrations_agree_on_sqlite(app: Flask) -> None:
    assert differences(app) == []


def test_models_and_migrations_agree_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    app = make_app(tmp_path / "instance", DATABASE_URL=pg_url)
    assert differences(app) == []
    with app.app_context():
        db.engine.dispose()


def test_upgrade_then_downgrade_base_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    from flask_migrate import downgrade, upgrade

    from emotune import create_app
    from tests.conftest import app_overrides

    app = create_app(app_overrides(tmp_path / "instance", DATABASE_URL=pg_url))
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        assert APP_TABLES <= set(inspect(db.engine).get_table_names())
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_flask_db_upgrade_command_on_sqlite(tmp_path: Path) -> None:
    from emotune import create_app
    from tests.conftest import app_overrides

    app = create_app(app_overrides(tmp_path / "instance"))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert APP_TABLES <= set(inspect(db.engine).get_table_names())
    result = app.test_cli_runner().invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert not APP_TABLES & set(inspect(db.engine).get_table_names())


@pytest.mark.parametrize("name", ["alembic.ini", "env.py", "script.py.mako"])
def test_migration_environment_is_committed(name: str) -> None:
    assert (Path(__file__).resolve().parents[2] / "migrations" / name).is_file()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_stage_constraint_allows_only_the_stages_a_run_goes_through(tmp_path: Path, pg_url: str, backend: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from emotune import create_app
    from emotune.models import Stage
    from tests.conftest import app_overrides

    extra = {"DATABASE_URL": pg_url} if backend == "postgresql" else {}
    app = create_app(app_overrides(tmp_path / "instance", **extra))
    with app.app_context():
        upgrade()
        insert = text("INSERT INTO analyses (id, status, stage, attempts, faces_left_out, created_at, updated_at) "
                      "VALUES (:id, 'queued', :stage, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
        for stage in Stage:
            db.session.execute(insert, {"id": uuid.uuid4().hex, "stage": stage.value})
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(insert, {"id": uuid.uuid4().hex, "stage": "choosing_music"})
            db.session.commit()
        db.session.rollback()
        db.engine.dispose()


FACE_COLUMNS = ", ".join(f"p_{name}" for name in ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"))


def _data_app(tmp_path: Path) -> Flask:
    """An app on a fresh SQLite database, for migrations that carry rows."""
    from emotune import create_app
    from tests.conftest import app_overrides

    return create_app(app_overrides(tmp_path / "instance"))


def test_stored_analyses_get_their_music_choice_and_group_reading(tmp_path: Path) -> None:
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    app, analysis_id, columns = _data_app(tmp_path), uuid.uuid4().hex, FACE_COLUMNS
    with app.app_context():
        upgrade(revision="d5e2f8a31c07")
        db.session.execute(text(
            "INSERT INTO analyses (id, status, stage, strategy, attempts, faces_left_out, primary_emotion, created_at, "
            "updated_at) VALUES (:id, 'done', 'done', 'calm', 1, 0, 'Happy', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            {"id": analysis_id})
        for position, happy in enumerate((0.9, 0.8)):
            db.session.execute(text(
                f"INSERT INTO faces (analysis_id, position, box_x, box_y, box_width, box_height, {columns}, emotion, "
                f"confidence, is_primary) VALUES (:id, :position, 0, 0, 200, 200, 0.02, 0.02, 0.02, :happy, :rest, "
                f"0.02, 0.02, 'Happy', :happy, :primary)"),
                {"id": analysis_id, "position": position, "happy": happy, "rest": 0.9 - happy, "primary": position == 0})
        db.session.commit()
        upgrade()
        music, group = db.session.execute(text("SELECT music, group_reading FROM analyses")).one()
        music, group = json.loads(music), json.loads(group)
        assert (music["emotion"], music["follows"], music["strategy"], music["chosen_by"]) == ("Happy", "group", "calm", "you")
        assert group["emotion"] == "Happy" and group["faces_read"] == 2
        downgrade(revision="d5e2f8a31c07")
        assert db.session.execute(text("SELECT primary_emotion FROM analyses")).scalar_one() == "Happy"
        db.engine.dispose()


def test_a_corrected_analysis_keeps_the_said_music_and_its_reading(tmp_path: Path) -> None:
    import flask_migrate
    from sqlalchemy import text

    analysis_id = uuid.uuid4().hex
    with _data_app(tmp_path).app_context():
        flask_migrate.upgrade(revision="d5e9f2a3b716")
        db.session.execute(text(
            "INSERT INTO analyses (id, status, stage, attempts, faces_left_out, primary_emotion, said_emotion, "
            "recommendations, created_at, updated_at) VALUES (:id, 'done', 'done', 1, 0, 'Neutral', 'Sad', :recs, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            {"id": analysis_id, "recs": json.dumps({"strategy": "calm", "chosen_by": "you", "playlists": []})})
        db.session.execute(text(
            f"INSERT INTO faces (analysis_id, position, box_x, box_y, box_width, box_height, {FACE_COLUMNS}, emotion, "
            f"confidence, is_primary) VALUES (:id, 0, 0, 0, 200, 200, 0.02, 0.02, 0.02, 0.02, 0.86, 0.04, 0.02, "
            f"'Neutral', 0.86, true)"), {"id": analysis_id})
        db.session.commit()
        flask_migrate.upgrade()
        music = json.loads(db.session.execute(text("SELECT music FROM analyses")).scalar_one())
        # The music follows what the person said, under the strategy they asked for with the correction.
        assert (music["emotion"], music["follows"], music["strategy"], music["chosen_by"]) == ("Sad", "said", "calm", "you")
        flask_migrate.downgrade(revision="d5e9f2a3b716")
        # Back down, primary_emotion is the reading again, not the said emotion.
        assert db.session.execute(text("SELECT primary_emotion FROM analyses")).scalar_one() == "Neutral"
        db.engine.dispose()
