"""Fault scenarios on a Redis and a PostgreSQL of their own: each injects one fault and counts outcomes.

Shared by the integration tests (``tests/integration/test_faults.py``, few analyses) and
``python -m benchmarks.faults`` (more). Every scenario uploads real photos through the app, injects
its fault (Redis restarted without persistence, PostgreSQL down while messages wait, a worker on
the wrong database, a worker SIGKILLed mid-analysis), clears it, and then watches the database until
every analysis is done or failed, at most ``RECOVERY_BOUND_S`` after the fault cleared. Timings are
shortened through settings (a sweep every 2 s, a 10 s hard limit) so a scenario takes about a minute.
"""

from __future__ import annotations

import io
import os
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from flask.testing import FlaskClient

from tests.integration.processes import Proc, service_env
from tests.integration.servers import PostgresCluster, RedisServer

# The bound: every analysis ends within 2 minutes of its fault clearing.
RECOVERY_BOUND_S = 120
# Short timings so the sweep and Redis's redelivery act within a scenario (lost after ~30 s).
FAST_SETTINGS = {
    "EMOTUNE_SWEEP_INTERVAL_S": "2",
    "EMOTUNE_TASK_SOFT_LIMIT_S": "8",
    "EMOTUNE_TASK_HARD_LIMIT_S": "10",
}
# Words a failure message must contain to tell the person what to do.
ACTIONS = ("upload", "try again", "try another")


@dataclass
class Outcome:
    """How one scenario's analyses ended."""

    scenario: str
    sent: int
    done: int = 0
    failed_with_message: int = 0
    failed_without_message: int = 0
    stranded: int = 0
    recovery_s: float = 0.0
    codes: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def line(self) -> str:
        codes = ", ".join(f"{code} {count}" for code, count in sorted(self.codes.items())) or "-"
        return (f"{self.scenario:<22} sent {self.sent:>3}  done {self.done:>3}  failed with a message "
                f"{self.failed_with_message:>3}  without {self.failed_without_message}  stranded {self.stranded:>3}  "
                f"all ended {self.recovery_s:5.1f} s after the fault cleared  (failures: {codes}) {self.note}")


class Stack:
    """Own Redis + own PostgreSQL, a migrated and seeded database, an in-process app to upload with."""

    def __init__(self, model_path: Path, photo: bytes, work_dir: Path, redis_appendonly: bool = False) -> None:
        from emotune.extensions import db
        from recommender.seed import seed_catalogue

        self.work_dir = work_dir
        self.photo = photo
        self.redis = RedisServer(appendonly=redis_appendonly).start()
        self.pg = PostgresCluster().start()
        self.database_url = self.pg.create_database("emotune")
        self.queue = f"faults_{uuid.uuid4().hex[:8]}"
        self.config: dict[str, str | None] = {
            "SECRET_KEY": "fault-secret",
            "EMOTUNE_INSTANCE_PATH": str(work_dir / "instance"),
            "EMOTUNE_QUEUE": self.queue,
            "EMOTUNE_MODEL_PATH": str(model_path),
            "EMOTUNE_LITERT_THREADS": "1",
            "SESSION_COOKIE_SECURE": "false",
            "EMOTUNE_ANALYSES_RATE_LIMIT": "100000 per minute",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            **FAST_SETTINGS,
        }
        self.app = self.migrated_app(self.database_url)
        with self.app.app_context():
            seed_catalogue(db.session)
        self.client: FlaskClient = self.app.test_client()
        self.csrf = {"X-CSRFToken": self.client.get("/api/csrf").get_json()["csrf_token"]}
        self.workers: list[Proc] = []

    def migrated_app(self, database_url: str) -> Flask:
        """An in-process app on ``database_url`` (migrated), configured like the processes."""
        from tests.conftest import make_app

        keys = ("EMOTUNE_QUEUE", "EMOTUNE_MODEL_PATH", "SECRET_KEY", "REDIS_URL", *FAST_SETTINGS)
        overrides: dict[str, Any] = {k: self.config[k] for k in keys}
        for key in FAST_SETTINGS:
            overrides[key] = int(overrides[key])
        return make_app(self.work_dir / "instance", **overrides, DATABASE_URL=database_url)

    def post(self) -> str:
        """Upload the photo; returns the analysis id (the upload itself must be accepted)."""
        response = self.client.post("/api/analyses", data={"image": (io.BytesIO(self.photo), "me.jpg")},
                                    headers=self.csrf, content_type="multipart/form-data")
        assert response.status_code == 202, response.get_json()
        return response.get_json()["id"]

    def start_worker(self, database_url: str | None = None, wait: bool = True) -> Proc:
        """``celery -A worker worker --beat`` (the sweep's beat inside it), one prefork child."""
        config = {**self.config, "DATABASE_URL": database_url or self.database_url}
        worker = Proc(
            "worker",
            [sys.executable, "-m", "celery", "-A", "worker", "worker", "--beat", "--loglevel", "INFO",
             "--pool", "prefork", "--concurrency", "1", "--queues", f"{self.queue},{self.queue}.control",
             "--hostname", f"{self.queue}-{len(self.workers)}@%h", "--without-mingle", "--without-gossip",
             "--schedule", str(self.work_dir / f"beat-{len(self.workers)}")],
            service_env(config), self.work_dir)
        self.workers.append(worker)
        if wait:
            worker.wait_for_log("ready.", timeout=120)
        return worker

    def kill_worker(self, worker: Proc) -> None:
        """SIGKILL the worker's whole process group (main process, pool child, beat)."""
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=10)

    def statuses(self, ids: list[str]) -> dict[str, tuple[str, str | None, str | None]]:
        """(status, error code, error message) per analysis id, read straight from PostgreSQL."""
        with psycopg.connect(self.database_url.replace("postgresql+psycopg", "postgresql"), connect_timeout=5) as conn:
            rows = conn.execute("SELECT id::text, status, error_code, error_message FROM analyses "
                                "WHERE id = ANY(%s::uuid[])", (ids,)).fetchall()
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    def wait_until_ended(self, scenario: str, ids: list[str], cleared_at: float,
                         bound_s: float = RECOVERY_BOUND_S) -> Outcome:
        """Watch until every analysis is done or failed (or the bound passes); count how they ended."""
        deadline = cleared_at + bound_s
        states: dict[str, tuple[str, str | None, str | None]] = {}
        while True:
            try:
                states = self.statuses(ids)
            except psycopg.OperationalError:
                states = {}
            pending = [i for i in ids if states.get(i, ("missing",))[0] not in ("done", "failed")]
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(1)
        outcome = Outcome(scenario, sent=len(ids), recovery_s=time.monotonic() - cleared_at)
        for analysis_id in ids:
            status, code, message = states.get(analysis_id, ("missing", None, None))
            if status == "done":
                outcome.done += 1
            elif status == "failed":
                outcome.codes[code or "?"] = outcome.codes.get(code or "?", 0) + 1
                if message and any(word in message.lower() for word in ACTIONS):
                    outcome.failed_with_message += 1
                else:
                    outcome.failed_without_message += 1
            else:
                outcome.stranded += 1
        return outcome

    def logs(self) -> str:
        return "\n".join(f"--- {w.log_path.name}\n{w.log()[-3000:]}" for w in self.workers)

    def close(self) -> None:
        from emotune.extensions import db

        for worker in self.workers:
            if worker.process.poll() is None:
                worker.stop(timeout=20)
        with self.app.app_context():
            db.engine.dispose()
        self.redis.cleanup()
        self.pg.cleanup()


@contextmanager
def stack(model_path: Path, photo: bytes, work_dir: Path | None = None, **kwargs: Any) -> Iterator[Stack]:
    """A ``Stack`` for one scenario, closed (servers killed, folders removed) afterwards."""
    with tempfile.TemporaryDirectory(prefix="emotune-faults-") as tmp:
        made = Stack(model_path, photo, work_dir or Path(tmp), **kwargs)
        try:
            yield made
        finally:
            made.close()


def redis_restarted_empty(s: Stack, n: int) -> Outcome:
    """Analyses wait in Redis (no worker), Redis restarts without persistence, a worker comes."""
    ids = [s.post() for _ in range(n)]
    s.redis.restart_empty()
    cleared = time.monotonic()
    s.start_worker()
    return s.wait_until_ended("redis restarted empty", ids, cleared)


def postgres_down(s: Stack, n: int, outage_s: float = 15) -> Outcome:
    """Messages wait in Redis, PostgreSQL goes down, a worker takes them, PostgreSQL comes back."""
    ids = [s.post() for _ in range(n)]
    s.pg.stop()
    worker = s.start_worker()
    # The worker takes the messages while the database is away: each must be retried, not dropped.
    deadline = time.monotonic() + outage_s
    while time.monotonic() < deadline and "Retry in" not in worker.log():
        time.sleep(0.5)
    time.sleep(max(0.0, deadline - time.monotonic()))
    retried = worker.log().count("Retry in")
    s.pg.start()
    cleared = time.monotonic()
    outcome = s.wait_until_ended("postgres down", ids, cleared)
    outcome.note = f"({retried} retries logged during the {outage_s:.0f} s outage)"
    return outcome


def wrong_database(s: Stack, n: int) -> Outcome:
    """A worker on another (migrated, empty) database takes every message; then the right one runs."""
    other_url = s.pg.create_database("emotune_other")
    other_app = s.migrated_app(other_url)
    with other_app.app_context():
        from emotune.extensions import db

        db.engine.dispose()
    wrong = s.start_worker(database_url=other_url)
    ids = [s.post() for _ in range(n)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and wrong.log().count("is not in the database") < n:
        time.sleep(0.5)
    warnings = [line for line in wrong.log().splitlines() if "is not in the database" in line]
    wrong.stop()
    cleared = time.monotonic()
    s.start_worker()
    outcome = s.wait_until_ended("wrong database", ids, cleared)
    named = sum("WARNING" in line and "emotune_other" in line for line in warnings)
    outcome.note = f"({named} of {n} skipped messages logged at WARNING naming the worker's database)"
    return outcome


def worker_killed(s: Stack, n: int) -> Outcome:
    """SIGKILL the worker (whole group) while an analysis runs; a new worker starts at once."""
    import threading

    worker = s.start_worker()
    ids: list[str] = []
    poster = threading.Thread(target=lambda: ids.extend(s.post() for _ in range(n)))
    poster.start()
    running = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (poster.is_alive() or not running):
        running = sum(state[0] == "running" for state in s.statuses(list(ids)).values())
        if running:
            break
        time.sleep(0.005)
    s.kill_worker(worker)
    poster.join()
    states = s.statuses(ids)
    in_flight = sum(state[0] in ("running", "queued") for state in states.values())
    cleared = time.monotonic()
    s.start_worker()
    outcome = s.wait_until_ended("worker SIGKILLed", ids, cleared)
    outcome.note = f"({running} running and {in_flight} not yet ended when killed)"
    return outcome


SCENARIOS: dict[str, Callable[[Stack, int], Outcome]] = {
    "redis_restarted_empty": redis_restarted_empty,
    "postgres_down": postgres_down,
    "wrong_database": wrong_database,
    "worker_killed": worker_killed,
}
