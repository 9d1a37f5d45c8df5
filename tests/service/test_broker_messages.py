"""Analysis messages on Redis: their body travels as plain JSON text, and still reaches the task."""

from __future__ import annotations

import json
from pathlib import Path

import redis
from flask import Flask

from emotune import create_app
from tests.conftest import app_overrides


def redis_app(instance: Path, redis_url: str) -> Flask:
    return create_app(app_overrides(instance, REDIS_URL=redis_url))


def test_message_body_is_json_text_not_base64(tmp_path: Path, redis_url: str) -> None:
    app = redis_app(tmp_path / "instance", redis_url)
    queue = app.config["EMOTUNE_QUEUE"]
    client = redis.Redis.from_url(redis_url)
    celery = app.extensions["celery"]
    sealed = "gAAAAA" + "x" * 300_000  # a sealed photo is urlsafe base64 text
    try:
        celery.send_task("emotune.tasks.analyse_selfie", args=["an-id", sealed], queue=queue)
        raw = client.lrange(queue, 0, -1)
        assert len(raw) == 1
        envelope = json.loads(raw[0])
        assert envelope["properties"]["body_encoding"] == "utf-8"
        # The body is the task's own JSON, readable as it is: no second encoding of the photo.
        args, _kwargs, _embed = json.loads(envelope["body"])
        assert args == ["an-id", sealed]
        assert len(raw[0]) < len(sealed) * 1.05  # base64 again would add a third
    finally:
        client.delete(queue)


def test_a_worker_consumer_reads_the_message_back(tmp_path: Path, redis_url: str) -> None:
    """kombu's consumer decodes what the producer wrote (the worker's own path, without a pool)."""
    app = redis_app(tmp_path / "instance", redis_url)
    queue = app.config["EMOTUNE_QUEUE"]
    celery = app.extensions["celery"]
    received = []
    try:
        celery.send_task("emotune.tasks.analyse_selfie", args=["an-id", "sealed-photo"], queue=queue)
        with celery.connection_for_read() as connection:
            from kombu import Consumer, Queue

            def on_message(message) -> None:  # type: ignore[no-untyped-def]
                received.append(message.decode())
                message.ack()

            with Consumer(connection, [Queue(queue)], callbacks=[], on_message=on_message, accept=["json"]):
                connection.drain_events(timeout=5)
        assert received and received[0][0] == ["an-id", "sealed-photo"]
    finally:
        redis.Redis.from_url(redis_url).delete(queue)
