"""A multipart part without a name: dropped while parsing, so it can neither be read nor crash a check."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.service.test_api_validation import count_analyses

BOUNDARY = "emotune-boundary"


def multipart(*parts: tuple[str, bytes]) -> bytes:
    """A multipart body from (Content-Disposition header value, content) pairs."""
    body = b"".join(
        f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"
        for disposition, content in parts
    )
    return body + f"--{BOUNDARY}--\r\n".encode()


def post(client: FlaskClient, body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return client.post("/api/analyses", data=body, headers=headers or {},
                       content_type=f"multipart/form-data; boundary={BOUNDARY}")


def test_an_unnamed_field_without_a_csrf_token_is_refused_as_such(app: Flask, client: FlaskClient) -> None:
    response = post(client, multipart(("form-data", b"{}"), ('form-data; name="strategy"', b"lift")))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert count_analyses(app) == 0


def test_an_unnamed_file_is_not_taken_for_the_photo(app: Flask, client: FlaskClient,
                                                    csrf_headers: dict[str, str]) -> None:
    response = post(client, multipart(('form-data; filename="selfie.jpg"', b"\xff\xd8\xff")), csrf_headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "no_file"
    assert count_analyses(app) == 0
