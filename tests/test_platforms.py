"""The runtime dependencies install from wheels on every supported platform (offline: reads the lock
``python -m benchmarks.platforms`` writes from PyPI)."""

import json

from benchmarks.platforms import LOCK, PLATFORMS, dependency_names, normalise


def _lock() -> dict:
    return json.loads(LOCK.read_text())


def test_the_lock_covers_every_runtime_dependency() -> None:
    # A dependency added to pyproject.toml without rerunning benchmarks.platforms fails here.
    assert sorted(dependency_names()) == _lock()["dependencies"], (
        "pyproject.toml's dependencies changed: run `python -m benchmarks.platforms` and commit the lock")


def test_every_dependency_has_a_wheel_on_every_platform() -> None:
    lock = _lock()
    assert set(lock["platforms"]) == set(PLATFORMS)
    assert lock["missing"] == {}, f"no wheel (a source build would be needed): {lock['missing']}"
    for platform, wheels in lock["platforms"].items():
        for name in lock["dependencies"]:
            assert name in wheels, f"{name} has no wheel for {platform}"
        for name, wheel in wheels.items():
            assert wheel.endswith(".whl") and normalise(wheel.split("-")[0]) == name, (platform, name, wheel)


def test_names_are_compared_as_pypi_does() -> None:
    assert normalise("Flask_SQLAlchemy") == "flask-sqlalchemy"
    assert "psycopg" in dependency_names() and "celery" in dependency_names()
