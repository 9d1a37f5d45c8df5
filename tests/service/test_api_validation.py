"""Every bad input to the API gets its own 4xx, a JSON error saying what to do, and no row written."""

from __future__ import annotations

import io
import uuid

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from emotune.extensions import db
from emotune.models import Analysis


def count_analyses(app: Flask) -> int:
    with app.app_context():
        return db.session.query(Analysis).count()


def post_image(client: FlaskClient, headers: dict[str, str], data: bytes | None, filename: str = "selfie.jpg",
               **form: str):
    payload: dict[str, object] = dict(form)
    if data is not None:
        payload["image"] = (io.BytesIO(data), filename)
    return client.post("/api/analyses", data=payload, headers=headers, content_type="multipart/form-data")


def encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def assert_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and len(message) > 20
    return message


def test_no_file_field(app: Flask, client: FlaskClient, csrf_headers: dict[str, str]) -> None:
    message = assert_error(post_image(client, csrf_headers, None), 400, "no_file")
    assert "'image'" in message
    assert count_analyses(app) == 0


def test_empty_file(app: Flask, client: FlaskClient, csrf_headers: dict[str, str]) -> None:
    assert_error(post_image(client, csrf_headers, b""), 400, "empty_file")
    assert count_analyses(app) == 0


def test_text_file_renamed_jpg(app: Flask, client: FlaskClient, csrf_headers: dict[str, str]) -> None:
    data = b"Dear diary, today I felt happy.\n" * 20
    message = assert_error(post_image(client, csrf_headers, data, "notes.jpg"), 400, "not_an_image")
    assert "JPEG" in message
    assert count_analyses(app) == 0


@pytest.mark.parametrize("fmt", ["PPM", "ICO"])
def test_unsupported_format(app: Flask, client: FlaskClient, csrf_headers: dict[str, str], fmt: str) -> None:
    data = encode(Image.new("RGB", (128, 128), (120, 90, 60)), fmt)
    message = assert_error(post_image(client, csrf_headers, data, f"selfie.{fmt.lower()}"), 415, "unsupported_format")
    assert "JPEG" in message
    assert count_analyses(app) == 0


def test_truncated_jpeg(app: Flask, client: FlaskClient, csrf_headers: dict[str, str], face_jpeg: bytes) -> None:
    truncated = face_jpeg[: len(face_jpeg) // 2]
    assert_error(post_image(client, csrf_headers, truncated), 400, "truncated_image")
    assert count_analyses(app) == 0


def test_file_over_size_limit(tmp_path, csrf_headers: dict[str, str]) -> None:
    from tests.conftest import make_app

    small = make_app(tmp_path / "small", MAX_CONTENT_LENGTH=200_000)
    client = small.test_client()
    token = client.get("/api/csrf").get_json()["csrf_token"]
    response = post_image(client, {"X-CSRFToken": token}, b"\xff" * 300_000)
    message = assert_error(response, 413, "file_too_large")
    assert "smaller photo" in message
    assert count_analyses(small) == 0


def test_default_size_limit_is_about_10_mb(app: Flask) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024


def test_decompression_bomb(app: Flask, client: FlaskClient, csrf_headers: dict[str, str]) -> None:
    # A tiny PNG file that claims 20000 x 20000 pixels: over Pillow's pixel limit.
    bomb = encode(Image.new("1", (20_000, 20_000)), "PNG")
    assert len(bomb) < 200_000
    assert_error(post_image(client, csrf_headers, bomb, "bomb.png"), 413, "image_too_large")
    assert count_analyses(app) == 0


def test_image_too_small(app: Flask, client: FlaskClient, csrf_headers: dict[str, str]) -> None:
    data = encode(Image.new("RGB", (32, 24), (200, 180, 160)), "JPEG")
    message = assert_error(post_image(client, csrf_headers, data), 422, "image_too_small")
    assert "48" in message
    assert count_analyses(app) == 0


def test_image_too_narrow_gets_422_with_its_real_size(app: Flask, client: FlaskClient,
                                                      csrf_headers: dict[str, str]) -> None:
    data = encode(Image.new("RGB", (48, 60000), (200, 180, 160)), "PNG")
    message = assert_error(post_image(client, csrf_headers, data, "strip.png"), 422, "image_too_narrow")
    assert "48x60000" in message
    assert count_analyses(app) == 0


def test_unknown_strategy(app: Flask, client: FlaskClient, csrf_headers: dict[str, str], face_jpeg: bytes) -> None:
    message = assert_error(post_image(client, csrf_headers, face_jpeg, strategy="shout"), 400, "unknown_strategy")
    assert "match" in message and "lift" in message and "calm" in message
    assert count_analyses(app) == 0


@pytest.mark.parametrize("analysis_id", ["not-a-uuid", "123", str(uuid.uuid4())])
def test_unknown_or_malformed_analysis_id(client: FlaskClient, analysis_id: str) -> None:
    assert_error(client.get(f"/api/analyses/{analysis_id}"), 404, "analysis_not_found")
    assert_error(client.get(f"/api/analyses/{analysis_id}/recommendations"), 404, "analysis_not_found")


def test_post_without_csrf_token_is_refused(app: Flask, client: FlaskClient, face_jpeg: bytes) -> None:
    message = assert_error(post_image(client, {}, face_jpeg), 400, "csrf_failed")
    assert "X-CSRFToken" in message
    assert count_analyses(app) == 0


def test_post_with_wrong_csrf_token_is_refused(app: Flask, client: FlaskClient, face_jpeg: bytes) -> None:
    client.get("/api/csrf")
    assert_error(post_image(client, {"X-CSRFToken": "forged"}, face_jpeg), 400, "csrf_failed")
    assert count_analyses(app) == 0


def test_rate_limit_on_analyses(tmp_path, face_jpeg: bytes) -> None:
    from tests.conftest import make_app

    limited = make_app(tmp_path / "limited", EMOTUNE_ANALYSES_RATE_LIMIT="2 per minute")
    client = limited.test_client()
    headers = {"X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}
    assert post_image(client, headers, face_jpeg).status_code == 202
    assert post_image(client, headers, face_jpeg).status_code == 202
    message = assert_error(post_image(client, headers, face_jpeg), 429, "rate_limited")
    assert "wait" in message
    assert count_analyses(limited) == 2


def test_unknown_api_route_is_json_404(client: FlaskClient) -> None:
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
