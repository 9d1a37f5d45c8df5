"""Capacity: ``python -m benchmarks.capacity [--start 1] [--max-concurrency 64] [--per-level 120]``.

Starts the production shape (gunicorn, ``celery -A worker worker`` prefork, Redis, a fresh
PostgreSQL database) like ``benchmarks.end_to_end`` and drives it at doubling concurrency until the
median upload-to-result time passes 1 s. For each level it prints analyses per second, median and
p95 latency, errors, CPU milliseconds per analysis for each process group (web, worker, this
database's PostgreSQL backends) read from /proc, and the worker pool's resident memory at the start
and end of the level. The worker's CPU is split into its main process (Celery's consumer) and
its pool, and the last lines give the last level's CPU per analysis beyond the recognizer's own
(``benchmarks.overhead``). ``--soak N`` then runs N more analyses at concurrency 8 and prints how much
each pool process grew (target: <= 10 MB over 2,000 analyses).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from benchmarks.overhead import recognizer_cpu_ms, recognizer_cpu_s, report
from benchmarks.end_to_end import REPO, Service, drive, free_port, postgres_database
from benchmarks.recognizer import face_photo
from emotune.cli.children import process_stats
from recognizer.models import find_default_model
from emotune.gunicorn_conf import GUNICORN_CONFIG

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def session_pids(session_id: int) -> list[int]:
    """Every live process of a session (a service is started with ``start_new_session``)."""
    return [pid for pid, fields in process_stats().items() if int(fields[3]) == session_id]


def database_pids(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` (their process title names it)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {database} " in title:
            pids.append(int(entry))
    return pids


def cpu_ms(pids: list[int]) -> dict[int, float]:
    """User + system CPU milliseconds used so far by each process."""
    stats = process_stats()
    return {pid: (int(stats[pid][11]) + int(stats[pid][12])) * 1000 / CLOCK_TICKS for pid in pids if pid in stats}


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (0 when it is gone)."""
    fields = process_stats().get(pid)
    return int(fields[21]) * PAGE_KB / 1024 if fields else 0.0


def pool_children(worker_pid: int) -> list[int]:
    """The prefork pool processes of the Celery worker (its direct children)."""
    return [pid for pid, fields in process_stats().items() if int(fields[1]) == worker_pid]


def delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used between two readings, counting processes that appeared in between from zero."""
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def groups(web_pid: int, worker_pid: int, database: str) -> dict[str, dict[int, float]]:
    """CPU so far of each process group: the web, the worker's main process (and any helper it
    starts other than its pool), its pool processes, and this database's PostgreSQL backends."""
    pool = set(pool_children(worker_pid))
    worker = session_pids(worker_pid)
    return {"web": cpu_ms(session_pids(web_pid)), "main": cpu_ms([pid for pid in worker if pid not in pool]),
            "pool": cpu_ms([pid for pid in worker if pid in pool]), "db": cpu_ms(database_pids(database))}


def main() -> None:
    """Start the stack, ramp the concurrency, optionally soak, stop everything."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--start", type=int, default=1)
    parser.add_argument("--max-concurrency", type=int, default=64)
    parser.add_argument("--per-level", type=int, default=120, help="analyses per concurrency level")
    parser.add_argument("--poll-ms", type=float, default=0.0,
                        help="clients poll the status every N ms; 0 (default): they follow the event stream, as the page does")
    parser.add_argument("--soak", type=int, default=0, help="analyses to run after the ramp, for memory growth")
    args = parser.parse_args()

    model = find_default_model(REPO / "ml" / "models")
    if model is None:
        raise SystemExit("No committed model under ml/models")
    with tempfile.TemporaryDirectory(prefix="emotune-capacity-") as scratch_name, postgres_database() as database_url:
        scratch = Path(scratch_name)
        database = database_url.rsplit("/", 1)[1]
        queue = f"emotune_capacity_{uuid.uuid4().hex[:8]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("EMOTUNE_", "SPOTIFY_"))}
        env.update({
            "SECRET_KEY": "benchmark-only-secret", "DATABASE_URL": database_url, "REDIS_URL": args.redis_url,
            "EMOTUNE_QUEUE": queue, "EMOTUNE_INSTANCE_PATH": str(scratch / "instance"),
            "EMOTUNE_MODEL_PATH": str(model), "EMOTUNE_LITERT_THREADS": "1",
            "EMOTUNE_ANALYSES_RATE_LIMIT": "1000000 per minute", "SESSION_COOKIE_SECURE": "false",
            "PYTHONUNBUFFERED": "1",
        })
        flask = [sys.executable, "-m", "flask", "--app", "emotune"]
        subprocess.run([*flask, "db", "upgrade"], cwd=REPO, env=env, check=True, capture_output=True)
        subprocess.run([*flask, "seed-playlists"], cwd=REPO, env=env, check=True, capture_output=True)
        port = free_port()
        services: list[Service] = []
        try:
            # The worker's metrics where this benchmark can read them (the recognizer's CPU).
            metrics_dir = scratch / "worker-metrics"
            metrics_dir.mkdir()
            worker = Service("worker", [sys.executable, "-m", "celery", "-A", "worker", "worker", "--loglevel", "WARNING",
                                        "--pool", "prefork", "--concurrency", str(args.worker_concurrency),
                                        "--queues", f"{queue},{queue}.control", "--hostname", f"{queue}@%h",
                                        "--without-mingle", "--without-gossip"],
                             {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, scratch)
            services.append(worker)
            web = Service("gunicorn", [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, "--bind",
                                       f"127.0.0.1:{port}", "--workers", str(args.web_workers), "emotune:create_app()"],
                          env, scratch)
            services.append(web)
            web.wait_for("Booting worker", timeout=60)
            base_url = f"http://127.0.0.1:{port}"
            photo = face_photo((1280, 960), face_side=480)
            # Measured while the stack idles, before the load starts.
            recognizer_ms = recognizer_cpu_ms(model, photo)
            # Warm-up: every pool process loads its model on its first analysis.
            drive(base_url, photo, args.worker_concurrency * 2, args.worker_concurrency * 6, args.poll_ms / 1000)
            load = os.getloadavg()
            print(f"model {model.name} | gunicorn {args.web_workers} gevent workers | celery prefork x{args.worker_concurrency} "
                  f"(LiteRT 1 thread) | PostgreSQL + Redis | 1280x960 JPEG, one face | load before {load[0]:.2f} | "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
            print(f"{'conc':>4} {'n':>5} {'an/s':>6} {'median':>7} {'p95':>7} {'err':>4} "
                  f"{'web ms':>7} {'worker ms':>9} {'main':>5} {'pool':>5} {'db ms':>6} {'pool MB start->end':>20}")
            concurrency = args.start
            last = None
            while concurrency <= args.max_concurrency:
                pool = pool_children(worker.process.pid)
                memory_before = [rss_mb(pid) for pid in pool]
                before = groups(web.process.pid, worker.process.pid, database)
                recognizer_before = recognizer_cpu_s(metrics_dir)
                started = time.perf_counter()
                results = drive(base_url, photo, concurrency, max(args.per_level, concurrency * 4), args.poll_ms / 1000)
                elapsed = time.perf_counter() - started
                after = groups(web.process.pid, worker.process.pid, database)
                in_pool_ms = (recognizer_cpu_s(metrics_dir) - recognizer_before) * 1000 / len(results)
                memory_after = [rss_mb(pid) for pid in pool]
                latencies = [latency * 1000 for latency, _, error in results if error is None]
                errors = [error for _, _, error in results if error is not None]
                count = len(results)
                median = statistics.median(latencies) if latencies else float("nan")
                p95 = float(np.percentile(latencies, 95)) if latencies else float("nan")
                per = {name: delta(before[name], after[name]) / count for name in before}
                memory = ", ".join(f"{a:.0f}->{b:.0f}" for a, b in zip(memory_before, memory_after))
                print(f"{concurrency:>4} {count:>5} {count / elapsed:>6.1f} {median:>6.0f}ms {p95:>6.0f}ms {len(errors):>4} "
                      f"{per['web']:>7.1f} {per['main'] + per['pool']:>9.1f} {per['main']:>5.1f} {per['pool']:>5.1f} {per['db']:>6.1f} {memory:>20}", flush=True)
                for error in errors[:3]:
                    print(f"     error: {error}")
                last = (per, in_pool_ms)
                if median > 1000:
                    break
                concurrency *= 2
            for line in report(*last, recognizer_ms) if last else []:
                print(line)
            if args.soak:
                pool = pool_children(worker.process.pid)
                memory_before = [rss_mb(pid) for pid in pool]
                results = drive(base_url, photo, 8, args.soak, args.poll_ms / 1000)
                errors = [error for _, _, error in results if error is not None]
                growth = ", ".join(f"{rss_mb(pid) - before_mb:+.1f}" for pid, before_mb in zip(pool, memory_before))
                print(f"soak: {len(results)} analyses at concurrency 8, errors {len(errors)}; "
                      f"pool RSS growth per process (MB): {growth}")
        finally:
            for service in reversed(services):
                service.stop()


if __name__ == "__main__":
    main()
