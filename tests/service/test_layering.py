"""Import rules: libraries never import Flask, the worker never imports TensorFlow, one way only.

Every module of every library package is imported in a fresh interpreter, so a new module that
breaks a rule is caught without this file naming it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ("recognizer", "recommender", "ml")


def imported_modules(code: str, env: dict[str, str] | None = None) -> set[str]:
    script = f"{code}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=180, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return set(result.stdout.split())


def package_modules(package: str) -> list[str]:
    """Every importable module of ``package``, from its files (``__main__`` and tests aside)."""
    root = REPO_ROOT / package
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(REPO_ROOT).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def worker_env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "SECRET_KEY": "x", "EMOTUNE_INSTANCE_PATH": str(tmp_path)}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    return env


@pytest.mark.parametrize("package", LIBRARIES)
def test_libraries_never_import_flask_emotune_worker_or_prometheus(package: str) -> None:
    modules = package_modules(package)
    assert len(modules) >= 5, f"found only {modules} in {package}/"
    imported = imported_modules("\n".join(f"import {name}" for name in modules))
    assert set(modules) <= imported
    forbidden = {m for m in imported if m.split(".")[0] in {"flask", "emotune", "worker", "prometheus_client"}}
    assert not forbidden, f"{package} pulls in {sorted(forbidden)}"


def test_the_web_never_imports_the_worker_entry_point(tmp_path: Path) -> None:
    code = "import emotune\nimport " + "\nimport ".join(package_modules("emotune"))
    imported = imported_modules(code, worker_env(tmp_path))
    assert not {m for m in imported if m.split(".")[0] == "worker"}


def test_worker_never_imports_tensorflow(tmp_path: Path) -> None:
    modules = imported_modules("import worker", worker_env(tmp_path))
    assert {"worker", "emotune.tasks", "emotune.tasks.catalogue"} <= modules
    assert "tensorflow" not in modules and "keras" not in modules


def test_importing_the_worker_loads_no_model(tmp_path: Path) -> None:
    # The prefork parent imports the tasks before forking: the model must wait for the child.
    code = "import worker\nfrom emotune.served_model import loaded_in_this_process\nassert not loaded_in_this_process()"
    modules = imported_modules(code, worker_env(tmp_path))
    assert "ai_edge_litert.interpreter" not in modules


def test_worker_app_is_the_flask_apps_celery_with_the_beat_schedules(tmp_path: Path) -> None:
    code = (
        "import worker\nfrom emotune.tasks.catalogue import BEAT_SCHEDULE, refresh_playlists\n"
        "from emotune.tasks import sweep, sweep_schedule\n"
        "assert worker.app is worker.celery_app is worker.flask_app.extensions['celery']\n"
        "schedule = worker.celery_app.conf.beat_schedule\n"
        "assert schedule == {**BEAT_SCHEDULE, **sweep_schedule(worker.flask_app.config)}\n"
        "assert [e['task'] for e in schedule.values()].count(sweep.name) == 1\n"
        "assert BEAT_SCHEDULE['refresh-playlists-daily']['task'] == refresh_playlists.name\n"
        "assert {'emotune.tasks.analyse_selfie', 'emotune.tasks.ping', refresh_playlists.name} <= set(worker.celery_app.tasks)"
    )
    imported_modules(code, worker_env(tmp_path))


def test_the_web_imports_neither_opencv_nor_the_face_detector(tmp_path: Path) -> None:
    # The web checks uploads and shows results; decoding and detecting are the worker's.
    code = ("import emotune\nimport " + "\nimport ".join(package_modules("emotune"))
            + "\napp = emotune.create_app()\nclient = app.test_client()\nclient.get('/')\nclient.get('/healthz')")
    imported = imported_modules(code, worker_env(tmp_path))
    assert "emotune.api.serialise" in imported
    heavy = {m for m in imported if m.split(".")[0] in {"cv2", "onnxruntime", "ai_edge_litert"}
             or m.startswith(("recognizer.faces", "recognizer.pipeline", "recognizer.runtime"))}
    assert not heavy, f"the web pulls in {sorted(heavy)}"


def test_the_lifecycle_family_imports_one_way(tmp_path: Path) -> None:
    # Sealing and messages are leaves; the sweep builds on the state moves, never the reverse.
    package = imported_modules("import emotune", worker_env(tmp_path))  # what the package itself brings
    for leaf in ("emotune.photo_seal", "emotune.messages"):
        imported = imported_modules(f"import {leaf}", worker_env(tmp_path)) - package
        assert not {m for m in imported if m.startswith("emotune.") and m != leaf}, leaf
    lifecycle = imported_modules("import emotune.lifecycle", worker_env(tmp_path))
    assert {"emotune.photo_seal", "emotune.messages", "recommender.choice"} <= lifecycle
    assert "emotune.recovery" not in lifecycle and "emotune.tasks" not in lifecycle
    assert "emotune.lifecycle" in imported_modules("import emotune.recovery", worker_env(tmp_path))
