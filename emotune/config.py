"""Configuration read from the environment (python-dotenv fills it from .flaskenv/.env).

Every key here is documented in ``.env.example``. Flask config keys have the same names as the
environment variables. Defaults are the embedded setup: SQLite files in the instance folder and no
server process; ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

DEFAULT_MAX_CONTENT_LENGTH = 10 * 1024 * 1024
SECRET_KEY_FILE = "secret_key"


class ConfigError(RuntimeError):
    """Raised at startup when the configuration cannot work; the message says what to set."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}.") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}.") from exc


def normalise_database_url(url: str) -> str:
    """Point plain ``postgres://``/``postgresql://`` URLs at the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def config_from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the Flask config built from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    redis_url = env.get("REDIS_URL", "").strip() or None
    database_url = env.get("DATABASE_URL", "").strip()
    return {
        "SECRET_KEY": env.get("SECRET_KEY", "").strip() or None,
        "DATABASE_URL": database_url or None,
        "REDIS_URL": redis_url,
        "EMOTUNE_MODEL_PATH": env.get("EMOTUNE_MODEL_PATH", "").strip() or None,
        "EMOTUNE_MODELS_DIR": env.get("EMOTUNE_MODELS_DIR", "").strip()
        or str(Path(__file__).resolve().parent.parent / "ml" / "models"),
        "EMOTUNE_LITERT_THREADS": _int(env, "EMOTUNE_LITERT_THREADS", 1),
        "EMOTUNE_QUEUE": env.get("EMOTUNE_QUEUE", "").strip() or "emotune",
        "EMOTUNE_TASK_SOFT_LIMIT_S": _int(env, "EMOTUNE_TASK_SOFT_LIMIT_S", 30),
        "EMOTUNE_TASK_HARD_LIMIT_S": _int(env, "EMOTUNE_TASK_HARD_LIMIT_S", 45),
        "EMOTUNE_QUEUE_NOTICE_S": _int(env, "EMOTUNE_QUEUE_NOTICE_S", 20),
        "EMOTUNE_READY_PING_TIMEOUT_S": _float(env, "EMOTUNE_READY_PING_TIMEOUT_S", 3.0),
        "EMOTUNE_ANALYSES_RATE_LIMIT": env.get("EMOTUNE_ANALYSES_RATE_LIMIT", "").strip()
        or "30 per minute",
        "MAX_CONTENT_LENGTH": _int(env, "MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH),
        "SPOTIFY_CLIENT_ID": env.get("SPOTIFY_CLIENT_ID", "").strip() or None,
        "SPOTIFY_CLIENT_SECRET": env.get("SPOTIFY_CLIENT_SECRET", "").strip() or None,
        "SPOTIFY_REDIRECT_URI": env.get("SPOTIFY_REDIRECT_URI", "").strip() or None,
        "SPOTIFY_API_BASE": env.get("SPOTIFY_API_BASE", "").strip() or "https://api.spotify.com/v1/",
        "SPOTIFY_ACCOUNTS_BASE": env.get("SPOTIFY_ACCOUNTS_BASE", "").strip()
        or "https://accounts.spotify.com/",
        "SPOTIFY_TIMEOUT_S": _float(env, "SPOTIFY_TIMEOUT_S", 5.0),
        # Cookies: HTTPS-only by default; the embedded `serve` command (plain http on localhost)
        # turns this off explicitly.
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), True),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "emotune_session",
        "WTF_CSRF_TIME_LIMIT": None,
        # If Redis (the limiter's store) is down, limit in memory rather than answer 500; the
        # queue check then reports the outage properly (503 queue_unavailable).
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    }


def celery_config(config: Mapping[str, Any], instance_path: str | Path) -> dict[str, Any]:
    """Celery settings: Redis when REDIS_URL is set, else SQLite files in the instance folder."""
    instance = Path(instance_path)
    redis_url = config.get("REDIS_URL")
    if redis_url:
        broker, backend = redis_url, redis_url
    else:
        broker = f"sqla+sqlite:///{instance / 'broker.sqlite'}"
        backend = f"db+sqlite:///{instance / 'celery-results.sqlite'}"
    queue = config["EMOTUNE_QUEUE"]
    return {
        "broker_url": broker,
        "result_backend": backend,
        "task_default_queue": queue,
        # Results go to the database tables; Celery's own result store is only used for pings.
        "task_ignore_result": True,
        "result_expires": 600,
        "task_acks_late": True,
        "task_soft_time_limit": config["EMOTUNE_TASK_SOFT_LIMIT_S"],
        "task_time_limit": config["EMOTUNE_TASK_HARD_LIMIT_S"],
        "task_reject_on_worker_lost": True,
        # One message at a time per process: a crashed worker then loses (redelivers) at most one.
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        # Redis redelivers an unacknowledged message after this; longer than the hard time limit.
        # (kombu's SQLAlchemy transport hands these options to create_engine, so none there.)
        "broker_transport_options": {"visibility_timeout": 3600} if redis_url else {},
        "include": ["worker.tasks", "worker.catalogue_tasks"],
    }


def derived_config(config: Mapping[str, Any], instance_path: str | Path) -> dict[str, Any]:
    """Settings that follow from the others (database URI, Celery, rate-limit storage).

    Computed after overrides are applied, so a test overriding ``DATABASE_URL`` or ``REDIS_URL``
    moves everything that depends on it; a key set explicitly is left alone.
    """
    instance = Path(instance_path)
    database_url = config.get("DATABASE_URL")
    derived: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url)
        if database_url
        else f"sqlite:///{instance / 'emotune.sqlite'}",
        "CELERY": celery_config(config, instance),
        "RATELIMIT_STORAGE_URI": config.get("REDIS_URL") or "memory://",
        "RATELIMIT_KEY_PREFIX": f"emotune-{config['EMOTUNE_QUEUE']}",
    }
    return {key: value for key, value in derived.items() if config.get(key) is None}


def load_secret_key(instance_path: str | Path) -> str | None:
    """The key stored in the instance folder by the embedded ``serve`` command, if any."""
    path = Path(instance_path) / SECRET_KEY_FILE
    if path.is_file():
        key = path.read_text(encoding="utf-8").strip()
        return key or None
    return None


def create_secret_key_file(instance_path: str | Path) -> tuple[str, bool]:
    """Return the instance folder's secret key, generating it (mode 0600) when absent.

    The boolean says whether a new key was written, so the caller can say so.
    """
    import secrets

    existing = load_secret_key(instance_path)
    if existing:
        return existing, False
    path = Path(instance_path) / SECRET_KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key, True


MISSING_SECRET_KEY = (
    "SECRET_KEY is not set. Set it in the environment or in .env (see .env.example), e.g. "
    "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))'). "
    "For the embedded setup, run `emotune` once: it generates one in the instance folder."
)
