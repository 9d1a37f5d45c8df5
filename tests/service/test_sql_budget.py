"""How many SQL statements one analysis costs: the upload (web) and its run (worker).

Each statement is a round trip to the database in a busy process, so the counts are held here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import uuid

from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import event

from emotune.extensions import db
from emotune.models import Analysis
from tests.service.test_api_analyses import post_photo
from tests.service.test_tasks import fetch, new_analysis


@contextmanager
def statements(app: Flask, whole: bool = False) -> Iterator[list[str]]:
    """Every statement the app's engine sends while the block runs (its start, or ``whole``)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        shown = statement if whole else statement[:90]
        seen.append(statement.split()[0].upper() + " " + shown.replace("\n", " "))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_worker_runs_one_analysis_in_four_statements(model_app: Flask, face_jpeg: bytes) -> None:
    from emotune.tasks import analyse_selfie

    analysis_id = new_analysis(model_app)
    with model_app.app_context():
        key = db.session.get(Analysis, uuid.UUID(analysis_id)).photo_key
    sealed = Fernet(key.encode()).encrypt(face_jpeg).decode()
    with statements(model_app) as seen, model_app.app_context():
        assert analyse_selfie.run(analysis_id, sealed) == "done"
    # claim (UPDATE ... RETURNING), the playlists with their votes, then one commit: faces and result
    assert len(seen) <= 4, seen
    body = fetch(model_app, analysis_id)
    assert body["status"] == "done" and body["faces"] and body["recommendations"]["playlists"]


def test_the_upload_is_one_statement(model_app: Flask, face_jpeg: bytes) -> None:
    client = model_app.test_client()
    post_photo(client, face_jpeg)  # the first request's set-up is not per upload
    with statements(model_app) as seen:
        response = post_photo(client, face_jpeg)
    assert response.status_code == 202, response.get_json()
    assert len(seen) <= 1, seen


def test_the_event_stream_of_a_finished_analysis_reads_it_once(model_app: Flask, face_jpeg: bytes) -> None:
    from tests.service.test_events import AUTH
    from tests.service.test_tasks import run_task

    analysis_id = new_analysis(model_app)
    assert run_task(model_app, analysis_id, face_jpeg) == "done"
    client = model_app.test_client()
    client.get(f"/api/analyses/{analysis_id}/events", headers=AUTH).get_data()  # set-up is not per stream
    with statements(model_app, whole=True) as seen:
        response = client.get(f"/api/analyses/{analysis_id}/events", headers=AUTH)
        assert response.status_code == 200 and b'"status":"done"' in response.get_data()
    # The access check's read of the analysis is the stream's first state: no second read of it.
    # Then its faces and the votes on its playlists (two queries), as the plain GET reads them.
    assert len([s for s in seen if "FROM analyses" in s.replace('"', "")]) == 1, "\n".join(seen)
    assert len(seen) <= 4, "\n".join(seen)


def test_each_re_read_of_a_followed_analysis_is_one_statement(model_app: Flask, face_jpeg: bytes) -> None:
    from tests.service.test_events import AUTH, events
    from tests.service.test_tasks import run_task

    analysis_id = new_analysis(model_app)
    response = model_app.test_client().get(f"/api/analyses/{analysis_id}/events", headers=AUTH, buffered=False)
    stream = events(iter(response.response))
    assert next(stream)[1]["status"] == "queued"
    with statements(model_app, whole=True) as seen:
        assert run_task(model_app, analysis_id, face_jpeg) == "done"
        assert list(stream)[-1][1]["faces"]
    re_reads = [s for s in seen if "FROM analyses LEFT OUTER JOIN faces" in s.replace('"', "")]
    assert re_reads, seen
    # The faces come with the analysis: never one more query for them alone.
    assert not [s for s in seen if s.startswith("SELECT") and "FROM faces" in s.replace('"', "")], seen
