"""Strict reading of what a client sends: a JSON object, whole numbers in range, strings without NUL.

Python's JSON parser reads ``1e400`` and ``Infinity`` as floats, ``true`` as something that equals
1, and a deeply nested body exhausts the recursion limit; PostgreSQL refuses a NUL in a string.
Each of those is the client's mistake, so each becomes a 400 saying what to send instead.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request

from emotune.api.errors import ApiError

# Longest string echoed back in an error message: a 500 KB field is not repeated to its sender.
ECHO_CHARS = 40
_DIGITS = re.compile(r"[0-9]{1,9}")


def shown(value: object) -> str:
    """``value`` as an error message quotes it, cut short when long."""
    text = repr(value)
    return text if len(text) <= ECHO_CHARS else text[:ECHO_CHARS] + "...'"


def json_object(code: str, example: str) -> dict[str, Any]:
    """The request's JSON body as a dict, or a 400 ``code`` whose message shows ``example``."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise ApiError(400, code, f"The JSON body is nested too deeply to read. Send a flat object: {example}") from None
    if not isinstance(body, dict):
        raise ApiError(400, code, f"Send a JSON object: {example}")
    return body


def is_text(value: object) -> bool:
    """Whether ``value`` is a string a database can store (no NUL character)."""
    return isinstance(value, str) and "\x00" not in value


def is_optional_text(value: object) -> bool:
    """Whether ``value`` is left out (None) or text a database can store."""
    return value is None or is_text(value)


def is_whole_number(value: object) -> bool:
    """Whether ``value`` is a JSON integer: not a boolean, not a float such as 1.0, 0.5 or 1e400."""
    return isinstance(value, int) and not isinstance(value, bool)


def index_in_range(value: object, count: int, from_query: bool = False) -> int | None:
    """``value`` as an index below ``count``, else None: a JSON integer, or digits in a query string."""
    if from_query and isinstance(value, str):
        value = int(value) if _DIGITS.fullmatch(value) else None
    if is_whole_number(value) and 0 <= value < count:  # type: ignore[operator]
        return int(value)  # type: ignore[arg-type]
    return None
