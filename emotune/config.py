"""Configuration read from the environment (python-dotenv fills it from .flaskenv/.env).

Every key here is documented in ``.env.example``. Flask config keys have the same names as the
environment variables. Defaults are the embedded setup: SQLite files in the instance folder and no
server process; ``DATABASE_URL`` and ``REDIS_URL`` switch to PostgreSQL and Redis.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from kombu import Queue

SECRET_KEY_FILE = "secret_key"
SQLITE_TRANSPORT = "emotune.sqlite_transport:Transport"
# How often a Redis worker looks for unacknowledged messages past their visibility timeout.
RESTORE_INTERVAL_S = 5


class ConfigError(RuntimeError):
    """Raised at startup when the configuration cannot work; the message says what to set."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: its type, its one default (None: unset) and what it is for."""

    name: str
    default: Any = None
    kind: type = str
    doc: str = ""


MODELS_DIR = str(Path(__file__).resolve().parent.parent / "ml" / "models")

# The one list of what EmoTune reads from the environment; .env.example documents each (a test
# keeps the two in step). Config keys have the same names as the variables.
SETTINGS: tuple[Setting, ...] = (
    Setting("SECRET_KEY", doc="signs the session cookie and CSRF tokens"),
    Setting("DATABASE_URL", doc="SQLAlchemy URL; unset: SQLite in the instance folder"),
    Setting("REDIS_URL", doc="broker, result store and rate limits; unset: embedded SQLite broker"),
    Setting("EMOTUNE_INSTANCE_PATH", doc="instance folder; unset: instance/ in the repo"),
    Setting("EMOTUNE_MODEL_PATH", doc="model file to serve; unset: the one EMOTUNE_MODELS_DIR/SERVED names"),
    Setting("EMOTUNE_MODELS_DIR", MODELS_DIR, doc="where models are looked for"),
    Setting("EMOTUNE_LITERT_THREADS", 1, int, "CPU threads LiteRT and the face detector use per worker process"),
    Setting("EMOTUNE_MIN_FACE_PX", 48, int, "smallest face read, in the photo's pixels (>= 48; larger is faster)"),
    Setting("EMOTUNE_FACE_GROUP_SPAN", 0.0, float, "faces under 1/this of the largest found are not looked for; 0: all"),
    Setting("EMOTUNE_QUEUE", "emotune", doc="Celery queue name for analyses"),
    Setting("EMOTUNE_TASK_SOFT_LIMIT_S", 30, int, "soft time limit of one analysis task"),
    Setting("EMOTUNE_TASK_HARD_LIMIT_S", 45, int, "hard time limit of one analysis task"),
    Setting("EMOTUNE_QUEUE_NOTICE_S", 20, int, "seconds queued before a waiting notice"),
    Setting("EMOTUNE_READY_PING_TIMEOUT_S", 3.0, float, "how long /readyz waits for a worker"),
    Setting("EMOTUNE_ANALYSES_RATE_LIMIT", "30 per minute", doc="rate limit on POST /api/analyses"),
    Setting("EMOTUNE_PLAYLIST_COUNT", 6, int, "playlists recommended per result"),
    Setting("EMOTUNE_WORKER_MAX_MEMORY_MB", 600, int, "a pool process is replaced after a task leaves it above this"),
    Setting("EMOTUNE_BROKER_POLL_S", 0.05, float, "how often the embedded SQLite broker is polled (s)"),
    Setting("EMOTUNE_SWEEP_INTERVAL_S", 20, int, "how often the sweep ends lost and stuck analyses"),
    Setting("EMOTUNE_PROXY_HOPS", 0, int, "trusted reverse proxies in front of the app (ProxyFix)"),
    Setting("EMOTUNE_READYZ_TOKEN", doc="token that unlocks /readyz detail for non-loopback clients"),
    Setting("PROMETHEUS_MULTIPROC_DIR", doc="where each process writes its metrics (prometheus-client's multiprocess mode)"),
    Setting("EMOTUNE_WORKER_METRICS_PORT", 0, int, "port of the Celery worker's own /metrics; 0: none"),
    Setting("MAX_CONTENT_LENGTH", 10 * 1024 * 1024, int, "largest accepted upload in bytes"),
    Setting("SESSION_COOKIE_SECURE", True, bool, "session cookie only over HTTPS"),
    Setting("SPOTIFY_CLIENT_ID", doc="Spotify app credentials (optional)"),
    Setting("SPOTIFY_CLIENT_SECRET", doc="Spotify app credentials (optional)"),
    Setting("SPOTIFY_REDIRECT_URI", doc="where Spotify sends users back after login"),
    Setting("SPOTIFY_API_BASE", "https://api.spotify.com/v1/", doc="Spotify Web API base URL"),
    Setting("SPOTIFY_ACCOUNTS_BASE", "https://accounts.spotify.com/", doc="Spotify accounts base URL"),
    Setting("SPOTIFY_TIMEOUT_S", 5.0, float, "timeout of each Spotify HTTP call"),
    Setting("SPOTIFY_OEMBED_BASE", "https://open.spotify.com", doc="Spotify's keyless oEmbed host"),
)

# Fixed settings: not read from the environment.
FIXED: dict[str, Any] = {
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "emotune_session",
    "WTF_CSRF_TIME_LIMIT": None,
    # If Redis (the limiter's store) is down, limit in memory rather than answer 500; the queue
    # check then reports the outage properly (503 queue_unavailable).
    "RATELIMIT_SWALLOW_ERRORS": True,
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    # Retry-After (and X-RateLimit-*) on answers, so a client knows how long to wait.
    "RATELIMIT_HEADERS_ENABLED": True,
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
}

_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def parse(setting: Setting, raw: str | None) -> Any:
    """The value of one variable: its default when unset or blank, else parsed to its kind."""
    if raw is None or raw.strip() == "":
        return setting.default
    value = raw.strip()
    if setting.kind is bool:
        if value.lower() not in _TRUE | _FALSE:
            raise ConfigError(f"{setting.name} must be true or false, got {raw!r}.")
        return value.lower() in _TRUE
    try:
        return setting.kind(value)
    except ValueError:
        what = "a whole number" if setting.kind is int else "a number"
        raise ConfigError(f"{setting.name} must be {what}, got {raw!r}.") from None


def normalise_database_url(url: str) -> str:
    """Point plain ``postgres://``/``postgresql://`` URLs at the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def config_from_env(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Return the Flask config built from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    return {**{s.name: parse(s, env.get(s.name)) for s in SETTINGS}, **FIXED}


def celery_config(config: Mapping[str, Any], instance_path: str | Path) -> dict[str, Any]:
    """Celery settings: Redis when REDIS_URL is set, else SQLite files in the instance folder."""
    instance = Path(instance_path)
    redis_url = config.get("REDIS_URL")
    if redis_url:
        broker, backend, transport = redis_url, redis_url, None
        # Redis redelivers a message whose worker died once this has passed without an ack: just
        # past the hard time limit (no live task can still hold it) and past the longest retry
        # countdown (emotune.tasks), so a killed worker's analyses run again within about a minute.
        # kombu only looks for such messages every unacked_restore_interval x unacked_restore_throttle
        # seconds (10 x 10 by default: a killed worker's message came back after up to ~2 minutes,
        # racing the sweep that fails it as stuck); look every 5 s, so it runs again within the
        # visibility timeout + 5 s.
        # A message's JSON body travels as it is, not base64-encoded again (kombu's default): the
        # sealed photo is already text, and each extra pass over it cost the web and the worker's
        # consumer about a millisecond an analysis. Messages already queued say how they are encoded.
        transport_options: dict[str, Any] = {"visibility_timeout": visibility_timeout(config),
                                             "unacked_restore_interval": RESTORE_INTERVAL_S,
                                             "unacked_restore_throttle": 1, "body_encoding": "utf-8"}
    else:
        broker = f"sqlite:///{instance / 'broker.sqlite'}"
        backend = f"db+sqlite:///{instance / 'celery-results.sqlite'}"
        # kombu's SQLAlchemy transport with a polling interval of ours (emotune.sqlite_transport):
        # its default second between polls was most of an embedded analysis' time.
        transport = SQLITE_TRANSPORT
        transport_options = {"polling_interval": config["EMOTUNE_BROKER_POLL_S"]}
    queue = config["EMOTUNE_QUEUE"]
    return {
        "broker_url": broker,
        "broker_transport": transport,
        "result_backend": backend,
        "task_default_queue": queue,
        # Analyses, and a queue of its own for readiness pings and the sweep, so that a backlog
        # of photos never delays them; a worker started without --queues consumes both.
        "task_queues": (Queue(queue), Queue(control_queue(queue))),
        "beat_schedule_filename": str(instance / "celerybeat-schedule"),
        # Results go to the database tables; Celery's own result store is only used for pings.
        "task_ignore_result": True,
        "result_expires": 600,
        "task_acks_late": True,
        "task_soft_time_limit": config["EMOTUNE_TASK_SOFT_LIMIT_S"],
        "task_time_limit": config["EMOTUNE_TASK_HARD_LIMIT_S"],
        "task_reject_on_worker_lost": True,
        # One message at a time per process: a crashed worker then loses (redelivers) at most one.
        "worker_prefetch_multiplier": 1,
        # A guard, not the fix: a pool process that a large photo or a leak left above this is
        # replaced after its task (Celery counts KiB).
        "worker_max_memory_per_child": config["EMOTUNE_WORKER_MAX_MEMORY_MB"] * 1024,
        "task_serializer": "json",
        "accept_content": ["json"],
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport_options,
    }


def control_queue(queue: str) -> str:
    """The queue of readiness pings and sweeps beside the analysis queue ``queue``."""
    return f"{queue}.control"


def visibility_timeout(config: Mapping[str, Any]) -> int:
    """Seconds Redis waits before redelivering an unacknowledged analysis message."""
    return config["EMOTUNE_TASK_HARD_LIMIT_S"] + 15


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
