"""The published API contract: ``emotune/api/openapi.yaml`` (OpenAPI 3.1), served at ``/api/openapi.json``.

The description is written by hand beside the routes; ``tests/service/test_openapi.py`` holds it to
the code (every route described and every description routed, every error code the views raise
listed for its operation) and validates it with ``openapi-spec-validator``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Response, jsonify

from emotune.api import bp

CONTRACT_PATH = Path(__file__).with_name("openapi.yaml")


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI description as a dict (read once per process)."""
    with CONTRACT_PATH.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@bp.get("/openapi.json")
def get_openapi() -> Response:
    """The API's OpenAPI 3.1 description, as JSON."""
    return jsonify(openapi_document())
