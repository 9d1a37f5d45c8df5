"""Property-based tests of every operation in the API contract against the real app (Schemathesis).

Each operation gets requests generated from its description, valid ones and deliberately invalid
ones, sent to the Flask app of tests/conftest.py (SQLite, and PostgreSQL for the operations whose
input reaches the database). Every answer must be no 500, a status the contract lists, the content
type and schema it describes, and for every error the error contract: ``{"error": {"code",
"message"}}`` with a code the contract lists for that operation and status.

Most requests carry the session's CSRF token (some do not, to exercise the refusal), and half of
those that name an analysis name a finished one that this client may read, with real playlist ids
and face numbers, so the checks run past the 404; a quarter of the strings in JSON bodies get a NUL
byte. ``EMOTUNE_FUZZ_EXAMPLES`` sets the examples per
operation and generation mode (default 25 and the same examples every run, about a minute in all;
``make fuzz`` runs 500 with fresh randomness).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from emotune.api.contract import openapi_document
from emotune.extensions import db
from emotune.models import Analysis
from tests.api_contract import documented_codes
from tests.conftest import make_app
from tests.service.test_api_group import finished_with, four_faces
from tests.service.test_tasks import TOKEN

EXAMPLES = int(os.environ.get("EMOTUNE_FUZZ_EXAMPLES", "25"))
# The default run is the same every time (CI); a longer run set through the environment explores.
DERANDOMIZE = "EMOTUNE_FUZZ_EXAMPLES" not in os.environ
DOCUMENT = openapi_document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = {operation.label: operation for operation in (result.ok() for result in SCHEMA.get_all_operations())}
# Operations whose input reaches the database as text (ids, playlist ids, form fields): PostgreSQL
# refuses what SQLite stores (NUL bytes), so these run on both.
ON_POSTGRESQL = [
    "POST /api/analyses",
    "GET /api/analyses/{analysis_id}",
    "DELETE /api/analyses/{analysis_id}",
    "GET /api/analyses/{analysis_id}/recommendations",
    "POST /api/analyses/{analysis_id}/feedback",
    "POST /spotify/playlists",
]


def no_server_fault(ctx: Any, response: Any, case: Any) -> bool | None:
    """Never a 500: that is our fault. (Other 5xx are designed answers the contract lists, such as
    503 from /readyz without a worker; ``status_code_conformance`` holds them to the list.)"""
    assert response.status_code != 500, f"{case.operation.label} answered 500: {response.content[:500]!r}"
    return True


def error_contract(ctx: Any, response: Any, case: Any) -> bool | None:
    """An error is ``{"error": {"code", "message"}}`` with a code listed for its operation and status."""
    operation = DOCUMENT["paths"][case.operation.path][case.method.lower()]
    listed = {code for status, code in documented_codes(DOCUMENT, operation) if status == response.status_code}
    if response.status_code < 400 or (response.status_code >= 500 and not listed):
        return None  # a success, or a designed 5xx with a body of its own (/readyz)
    body = json.loads(response.content)
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict), f"{response.status_code} without an error object: {body!r}"
    assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str) and error["message"], body
    assert error["code"] in listed, (
        f"{case.operation.label} answered {response.status_code} {error['code']!r}, which the contract "
        f"does not list for that status (it lists {sorted(listed)})"
    )
    return True


CHECKS = [no_server_fault, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, error_contract]


class Target:
    """The app under test with one client session: its cookie, CSRF token and a finished analysis."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        client = app.test_client()
        self.csrf = client.get("/api/csrf").get_json()["csrf_token"]
        self.cookie_name = app.config["SESSION_COOKIE_NAME"]
        cookie = client.get_cookie(self.cookie_name)
        assert cookie is not None
        self.cookie = cookie.value
        self.analysis_id = ""
        self.playlists: list[str] = []

    def finished_analysis(self) -> str:
        """The id of a done analysis with four faces and playlists (made again after a fuzzed DELETE)."""
        with self.app.app_context():
            if self.analysis_id and db.session.get(Analysis, uuid.UUID(self.analysis_id)) is not None:
                return self.analysis_id
        self.analysis_id = finished_with(self.app, four_faces())
        with self.app.app_context():
            analysis = db.session.get(Analysis, uuid.UUID(self.analysis_id))
            assert analysis is not None and analysis.recommendations
            self.playlists = [card["spotify_id"] for card in analysis.recommendations["playlists"]]
        return self.analysis_id


def fuzz_app(instance: Path, **config: Any) -> Flask:
    """The app on test defaults with a seeded catalogue; readiness does not wait long for a worker."""
    from recommender.seed import seed_catalogue

    app = make_app(instance, EMOTUNE_READY_PING_TIMEOUT_S=0.2, **config)
    with app.app_context():
        seed_catalogue(db.session)
    return app


def has_input(operation: Any) -> bool:
    """Whether the operation takes anything a request can get wrong (parameters or a body)."""
    return bool(operation.path_parameters or operation.query or operation.headers or operation.body)


def fuzz(app: Flask, label: str) -> None:
    """Send EXAMPLES valid and EXAMPLES invalid requests of one operation; every answer passes CHECKS."""
    operation = OPERATIONS[label]
    target = Target(app)
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]

    for mode in modes:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=DERANDOMIZE,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(mode), csrf=st.integers(0, 9), real=st.booleans(), data=st.data())
        def run(case: Any, csrf: int, real: bool, data: st.DataObject) -> None:
            headers = {"X-CSRFToken": target.csrf} if csrf else {}
            if real and "analysis_id" in (case.path_parameters or {}):
                case.path_parameters["analysis_id"] = target.finished_analysis()
                headers["Authorization"] = f"Bearer {TOKEN}"
                if isinstance(case.body, dict) and "playlist_id" in case.body and data.draw(st.booleans()):
                    case.body["playlist_id"] = data.draw(st.sampled_from(target.playlists))
                if isinstance(case.query, dict) and "face" in case.query and data.draw(st.booleans()):
                    case.query["face"] = data.draw(st.integers(0, 3))
            if isinstance(case.body, dict):
                # NUL bytes reach the database in some strings: SQLite keeps them, PostgreSQL refuses.
                for key, value in list(case.body.items()):
                    if isinstance(value, str) and data.draw(st.integers(0, 3)) == 0:
                        case.body[key] = value[:1] + "\x00" + value[1:]
            response = case.call(app=app, headers=headers, cookies={target.cookie_name: target.cookie})
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid: an operation without parameters or a body.
            assert mode is GenerationMode.NEGATIVE and not has_input(operation), label


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_on_sqlite(tmp_path: Path, label: str) -> None:
    fuzz(fuzz_app(tmp_path / "instance"), label)


@pytest.mark.parametrize("label", ON_POSTGRESQL)
def test_operation_on_postgresql(tmp_path: Path, pg_url: str, label: str) -> None:
    app = fuzz_app(tmp_path / "instance", DATABASE_URL=pg_url)
    try:
        fuzz(app, label)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_every_operation_is_fuzzed() -> None:
    described = {f"{method.upper()} {path}" for path, item in DOCUMENT["paths"].items() for method in item
                 if method in {"get", "post", "put", "patch", "delete"}}
    assert set(OPERATIONS) == described
    assert set(ON_POSTGRESQL) <= described
