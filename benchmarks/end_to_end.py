"""End to end over HTTP: ``python -m benchmarks.end_to_end [--model PATH] [--sqlite]``.

Starts the production shape on loopback: gunicorn serving the app, ``celery -A worker worker``
over the local Redis (a queue name of its own), and a fresh PostgreSQL database (dropped after).
``--sqlite`` runs the embedded default instead, exactly as a new user gets it: the ``emotune``
command on a fresh instance folder (SQLite database, SQLite broker polled every
EMOTUNE_BROKER_POLL_S, its own worker and gunicorn), polled at the page's interval (50 ms).
Then uploads a real 1280x960 face photo to ``POST /api/analyses`` and polls
``GET /api/analyses/<id>`` until done, at concurrency 1 and 8, and prints latency (median, p95),
analyses per second, errors and the server's own stage timings. With ``--sqlite`` it also
measures what the embedded app costs an idle machine (CPU of all its processes over ``--idle-s``).
Targets: median <= 80 ms at concurrency 1 on Redis; on the embedded default p50 <= 250 ms
and p95 <= 400 ms; no errors at concurrency 8.
"""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import requests

from benchmarks.recognizer import face_photo
from emotune.cli.children import process_stats
from recognizer.models import find_default_model
from emotune.gunicorn_conf import GUNICORN_CONFIG

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database for this run; dropped afterwards."""
    import psycopg

    name = f"emotune_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Service:
    """A child process logging to a file, stopped with SIGTERM (then SIGKILL) at the end."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(args, cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_for(self, text: str, timeout: float) -> float:
        """Seconds until ``text`` appears in the log; raise with the log's tail if it never does."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if text in self.log_path.read_text(errors="replace"):
                return time.monotonic() - started
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def stop(self) -> None:
        """Warm shutdown, then kill the process group if it hangs."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def group_cpu_seconds(pgid: int) -> dict[int, float]:
    """CPU seconds (user + system) so far of every live process in process group ``pgid``."""
    tick = os.sysconf("SC_CLK_TCK")
    return {pid: (int(fields[11]) + int(fields[12])) / tick
            for pid, fields in process_stats().items() if int(fields[2]) == pgid}


def idle_cpu(pgid: int, worker_pid: int | None, seconds: float) -> None:
    """Print the CPU the idle app uses over ``seconds``: all its processes, and the broker poller."""
    before, started = group_cpu_seconds(pgid), time.monotonic()
    time.sleep(seconds)
    after, elapsed = group_cpu_seconds(pgid), time.monotonic() - started
    total = sum(after[pid] - before.get(pid, 0.0) for pid in after)
    line = f"idle for {elapsed:.0f} s: all {len(after)} processes {total / elapsed * 100:.2f}% of one core"
    if worker_pid in after:
        line += f"; the worker's main process (it polls the broker) {(after[worker_pid] - before.get(worker_pid, 0.0)) / elapsed * 100:.2f}%"
    print(line)


def client(base_url: str) -> tuple[requests.Session, dict[str, str]]:
    """An API client session with its CSRF token (GET /api/csrf)."""
    session = requests.Session()
    token = session.get(f"{base_url}/api/csrf", timeout=10).json()["csrf_token"]
    return session, {"X-CSRFToken": token}


def one_analysis(base_url: str, session: requests.Session, headers: dict[str, str], photo: bytes,
                 poll_s: float) -> tuple[float, dict[str, Any] | None, str | None]:
    """Upload and follow until done: (latency seconds, final body or None, error text or None).

    ``poll_s`` > 0 polls the status at that interval; 0 follows the analysis's event stream, as the page does.
    """
    started = time.perf_counter()
    response = session.post(f"{base_url}/api/analyses", files={"image": ("photo.jpg", photo, "image/jpeg")},
                            headers=headers, timeout=30)
    if response.status_code != 202:
        return time.perf_counter() - started, None, f"POST {response.status_code}: {response.text[:200]}"
    url = f"{base_url}{response.headers['Location']}"
    if poll_s <= 0:
        return follow_events(url + "/events", session, started)
    deadline = started + 60
    while time.perf_counter() < deadline:
        time.sleep(poll_s)
        body = session.get(url, timeout=30).json()
        if body["status"] == "done":
            return time.perf_counter() - started, body, None
        if body["status"] == "failed":
            return time.perf_counter() - started, body, f"failed: {body.get('error')}"
    return time.perf_counter() - started, None, "still pending after 60 s"


def follow_events(url: str, session: requests.Session,
                  started: float) -> tuple[float, dict[str, Any] | None, str | None]:
    """Read an analysis's event stream until its last state (done or failed)."""
    body = None
    with session.get(url, stream=True, timeout=(10, 60)) as response:
        if response.status_code != 200:
            return time.perf_counter() - started, None, f"events {response.status_code}: {response.text[:200]}"
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("data: "):
                body = json.loads(line[len("data: "):])
                if body.get("status") in ("done", "failed"):
                    break
    elapsed = time.perf_counter() - started
    if body is None or body.get("status") not in ("done", "failed"):
        return elapsed, None, "the event stream ended before the analysis did"
    return elapsed, body, None if body["status"] == "done" else f"failed: {body.get('error')}"


TARGETS = {False: "p50 <= 80 ms", True: "p50 <= 250 ms, p95 <= 400 ms"}


def drive(base_url: str, photo: bytes, concurrency: int, total: int,
          poll_s: float) -> list[tuple[float, dict[str, Any] | None, str | None]]:
    """``total`` analyses by ``concurrency`` clients at once: (latency s, final body, error) each."""
    results: list[tuple[float, dict[str, Any] | None, str | None]] = []
    lock = threading.Lock()
    shares = [total // concurrency + (1 if i < total % concurrency else 0) for i in range(concurrency)]

    def one_client(count: int) -> None:
        session, headers = client(base_url)
        for _ in range(count):
            outcome = one_analysis(base_url, session, headers, photo, poll_s)
            with lock:
                results.append(outcome)

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(one_client, [share for share in shares if share]))
    return results


def run_level(base_url: str, photo: bytes, concurrency: int, total: int, poll_s: float, embedded: bool = False,
              warm_up: bool = False) -> None:
    """Run ``total`` analyses with ``concurrency`` clients at once and print the figures."""
    started = time.perf_counter()
    results = drive(base_url, photo, concurrency, total, poll_s)
    elapsed = time.perf_counter() - started
    latencies = [latency * 1000 for latency, _, error in results if error is None]
    errors = [error for _, _, error in results if error is not None]
    print(f"\nconcurrency {concurrency}: {len(results)} analyses in {elapsed:.1f} s = "
          f"{len(results) / elapsed:.1f} analyses/s; errors {len(errors)}; "
          + (f"polling every {poll_s * 1000:.0f} ms" if poll_s > 0 else "following event streams"))
    if latencies:
        target = f" [target {TARGETS[embedded]}]" if concurrency == 1 and not warm_up else ""
        print(f"  upload -> done seen by client: median {statistics.median(latencies):.0f} ms, "
              f"p95 {np.percentile(latencies, 95):.0f} ms, max {max(latencies):.0f} ms{target}")
    stages: dict[str, list[float]] = {}
    for _, body, error in results:
        if body and error is None:
            for key, value in (body.get("timings_ms") or {}).items():
                if isinstance(value, (int, float)):
                    stages.setdefault(key, []).append(float(value))
    if stages:
        print("  server stage medians: " + ", ".join(f"{k} {statistics.median(v):.1f} ms" for k, v in stages.items()))
    for error in errors[:5]:
        print(f"  error: {error}")


def main() -> None:
    """Start the services, run both concurrency levels, stop everything."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="model file (default: newest committed ml/models/mobilenetv2_*)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--sqlite", action="store_true",
                        help="the embedded default: `emotune` with SQLite database and broker, no Redis")
    parser.add_argument("--broker-poll-s", type=float, help="EMOTUNE_BROKER_POLL_S for --sqlite (default: the setting's)")
    parser.add_argument("--idle-s", type=float, default=30.0, help="--sqlite: seconds of idle CPU measurement (0: none)")
    parser.add_argument("--worker-concurrency", type=int, help="worker processes (default 2; 1, emotune's, with --sqlite)")
    parser.add_argument("--litert-threads", type=int, default=1)
    parser.add_argument("--count-c1", type=int, default=40)
    parser.add_argument("--count-c8", type=int, default=80)
    parser.add_argument("--poll-ms", type=float, help="client poll interval (default 10 ms; 50 ms, the page's "
                        "fallback, with --sqlite); 0: follow the event stream, as the page does")
    args = parser.parse_args()
    if args.worker_concurrency is None:
        args.worker_concurrency = 1 if args.sqlite else 2
    if args.poll_ms is None:
        args.poll_ms = 50.0 if args.sqlite else 10.0

    with tempfile.TemporaryDirectory(prefix="emotune-e2e-") as scratch_name:
        scratch = Path(scratch_name)
        model = args.model or find_default_model(REPO / "ml" / "models")
        if model is None:
            from benchmarks.plan_model import write_plan_model

            print("No committed model: using an UNTRAINED plan model (same architecture and cost).")
            model = write_plan_model(scratch / "model")
        database = nullcontext(None) if args.sqlite else postgres_database()
        with database as database_url:
            queue = f"emotune_bench_{uuid.uuid4().hex[:8]}"
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("EMOTUNE_", "SPOTIFY_")) and k not in ("DATABASE_URL", "REDIS_URL")}
            env.update({
                "EMOTUNE_QUEUE": queue, "EMOTUNE_INSTANCE_PATH": str(scratch / "instance"),
                "EMOTUNE_MODEL_PATH": str(model), "EMOTUNE_LITERT_THREADS": str(args.litert_threads),
                "EMOTUNE_ANALYSES_RATE_LIMIT": "100000 per minute", "PYTHONUNBUFFERED": "1",
            })
            if args.broker_poll_s is not None:
                env["EMOTUNE_BROKER_POLL_S"] = str(args.broker_poll_s)
            port = free_port()
            services: list[Service] = []
            worker_pid = None
            try:
                if args.sqlite:
                    # The embedded default as `emotune` runs it: migrations, seed, worker (+ beat), gunicorn.
                    app = Service("emotune", [sys.executable, "-c", "from emotune.cli.serve import main; main()",
                                              "--port", str(port), "--concurrency", str(args.worker_concurrency)],
                                  env, scratch)
                    services.append(app)
                    worker_ready = app.wait_for("EmoTune is running at", timeout=240)
                    worker_pid = int(re.search(r"pid (\d+) \(sweep", app.log_path.read_text()).group(1))
                    shape = (f"`emotune` (gunicorn 1x8 threads, celery prefork x{args.worker_concurrency}), SQLite "
                             f"database + SQLite broker polled every {env.get('EMOTUNE_BROKER_POLL_S', 'default')} s")
                else:
                    env.update({"SECRET_KEY": "benchmark-only-secret", "DATABASE_URL": database_url,
                                "REDIS_URL": args.redis_url, "SESSION_COOKIE_SECURE": "false"})
                    flask = [sys.executable, "-m", "flask", "--app", "emotune"]
                    subprocess.run([*flask, "db", "upgrade"], cwd=REPO, env=env, check=True, capture_output=True)
                    subprocess.run([*flask, "seed-playlists"], cwd=REPO, env=env, check=True, capture_output=True)
                    worker = Service("worker", [sys.executable, "-m", "celery", "-A", "worker", "worker", "--loglevel",
                                                "INFO", "--pool", "prefork", "--concurrency", str(args.worker_concurrency),
                                                "--queues", f"{queue},{queue}.control", "--hostname", f"{queue}@%h",
                                                "--without-mingle", "--without-gossip"], env, scratch)
                    services.append(worker)
                    web = Service("gunicorn", [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, "--bind",
                                               f"127.0.0.1:{port}", "--workers", "1", "emotune:create_app()"], env, scratch)
                    services.append(web)
                    worker_ready = worker.wait_for("ready.", timeout=120)
                    web.wait_for("Booting worker", timeout=60)
                    shape = (f"gunicorn 1x8 threads | celery prefork x{args.worker_concurrency} | PostgreSQL + Redis")
                base_url = f"http://127.0.0.1:{port}"
                load = os.getloadavg()
                print(f"model {model.name} | {shape} | LiteRT threads {args.litert_threads} | ready after "
                      f"{worker_ready:.1f} s | load {load[0]:.2f} | {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
                photo = face_photo((1280, 960), face_side=480)
                # Warm-up: each worker child loads its model lazily on its first analysis.
                run_level(base_url, photo, args.worker_concurrency, 2 * args.worker_concurrency, args.poll_ms / 1000,
                          warm_up=True)
                print("  (warm-up above: includes model loading in each worker child)")
                if args.sqlite and args.idle_s > 0:
                    idle_cpu(services[0].process.pid, worker_pid, args.idle_s)
                if args.count_c1:
                    run_level(base_url, photo, 1, args.count_c1, args.poll_ms / 1000, args.sqlite)
                if args.count_c8:
                    run_level(base_url, photo, 8, args.count_c8, (max(args.poll_ms, 20.0) if args.poll_ms > 0 else 0) / 1000)
            finally:
                for service in reversed(services):
                    service.stop()


if __name__ == "__main__":
    main()
