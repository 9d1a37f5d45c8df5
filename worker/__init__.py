"""The Celery worker's entry point: ``celery -A worker worker`` (and ``celery -A worker beat``).

As in Flask's own Celery example: build the app, take its Celery app. The tasks register
themselves when the app's modules import them; the worker-only signal handlers live here.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from celery.signals import beat_embedded_init, task_postrun, worker_process_init, worker_ready

from worker.metrics_dir import prepare_multiprocess_dir

prepare_multiprocess_dir()  # before anything imports prometheus-client

from emotune import create_app, served_model  # noqa: E402
from emotune.broker_cleanup import delete_delivered_messages  # noqa: E402
from emotune.cli.children import die_with_parent  # noqa: E402
from emotune.tasks.catalogue import BEAT_SCHEDULE  # noqa: E402
from emotune.extensions import db  # noqa: E402
from emotune.tasks import sweep_schedule  # noqa: E402

flask_app = create_app()
celery_app = app = flask_app.extensions["celery"]
celery_app.conf.beat_schedule = {**BEAT_SCHEDULE, **sweep_schedule(flask_app.config)}

from emotune import metrics_tasks  # noqa: E402,F401  (its signal handlers count the catalogue refreshes)
from worker import metrics  # noqa: E402


@worker_process_init.connect
def _load_model(**_: Any) -> None:
    """Each forked child loads its own model before its first photo (never the parent's copy).

    It also dies with the worker's main process: killed outright (SIGKILL, the OOM killer), that
    one cannot stop its pool, which would otherwise live on as orphans holding a model each.
    """
    die_with_parent(signal.SIGKILL, os.getppid())
    with flask_app.app_context():
        # Database connections inherited from the parent must not be shared with it.
        db.engine.dispose(close=False)
    served_model.forget()
    try:
        served_model.get_recognizer(flask_app.config)
    except served_model.ModelUnavailable as exc:
        flask_app.logger.error("No model in this worker process: %s", exc.message)
    except Exception:
        # Analyses then fail with a message of their own; the worker itself stays up.
        flask_app.logger.exception("Loading the model in a worker process failed")


@beat_embedded_init.connect
def _beat_dies_with_the_worker(**_: Any) -> None:
    """The beat a worker runs (``--beat``, as `emotune` does) stops when that worker dies."""
    die_with_parent(signal.SIGTERM, os.getppid())


@worker_ready.connect
def _clean_broker_on_start(**_: Any) -> None:
    delete_delivered_messages(celery_app.conf.broker_url)


@worker_ready.connect
def _serve_metrics(**_: Any) -> None:
    """The main process serves every worker process's metrics (EMOTUNE_WORKER_METRICS_PORT)."""
    metrics.serve_metrics(flask_app.config)


@task_postrun.connect
def _clean_broker_after_task(**_: Any) -> None:
    delete_delivered_messages(celery_app.conf.broker_url)
