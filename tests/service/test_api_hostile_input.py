"""Hostile and careless input gets a true 4xx in the error contract, never a 500, on both databases."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from emotune import lifecycle
from emotune.extensions import db
from emotune.models import Analysis
from recommender.models import Feedback
from tests.conftest import make_app
from tests.service.test_api_group import HEADERS, finished_with, four_faces
from tests.service.test_api_validation import assert_error, post_image
from tests.service.test_tasks import new_analysis


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """The app with a seeded catalogue, on SQLite and on PostgreSQL."""
    from recommender.seed import seed_catalogue

    extra = {"DATABASE_URL": request.getfixturevalue("pg_url")} if request.param == "postgresql" else {}
    app = make_app(tmp_path / "instance", **extra)
    with app.app_context():
        seed_catalogue(db.session)
    yield app
    with app.app_context():
        db.engine.dispose()


def voter(app: Flask) -> tuple[FlaskClient, dict[str, str], str, str]:
    """A client holding a finished four-face analysis' token: client, headers, feedback URL, a shown playlist."""
    analysis_id = finished_with(app, four_faces())
    client = app.test_client()
    headers = {**HEADERS, "X-CSRFToken": client.get("/api/csrf").get_json()["csrf_token"]}
    shown = client.get(f"/api/analyses/{analysis_id}", headers=HEADERS).get_json()
    playlist = shown["recommendations"]["playlists"][0]["spotify_id"]
    return client, headers, f"/api/analyses/{analysis_id}/feedback", playlist


def votes(app: Flask) -> int:
    with app.app_context():
        return db.session.query(Feedback).count()


@pytest.mark.parametrize("face", ["1e400", "Infinity", "-Infinity", "NaN", "0.5", "1.0", "true", '"1"', "[0]"])
def test_a_face_that_is_not_a_whole_number_is_refused(seeded_app: Flask, face: str) -> None:
    client, headers, url, playlist = voter(seeded_app)
    body = f'{{"playlist_id": "{playlist}", "vote": "up", "face": {face}}}'
    response = client.post(url, data=body, headers=headers, content_type="application/json")
    message = assert_error(response, 400, "unknown_face")
    assert "whole number" in message and "0 to 3" in message
    assert votes(seeded_app) == 0


def test_a_body_nested_a_hundred_thousand_deep_is_a_400(seeded_app: Flask) -> None:
    client, headers, url, _ = voter(seeded_app)
    response = client.post(url, data="[" * 100_000 + "]" * 100_000, headers=headers,
                           content_type="application/json")
    message = assert_error(response, 400, "invalid_feedback")
    assert "nested too deeply" in message and '"playlist_id"' in message


@pytest.mark.parametrize("playlist_id", ["abc\u0000def", 5, True, None, ["x"]])
def test_a_playlist_id_that_is_not_storable_text_is_a_400(seeded_app: Flask, playlist_id: object) -> None:
    client, headers, url, _ = voter(seeded_app)
    response = client.post(url, json={"playlist_id": playlist_id, "vote": "up"}, headers=headers)
    assert "playlist_id" in assert_error(response, 400, "invalid_feedback")


@pytest.mark.parametrize("vote", [True, 1.0, 0.5, "1", 2, None])
def test_only_up_down_and_plus_minus_one_are_votes(seeded_app: Flask, vote: object) -> None:
    client, headers, url, playlist = voter(seeded_app)
    response = client.post(url, json={"playlist_id": playlist, "vote": vote}, headers=headers)
    assert "'up' or 'down'" in assert_error(response, 400, "invalid_vote")
    assert votes(seeded_app) == 0
    assert client.post(url, json={"playlist_id": playlist, "vote": -1}, headers=headers).status_code == 201


@pytest.mark.parametrize("body", ["[1, 2]", '"Happy"', "3", "null", "[" * 50_000])
def test_a_playlist_request_that_is_not_an_object_is_a_400(client: FlaskClient, csrf_headers: dict[str, str],
                                                           body: str) -> None:
    response = client.post("/spotify/playlists", data=body, headers=csrf_headers, content_type="application/json")
    assert '"emotion"' in assert_error(response, 400, "invalid_playlist_request")


@pytest.mark.parametrize("field", ["emotion", "strategy", "source_playlist_id"])
def test_a_playlist_request_with_a_nul_or_a_number_is_a_400(client: FlaskClient, csrf_headers: dict[str, str],
                                                            field: str) -> None:
    for value in ("Sad\u0000", 7):
        body = {"emotion": "Sad", "strategy": "lift", field: value}
        response = client.post("/spotify/playlists", json=body, headers=csrf_headers)
        assert f"{field} must be text" in assert_error(response, 400, "invalid_playlist_request")


def test_too_many_form_parts_are_not_called_a_large_file(app: Flask, client: FlaskClient,
                                                         csrf_headers: dict[str, str], face_jpeg: bytes) -> None:
    fields: dict[str, object] = {f"f{i}": "x" for i in range(1_500)}
    fields["image"] = (io.BytesIO(face_jpeg), "selfie.jpg")
    response = client.post("/api/analyses", data=fields, headers=csrf_headers, content_type="multipart/form-data")
    message = assert_error(response, 413, "form_too_large")
    assert "more than 1000 parts" in message and "MB" not in message


def test_a_long_strategy_field_is_not_called_a_large_file(app: Flask, client: FlaskClient,
                                                          csrf_headers: dict[str, str], face_jpeg: bytes) -> None:
    data = {"strategy": "x" * 600_000, "image": (io.BytesIO(face_jpeg), "selfie.jpg")}
    response = client.post("/api/analyses", data=data, headers=csrf_headers, content_type="multipart/form-data")
    message = assert_error(response, 413, "form_too_large")
    assert "text field over 500 KB" in message and "10 MB" not in message


def test_an_unknown_strategy_is_not_echoed_whole(app: Flask, client: FlaskClient,
                                                 csrf_headers: dict[str, str], face_jpeg: bytes) -> None:
    data = {"strategy": "x" * 100_000, "image": (io.BytesIO(face_jpeg), "selfie.jpg")}
    response = client.post("/api/analyses", data=data, headers=csrf_headers, content_type="multipart/form-data")
    assert len(assert_error(response, 400, "unknown_strategy")) < 200


def test_recommendations_of_a_failed_analysis_say_it_failed(seeded_app: Flask) -> None:
    analysis_id = new_analysis(seeded_app)
    with seeded_app.app_context():
        lifecycle.fail(db.session.get(Analysis, uuid.UUID(analysis_id)), "truncated_image",
                       "The image file is incomplete or damaged. Try again or choose another photo.")
    client = seeded_app.test_client()
    response = client.get(f"/api/analyses/{analysis_id}/recommendations", headers=HEADERS)
    message = assert_error(response, 409, "analysis_failed")
    assert "failed" in message and "choose another photo" in message and "not finished" not in message


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "WEBP"])
def test_the_largest_accepted_upload_costs_the_web_little_cpu(app: Flask, client: FlaskClient,
                                                              csrf_headers: dict[str, str], fmt: str) -> None:
    from tests.recognizer.test_upload_check import largest

    data = largest(fmt)
    assert post_image(client, csrf_headers, data, f"selfie.{fmt.lower()}").status_code == 202  # warm
    started = time.process_time()
    response = post_image(client, csrf_headers, data, f"selfie.{fmt.lower()}")
    spent = time.process_time() - started
    assert response.status_code == 202, response.get_json()
    # Decoding the 64 MP PNG took 0.67 s of the web's CPU; the check reads its markers only.
    assert spent < 0.2, f"{fmt}: {spent:.3f} s of CPU in the web"


@pytest.mark.parametrize(("fmt", "filename", "mimetype"), [("HEIF", "IMG_0001.HEIC", "image/heic"),
                                                         ("AVIF", "IMG_0002.avif", "image/avif")])
def test_phone_formats_are_accepted(app: Flask, client: FlaskClient, csrf_headers: dict[str, str], fmt: str,
                                    filename: str, mimetype: str) -> None:
    from tests.recognizer.photos import one_face_photo

    out = io.BytesIO()
    one_face_photo().save(out, fmt, quality=85)
    upload = (io.BytesIO(out.getvalue()), filename, mimetype)
    response = client.post("/api/analyses", data={"image": upload}, headers=csrf_headers,
                           content_type="multipart/form-data")
    assert response.status_code == 202, response.get_json()
