"""The service's Prometheus metrics and their exposition (prometheus-client).

One set of metric objects for every process. A process started with ``PROMETHEUS_MULTIPROC_DIR``
(prometheus-client's own variable, read when it is first imported) writes its samples to files in
that directory, and ``exposition`` then reports every process writing there: the web's gunicorn
workers, and the Celery worker's pool processes (``worker.metrics``). Without it a process reports
its own samples only.

Labels hold codes and names from fixed lists (error codes, statuses, stages), never ids or input.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

UPLOADS = Counter("emotune_uploads", "Photos accepted and queued for analysis")
UPLOAD_REJECTIONS = Counter("emotune_upload_rejections", "Uploads refused before queueing, by error code",
                            ["code"])
ANALYSES_FINISHED = Counter("emotune_analyses_finished", "Analyses that ended, by final status and failure code "
                            "(code 'none' when done)", ["status", "code"])
QUEUE_WAIT = Histogram("emotune_analysis_queue_wait_seconds", "From upload to a worker starting the analysis",
                       buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300))
STAGE_SECONDS = Histogram("emotune_analysis_stage_seconds", "Time of each stage of a finished analysis: the "
                          "recognizer's decode, detect and classify, then recommend", ["stage"],
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
FACES_PER_PHOTO = Histogram("emotune_faces_per_photo", "Faces read in each finished analysis",
                            buckets=(0, 1, 2, 3, 4, 6, 8, 12, 16))
# CPU (every thread of the process), not wall time: what an analysis costs the machine, which the
# rest of the worker's CPU per analysis is read against (``python -m benchmarks.overhead``).
RECOGNIZER_CPU = Counter("emotune_recognizer_cpu_seconds", "CPU seconds the recognizer spent reading photos "
                         "(decode, detect, classify), all its threads")
SPOTIFY_CALLS = Counter("emotune_spotify_calls", "Calls to Spotify by what they were for and how they ended",
                        ["call", "outcome"])


def exposition() -> bytes:
    """The Prometheus text format: this process's metrics, or every process's in multiprocess mode."""
    directory = os.environ.get(MULTIPROC_ENV)
    if not directory:
        from prometheus_client import REGISTRY

        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return generate_latest(registry)
