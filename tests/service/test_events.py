"""Server-sent events for one analysis (``GET /api/analyses/<id>/events``) on the embedded setup."""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Flask

from tests.service.test_tasks import TOKEN, fetch, new_analysis, run_task

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def events(chunks: Iterator[bytes]) -> Iterator[tuple[str, dict]]:
    """(event name, data) of each event in a text/event-stream, as the chunks arrive."""
    buffer = ""
    for chunk in chunks:
        buffer += chunk.decode()
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.split("\n") if line and not line.startswith(":"))
            if "event" in fields:
                yield fields["event"], json.loads(fields["data"])


def test_a_finished_analysis_streams_its_result_once_and_ends(model_app: Flask, face_jpeg: bytes) -> None:
    analysis_id = new_analysis(model_app)
    assert run_task(model_app, analysis_id, face_jpeg) == "done"
    response = model_app.test_client().get(f"/api/analyses/{analysis_id}/events", headers=AUTH)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"  # never kept by a cache: personal data
    text = response.get_data(as_text=True)
    assert text.startswith("retry: ")
    (name, body), = list(events(iter([text.encode()])))
    assert name == "analysis" and body == fetch(model_app, analysis_id)


def test_the_stream_follows_a_queued_analysis_to_its_end(model_app: Flask, face_jpeg: bytes) -> None:
    analysis_id = new_analysis(model_app)
    response = model_app.test_client().get(f"/api/analyses/{analysis_id}/events", headers=AUTH, buffered=False)
    stream = events(iter(response.response))
    name, first = next(stream)
    assert (name, first["status"], first["stage"]) == ("analysis", "queued", "queued")
    assert run_task(model_app, analysis_id, face_jpeg) == "done"
    rest = list(stream)  # the stream ends by itself once the analysis is done
    name, last = rest[-1]
    assert name == "analysis" and last["status"] == "done" and last["faces"]
    assert last == fetch(model_app, analysis_id)


def test_a_failed_analysis_ends_the_stream_with_its_error(model_app: Flask) -> None:
    analysis_id = new_analysis(model_app)
    assert run_task(model_app, analysis_id, b"not a photo at all") == "failed"
    response = model_app.test_client().get(f"/api/analyses/{analysis_id}/events", headers=AUTH)
    (name, body), = list(events(iter([response.get_data()])))
    assert body["status"] == "failed" and body["error"]["code"] == "not_an_image" and body["error"]["message"]


def test_a_deleted_analysis_says_so_in_the_stream(model_app: Flask) -> None:
    analysis_id = new_analysis(model_app)
    client = model_app.test_client()
    response = client.get(f"/api/analyses/{analysis_id}/events", headers=AUTH, buffered=False)
    stream = events(iter(response.response))
    assert next(stream)[1]["status"] == "queued"
    token = client.get("/api/csrf").get_json()["csrf_token"]
    assert client.delete(f"/api/analyses/{analysis_id}", headers={**AUTH, "X-CSRFToken": token}).status_code in (200, 204)
    name, body = next(stream)
    assert name == "gone" and body["error"]["code"] == "analysis_not_found"


def test_someone_elses_or_an_unknown_analysis_is_a_404(model_app: Flask) -> None:
    analysis_id = new_analysis(model_app)
    client = model_app.test_client()
    for url, headers in ((f"/api/analyses/{analysis_id}/events", {}),
                         ("/api/analyses/00000000-0000-0000-0000-000000000000/events", AUTH),
                         ("/api/analyses/not-an-id/events", AUTH)):
        response = client.get(url, headers=headers)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "analysis_not_found"
