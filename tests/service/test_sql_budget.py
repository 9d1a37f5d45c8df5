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
def statements(app: Flask) -> Iterator[list[str]]:
    """Every statement the app's engine sends while the block runs."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        seen.append(statement.split()[0].upper() + " " + statement[:90].replace("\n", " "))

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
