"""Configuration from the environment: defaults, PostgreSQL/Redis switches, secrets, cookies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emotune import create_app
from emotune.config import SETTINGS, ConfigError, config_from_env, create_secret_key_file, normalise_database_url
from tests.conftest import app_overrides

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_embedded_defaults_use_files_in_the_instance_folder(tmp_path: Path) -> None:
    app = create_app(app_overrides(tmp_path / "instance"))
    instance = Path(app.instance_path)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'emotune.sqlite'}"
    assert app.config["CELERY"]["broker_url"] == f"sqlite:///{instance / 'broker.sqlite'}"
    # kombu's SQLAlchemy transport with a polling interval that reaches it (not create_engine)
    assert app.config["CELERY"]["broker_transport"] == "emotune.sqlite_transport:Transport"
    assert app.config["CELERY"]["broker_transport_options"] == {"polling_interval": 0.05}
    assert app.config["CELERY"]["result_backend"] == f"db+sqlite:///{instance / 'celery-results.sqlite'}"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    celery = app.extensions["celery"]
    assert celery.conf.task_acks_late and celery.conf.task_reject_on_worker_lost
    assert celery.conf.task_soft_time_limit < celery.conf.task_time_limit
    assert celery.conf.task_ignore_result
    assert {"emotune.tasks.analyse_selfie", "emotune.tasks.ping"} <= set(celery.tasks)


def test_database_and_redis_urls_switch_to_servers(tmp_path: Path) -> None:
    app = create_app(app_overrides(tmp_path / "instance", DATABASE_URL="postgresql://u@db:5432/emo",
                                   REDIS_URL="redis://cache:6379/2"))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db:5432/emo"
    assert app.config["CELERY"]["broker_url"] == "redis://cache:6379/2"
    assert app.config["CELERY"]["result_backend"] == "redis://cache:6379/2"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/2"
    # A killed worker's message comes back just past the hard limit, and is looked for every 5 s
    # (kombu's default scan runs every 10 x 10 s).
    options = app.config["CELERY"]["broker_transport_options"]
    assert options["visibility_timeout"] == app.config["EMOTUNE_TASK_HARD_LIMIT_S"] + 15
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= 5


def test_environment_variables_are_read() -> None:
    config = config_from_env({"SECRET_KEY": "s", "MAX_CONTENT_LENGTH": "1234", "EMOTUNE_LITERT_THREADS": "3",
                              "SPOTIFY_TIMEOUT_S": "2.5", "SESSION_COOKIE_SECURE": "false"})
    assert config["SECRET_KEY"] == "s" and config["MAX_CONTENT_LENGTH"] == 1234
    assert config["EMOTUNE_LITERT_THREADS"] == 3 and config["SPOTIFY_TIMEOUT_S"] == 2.5
    assert config["SESSION_COOKIE_SECURE"] is False


def test_bad_numbers_are_a_clear_startup_error() -> None:
    with pytest.raises(ConfigError, match="MAX_CONTENT_LENGTH must be a whole number"):
        config_from_env({"MAX_CONTENT_LENGTH": "ten megabytes"})


def test_postgres_urls_use_psycopg3() -> None:
    assert normalise_database_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_secret_key_is_required_outside_debug(tmp_path: Path) -> None:
    overrides = app_overrides(tmp_path / "instance", TESTING=False, SECRET_KEY=None)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set") as error:
        create_app(overrides)
    assert "secrets.token_hex" in str(error.value) and "emotune" in str(error.value)


def test_generated_instance_secret_key_is_used_and_private(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    key, created = create_secret_key_file(instance)
    assert created and len(key) == 64
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0
    assert create_secret_key_file(instance) == (key, False)
    app = create_app(app_overrides(instance, TESTING=False, SECRET_KEY=None))
    assert app.config["SECRET_KEY"] == key


def test_cookies_are_secure_by_default() -> None:
    config = config_from_env({})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_session_cookie_flags_on_a_response(tmp_path: Path, csrf_headers) -> None:
    app = create_app(app_overrides(tmp_path / "instance", SESSION_COOKIE_SECURE=True))
    response = app.test_client().get("/api/csrf")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_env_example_documents_exactly_the_settings_read() -> None:
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (REPO_ROOT / ".env.example").read_text(), re.M))
    assert documented == {setting.name for setting in SETTINGS}


def test_each_setting_has_one_default_used_when_unset_or_blank() -> None:
    unset, blank = config_from_env({}), config_from_env({s.name: "  " for s in SETTINGS})
    for setting in SETTINGS:
        assert unset[setting.name] == blank[setting.name] == setting.default, setting.name
        assert setting.doc, f"{setting.name} has no description"


def test_bad_booleans_are_a_clear_startup_error() -> None:
    with pytest.raises(ConfigError, match="SESSION_COOKIE_SECURE must be true or false"):
        config_from_env({"SESSION_COOKIE_SECURE": "maybe"})


def test_instance_path_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMOTUNE_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    overrides = app_overrides(tmp_path)
    del overrides["INSTANCE_PATH"]
    assert create_app(overrides).instance_path == str(tmp_path / "elsewhere")


def test_flaskenv_names_the_app_and_env_is_ignored() -> None:
    assert "FLASK_APP=emotune" in (REPO_ROOT / ".flaskenv").read_text()
    assert ".env" in (REPO_ROOT / ".gitignore").read_text().split()


def test_debug_runs_without_a_secret_key_using_a_throwaway_one(tmp_path: Path) -> None:
    app = create_app(app_overrides(tmp_path / "instance", TESTING=False, DEBUG=True, SECRET_KEY=None))
    assert app.debug and len(app.config["SECRET_KEY"]) == 64
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_worker_memory_guard_replaces_pool_processes_above_the_setting(tmp_path: Path) -> None:
    default = create_app(app_overrides(tmp_path / "a")).extensions["celery"].conf
    assert default.worker_max_memory_per_child == 600 * 1024  # Celery counts KiB
    raised = create_app(app_overrides(tmp_path / "b", EMOTUNE_WORKER_MAX_MEMORY_MB=900)).extensions["celery"].conf
    assert raised.worker_max_memory_per_child == 900 * 1024
