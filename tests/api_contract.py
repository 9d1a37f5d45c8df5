"""Reading the API contract (emotune/api/openapi.yaml) in tests: its operations and error codes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

METHODS = {"get", "post", "put", "patch", "delete"}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, method, operation) for every operation the document describes."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (one level is all the document uses for responses)."""
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def documented_codes(document: dict[str, Any], operation: dict[str, Any]) -> set[tuple[int, str]]:
    """(status, code) pairs an operation lists in its error responses' ``x-error-codes``."""
    pairs = set()
    for status, response in operation["responses"].items():
        for media in resolve(document, response).get("content", {}).values():
            pairs |= {(int(status), code) for code in media.get("x-error-codes", [])}
    return pairs
