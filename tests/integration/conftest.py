"""Integration fixtures: the service's configuration for the embedded and the server setups."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import unique_name
from tests.integration.servers import PG_BIN
from tests.prerequisites import missing

pytestmark = pytest.mark.integration


def poll_done(get: Callable[[], dict[str, Any]], timeout: float = 90) -> dict[str, Any]:
    """Poll an analysis until it is done or failed; fail the test if it is still pending."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = get()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.25)
    raise AssertionError(f"analysis still {body.get('status')} after {timeout} s: {body}")


def http_session(base_url: str) -> tuple[requests.Session, dict[str, str]]:
    """A requests session with the CSRF token an API client gets from GET /api/csrf."""
    session = requests.Session()
    token = session.get(f"{base_url}/api/csrf", timeout=10).json()["csrf_token"]
    return session, {"X-CSRFToken": token}


@pytest.fixture
def service_config(tmp_path: Path, plan_model_tflite: Path) -> dict[str, str | None]:
    """Environment for every process of one test: its instance folder, queue, model, secret."""
    return {
        "SECRET_KEY": "integration-secret",
        "EMOTUNE_INSTANCE_PATH": str(tmp_path / "instance"),
        "EMOTUNE_QUEUE": unique_name("emotune_it"),
        "EMOTUNE_MODEL_PATH": str(plan_model_tflite),
        "EMOTUNE_LITERT_THREADS": "1",
        "SESSION_COOKIE_SECURE": "false",
        "EMOTUNE_ANALYSES_RATE_LIMIT": "1000 per minute",
    }


@pytest.fixture
def servers_available() -> None:
    """redis-server and PostgreSQL's initdb/pg_ctl on this machine (to start private servers)."""
    if not shutil.which("redis-server"):
        missing("redis-server on PATH (apt-get install redis-server)")
    if not (PG_BIN / "initdb").exists():
        missing(f"PostgreSQL server binaries in {PG_BIN} (set EMOTUNE_TEST_PG_BIN)")
