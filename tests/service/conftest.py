"""Fixtures for service tests: an app with a real (untrained) plan model and a seeded catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import make_app


@pytest.fixture
def model_app(tmp_path: Path, plan_model_tflite: Path) -> Flask:
    """The app on embedded defaults serving the plan-architecture model, catalogue seeded."""
    from emotune.extensions import db
    from recommender.seed import seed_catalogue

    app = make_app(tmp_path / "instance", EMOTUNE_MODEL_PATH=str(plan_model_tflite), EMOTUNE_LITERT_THREADS=1)
    with app.app_context():
        seed_catalogue(db.session)
    return app
