"""What an analysis costs beyond the recognizer: ``python -m benchmarks.overhead [--count 200]``.

Runs ``benchmarks.capacity`` at one concurrency level (8 clients following the event stream, as the
page does) and reads the answer from its last lines: CPU milliseconds per analysis of the web
(POST plus the event stream to its end), of the worker's main process (Celery's consumer: taking
the message from Redis, handing it to the pool), of the pool processes, and the worker's total
minus the recognizer's own CPU as the pool processes counted it (``emotune_recognizer_cpu_seconds``,
read from the worker's metrics directory), beside the same photo's cost in this process on one
LiteRT thread with the stack idle. Targets: worker beyond the recognizer <= 10 ms, web <= 15 ms.

CPU time is the processes' own (user + system, /proc), so other load on the machine distorts it
far less than wall time; it still includes what contention adds (cache misses, context switches).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from recognizer.models import find_default_model

WORKER_TARGET_MS = 10.0
WEB_TARGET_MS = 15.0


def recognizer_cpu_ms(model: Path, photo: bytes, repeats: int = 20, threads: int = 1) -> float:
    """CPU milliseconds (every thread of this process) that one ``Recognizer.analyse`` of ``photo`` takes."""
    from recognizer.pipeline import Recognizer

    recognizer = Recognizer.from_path(model, num_threads=threads)
    for _ in range(3):  # first calls size buffers and plan the graph
        recognizer.analyse(photo)
    started = time.process_time()
    for _ in range(repeats):
        recognizer.analyse(photo)
    return (time.process_time() - started) * 1000 / repeats


def recognizer_cpu_s(metrics_dir: Path) -> float:
    """CPU seconds the worker's pool processes have counted for the recognizer so far."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(metrics_dir))
    return sum(sample.value for family in registry.collect() for sample in family.samples
               if sample.name == "emotune_recognizer_cpu_seconds_total")


def report(per: dict[str, float], in_pool_ms: float, idle_ms: float) -> list[str]:
    """The lines that read the targets off one level's CPU per analysis (``web``, ``main``, ``pool``)."""
    worker = per["main"] + per["pool"]
    return [
        f"CPU per analysis: web {per['web']:.1f} ms (target <= {WEB_TARGET_MS:.0f}); worker {worker:.1f} ms = "
        f"main process {per['main']:.1f} + pool {per['pool']:.1f}",
        f"recognizer in the pool {in_pool_ms:.1f} ms CPU (alone in this process, stack idle: {idle_ms:.1f}) -> "
        f"worker beyond the recognizer {worker - in_pool_ms:.1f} ms (target <= {WORKER_TARGET_MS:.0f}): "
        f"main {per['main']:.1f} + pool {per['pool'] - in_pool_ms:.1f}",
    ]


def main() -> None:
    """One capacity level at concurrency 8 with the overhead lines."""
    count = "200"
    if "--count" in sys.argv:
        count = sys.argv[sys.argv.index("--count") + 1]
    if find_default_model(Path(__file__).resolve().parents[1] / "ml" / "models") is None:
        raise SystemExit("No committed model under ml/models")
    from benchmarks import capacity

    sys.argv = [sys.argv[0], "--start", "8", "--max-concurrency", "8", "--per-level", count]
    capacity.main()


if __name__ == "__main__":
    main()
