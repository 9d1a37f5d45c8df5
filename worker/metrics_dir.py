"""The worker's metrics directory, set before anything imports prometheus-client.

Analyses run in the worker's pool processes, so the worker always uses prometheus-client's
multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR`` when the operator sets it (shared with the web on
one host, the web's /metrics reports both), else a private directory made at start and removed at
exit, reported by the worker's own endpoint (``worker.metrics``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import MutableMapping

from emotune.config import config_from_env

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir(env: MutableMapping[str, str] = os.environ) -> str:
    """The directory this worker's processes write their metrics to (created; set in ``env``)."""
    directory = config_from_env(env)[ENV]
    if directory:
        os.makedirs(directory, exist_ok=True)
        return directory
    directory = tempfile.mkdtemp(prefix="emotune-worker-metrics-")
    env[ENV] = directory
    owner = os.getpid()

    def remove() -> None:
        # Forked pool processes inherit this handler; only the worker that made the directory removes it.
        if os.getpid() == owner:
            shutil.rmtree(directory, ignore_errors=True)

    atexit.register(remove)
    return directory
