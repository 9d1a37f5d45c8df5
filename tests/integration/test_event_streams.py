"""Event streams on the production setup: gunicorn's gevent worker, Redis pub/sub, PostgreSQL.

Many pages following their analyses hold greenlets, not threads: with 60 streams open on one web
process, ordinary requests are still answered at once, and when the worker finishes, every stream
gets the result from the worker's announcement and ends.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import http_session
from tests.integration.processes import free_port, service_env, start_gunicorn, start_worker
from tests.integration.test_flow import assert_good_result, prepare_app

pytestmark = pytest.mark.integration

STREAMS = 60


def read_events(url: str, cookies: dict[str, str], out: list[dict], opened: threading.Event) -> None:
    """Follow one event stream to its end, keeping each ``analysis`` event's data; ``opened`` is set once
    the first event has been read (not at the headers: with 60 reader threads on 2 cores, a thread
    could still be parsing its first event when the test looked)."""
    with requests.get(url, cookies=cookies, stream=True, timeout=(5, 60)) as response:
        assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
        event = None
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: ") and event == "analysis":
                out.append(json.loads(line[len("data: "):]))
                opened.set()


def test_sixty_open_streams_hold_no_threads_and_all_get_the_result(tmp_path: Path, service_config: dict[str, str | None],
                                                                   pg_url: str, redis_url: str, face_jpeg: bytes) -> None:
    config = {**service_config, "DATABASE_URL": pg_url, "REDIS_URL": redis_url}
    app = prepare_app(config)
    port = free_port()
    env = service_env(config)
    web = start_gunicorn(env, tmp_path, port)
    worker = None
    base = f"http://127.0.0.1:{port}"
    try:
        session, headers = http_session(base)
        # Queued with no worker running: the streams must wait.
        response = session.post(f"{base}/api/analyses", files={"image": ("me.jpg", face_jpeg, "image/jpeg")},
                                headers=headers, timeout=30)
        assert response.status_code == 202, response.text
        events_url = base + response.headers["Location"] + "/events"
        cookies = session.cookies.get_dict()
        received: list[list[dict]] = [[] for _ in range(STREAMS)]
        opened = [threading.Event() for _ in range(STREAMS)]
        readers = [threading.Thread(target=read_events, args=(events_url, cookies, received[i], opened[i]), daemon=True)
                   for i in range(STREAMS)]
        for reader in readers:
            reader.start()
        assert all(flag.wait(30) for flag in opened), "not every stream opened and sent its first event"
        # 60 waiting streams on one process: a plain request is still answered at once.
        started = time.monotonic()
        assert session.get(f"{base}/healthz", timeout=5).status_code == 200
        polled = session.get(base + response.headers["Location"], timeout=5).json()
        assert time.monotonic() - started < 2 and polled["status"] == "queued"
        assert all(events and events[0]["status"] == "queued" for events in received)

        worker = start_worker(env, tmp_path, config["EMOTUNE_QUEUE"])
        for reader in readers:
            reader.join(timeout=90)
        assert not any(reader.is_alive() for reader in readers), "a stream did not end after the result"
        for events in received:
            assert events[-1]["status"] == "done"
            assert_good_result(events[-1])
        final = session.get(base + response.headers["Location"], timeout=5).json()
        assert received[0][-1] == final
    finally:
        if worker is not None:
            worker.stop()
        web.stop()
        with app.app_context():
            from emotune.extensions import db

            db.engine.dispose()
