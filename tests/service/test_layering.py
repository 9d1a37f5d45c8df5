"""Import rules: the worker never imports TensorFlow; recognizer/recommender/ml never import Flask."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def imported_modules(code: str, env: dict[str, str] | None = None) -> set[str]:
    script = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return set(result.stdout.split())


def test_worker_never_imports_tensorflow(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "SECRET_KEY": "x", "EMOTUNE_INSTANCE_PATH": str(tmp_path)}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    modules = imported_modules(
        "import worker\nworker.celery_app.loader.import_default_modules()\nimport worker.tasks", env
    )
    assert "worker.tasks" in modules and "emotune" in modules
    assert "tensorflow" not in modules and "keras" not in modules


def test_libraries_never_import_flask() -> None:
    modules = imported_modules(
        "import recognizer.pipeline, recognizer.images, recommender.service, recommender.seed, recommender.feedback"
    )
    assert "flask" not in modules


def test_importing_the_tasks_loads_no_model(tmp_path: Path) -> None:
    import os

    # The prefork parent imports the tasks before forking: the model must wait for the child.
    env = {**os.environ, "SECRET_KEY": "x", "EMOTUNE_INSTANCE_PATH": str(tmp_path)}
    code = (
        "import worker\nworker.celery_app.loader.import_default_modules()\n"
        "from worker.model_cache import loaded_in_this_process\nassert not loaded_in_this_process()"
    )
    modules = imported_modules(code, env)
    assert "ai_edge_litert.interpreter" not in modules


def test_worker_app_merges_the_catalogue_beat_schedule(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "SECRET_KEY": "x", "EMOTUNE_INSTANCE_PATH": str(tmp_path)}
    code = (
        "import worker\nfrom worker.catalogue_tasks import BEAT_SCHEDULE\n"
        "assert worker.app is worker.celery_app\n"
        "assert BEAT_SCHEDULE and all(worker.celery_app.conf.beat_schedule[k] == v for k, v in BEAT_SCHEDULE.items())"
    )
    imported_modules(code, env)
