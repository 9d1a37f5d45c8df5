"""The published API contract (emotune/api/openapi.yaml) against the code it describes.

The document is a valid OpenAPI 3.1 description, served at /api/openapi.json; every JSON route the
app has is described and every described operation is routed; every error code a view can answer
(read from its source and the helpers it calls) is listed under that operation and status, and no
operation lists a code that nothing raises.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from emotune.api.analyses import REJECTION_STATUS
from emotune.api.contract import openapi_document
from emotune.api.errors import HTTP_MESSAGES
from recognizer.errors import IMAGE_REJECTED_CODES
from tests.api_contract import METHODS, documented_codes, operations, resolve
from tests.prerequisites import REPO_ROOT

# Endpoints that serve the page and its files, not the API.
NOT_API = re.compile(r"^(static|pages\.)")
# What any operation may answer before or after its view runs (emotune.http, emotune.api.errors).
EVERYWHERE = {(414, "uri_too_long"), (431, "headers_too_large"), (500, "internal_error")}
# Routes whose errors come back to the page as a redirect (emotune.spotify_auth.page), not as JSON.
BACK_TO_PAGE = {"spotify_auth.callback"}
# Error helpers whose first two arguments are the status and the code.
ERROR_CALLS = {"ApiError", "error_response"}


def rule_path(rule: str) -> str:
    """A werkzeug rule as an OpenAPI path: ``<analysis_id>`` -> ``{analysis_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


class RaisedCodes:
    """The (status, code) pairs a view can answer, read from the source of the modules it uses.

    A call ``ApiError(404, "analysis_not_found", ...)`` counts, and so do the calls of the helpers
    a function calls (its module's own functions, those it imports from other app modules, and
    ``module.function`` through an imported app module), transitively; a helper that takes the code
    as a parameter answers the code its caller passes. A view that uses ``REJECTION_STATUS``
    answers every upload check's code.
    """

    def __init__(self) -> None:
        self.functions: dict[tuple[str, str], ast.FunctionDef] = {}
        self.imports: dict[str, dict[str, tuple[str, str]]] = {}

    def module(self, name: str) -> None:
        """Parse one app module (once)."""
        if name in self.imports:
            return
        source = Path(sys.modules[name].__file__ or "").read_text(encoding="utf-8")
        self.imports[name] = {}
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef):
                self.functions[(name, node.name)] = node
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("emotune"):
                for alias in node.names:
                    self.imports[name][alias.asname or alias.name] = (node.module, alias.name)

    def callee(self, module: str, func: ast.expr) -> tuple[str, str] | None:
        """(module, function) of an app function called as ``name(...)`` or ``alias.name(...)``."""
        if isinstance(func, ast.Name):
            if (module, func.id) in self.functions:
                return module, func.id
            return self.imports[module].get(func.id)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            imported = self.imports[module].get(func.value.id)
            if imported is not None and f"{imported[0]}.{imported[1]}" in sys.modules:
                return f"{imported[0]}.{imported[1]}", func.attr
        return None

    def of(self, module: str, function: str, seen: frozenset[tuple[str, str]] = frozenset()) -> set[tuple[int, Any]]:
        """Everything ``module.function`` and the app functions it calls can answer; a code that is
        the function's own parameter is given as ("param", its position)."""
        if module not in sys.modules:
            return set()
        self.module(module)
        if (module, function) in seen or (module, function) not in self.functions:
            return set()
        definition = self.functions[(module, function)]
        params = [arg.arg for arg in definition.args.args]
        pairs: set[tuple[int, Any]] = set()
        for node in ast.walk(definition):
            if isinstance(node, ast.Name) and node.id == "REJECTION_STATUS":
                pairs |= {(status, code) for code, status in REJECTION_STATUS.items()}
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name) and node.func.id in ERROR_CALLS:
                status, code = node.args[0], node.args[1]
                if "REJECTION_STATUS" in ast.unparse(status):
                    continue  # the upload checks' codes, counted above
                if isinstance(code, ast.Name) and code.id in params:
                    pairs.add((status.value, ("param", params.index(code.id))))  # type: ignore[attr-defined]
                    continue
                assert isinstance(status, ast.Constant) and isinstance(code, ast.Constant), (
                    f"{module}.{function}: {node.func.id} with a computed status or code cannot be "
                    "checked against the contract; use literals"
                )
                pairs.add((status.value, code.value))
                continue
            target = self.callee(module, node.func)
            if target is None:
                continue
            for status, code in self.of(*target, seen | {(module, function)}):
                if isinstance(code, tuple):  # the callee's code is this call's argument
                    argument = node.args[code[1]] if code[1] < len(node.args) else None
                    assert isinstance(argument, ast.Constant), f"{module}.{function}: calls {target} with a computed code"
                    code = argument.value
                pairs.add((status, code))
        return pairs


def framework_codes(app: Flask, rule: Any, method: str, view: Any) -> set[tuple[int, str]]:
    """What Flask and its extensions answer around a view: CSRF, rate limits, sizes, unmatched ids."""
    pairs = set(EVERYWHERE)
    csrf = app.extensions["csrf"]
    view_id = f"{view.__module__}.{view.__name__}"
    if method in {"POST", "PUT", "PATCH", "DELETE"} and view_id not in csrf._exempt_views:
        pairs.add((400, "csrf_failed"))
    source = inspect.getsource(view)
    if "@limiter.limit" in source:
        pairs.add((429, "rate_limited"))
    if any(reads in source for reads in ("request.files", "request.form", "get_json", "json_object(")):
        pairs.add((408, "request_timeout"))  # the body stopped arriving (emotune.http)
    if "request.files" in source or "request.form" in source:
        # Over MAX_CONTENT_LENGTH or the form's limits, or a multipart body werkzeug cannot parse.
        pairs |= {(413, "file_too_large"), (413, "form_too_large"), (400, "bad_request")}
    if rule.arguments:
        # A path segment that cannot match the rule (an id with a slash in it) never reaches the view.
        pairs.add((404, "not_found"))
    return pairs


@pytest.fixture
def document() -> dict[str, Any]:
    return openapi_document()


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_it_is_served_as_json(client: FlaskClient, document: dict[str, Any]) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == document


def test_every_route_is_described_and_every_description_is_routed(app: Flask, document: dict[str, Any]) -> None:
    routed = {
        (rule_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules() if not NOT_API.match(rule.endpoint)
        for method in rule.methods or () if method.lower() in METHODS
    }
    described = {(path, method) for path, method, _ in operations(document)}
    assert routed - described == set(), "routes missing from emotune/api/openapi.yaml"
    assert described - routed == set(), "operations in emotune/api/openapi.yaml that no route serves"


def test_every_error_code_is_listed_under_its_operation(app: Flask, document: dict[str, Any]) -> None:
    raised = RaisedCodes()
    checked = 0
    for rule in app.url_map.iter_rules():
        if NOT_API.match(rule.endpoint):
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operation = document["paths"][rule_path(rule.rule)][method.lower()]
            raised_here = set() if rule.endpoint in BACK_TO_PAGE else raised.of(view.__module__, view.__name__)
            code_says = {pair for pair in raised_here if isinstance(pair[1], str)} | framework_codes(
                app, rule, method, view)
            listed = documented_codes(document, operation)
            where = f"{method} {rule.rule} ({operation['operationId']})"
            assert code_says - listed == set(), f"{where}: error codes the code answers but the contract omits"
            assert listed - code_says == set(), f"{where}: error codes the contract lists but nothing answers"
            checked += 1
    assert checked >= 19


def test_every_upload_check_code_has_a_status() -> None:
    # A code the recognizer adds must get its HTTP status (and so its place in the contract).
    assert set(REJECTION_STATUS) == set(IMAGE_REJECTED_CODES)
    assert all(400 <= status < 500 for status in REJECTION_STATUS.values())


def test_every_error_response_uses_the_error_schema(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith(("4", "5")):
                continue
            for media_type, media in resolve(document, response).get("content", {}).items():
                where = f"{method.upper()} {path} {status}"
                assert media_type == "application/json", where
                schema = media["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"} or status in {"503"} and path == "/readyz", where
                if schema == {"$ref": "#/components/schemas/Error"}:
                    assert media.get("x-error-codes"), f"{where}: no error codes listed"


def test_generic_http_messages_are_error_codes_of_the_contract() -> None:
    # The codes the error handlers use must fit the contract's code pattern.
    pattern = re.compile(openapi_document()["components"]["schemas"]["Error"]["properties"]["error"]
                         ["properties"]["code"]["pattern"])
    assert all(pattern.match(code) for code, _ in HTTP_MESSAGES.values())
    assert REPO_ROOT.joinpath("emotune/api/openapi.yaml").is_file()


def test_generic_errors_are_json_on_every_described_path(client: FlaskClient, csrf_headers: dict[str, str],
                                                         document: dict[str, Any]) -> None:
    # 414 and 431 come before any view: they must still keep the error contract the document promises.
    for path, method, _ in operations(document):
        url = path.replace("{analysis_id}", "00000000-0000-0000-0000-000000000000")
        too_long = client.open(f"{url}?q={'x' * 3000}", method=method.upper(), headers=csrf_headers)
        assert too_long.status_code == 414 and too_long.get_json()["error"]["code"] == "uri_too_long", url
        too_large = client.open(url, method=method.upper(), headers={**csrf_headers, **{f"X-Filler-{i}": "y" * 4000 for i in range(5)}})
        assert too_large.status_code == 431 and too_large.get_json()["error"]["code"] == "headers_too_large", url


def test_the_login_callback_answers_its_errors_with_the_page(client: FlaskClient) -> None:
    for query in ("error=access_denied", "code=x&state=y"):
        response = client.get(f"/spotify/callback?{query}")
        assert response.status_code == 302 and "spotify=failed" in response.headers["Location"]
