"""What `emotune` prints and where output goes: the start-up block's words, the log file, colour.

The serve command (``emotune.cli.serve``) uses these; Celery's banner, gunicorn's log and library
warnings go to ``<instance>/emotune.log`` unless ``--verbose``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click
from flask import Flask

from recognizer.errors import ModelError
from recognizer.metadata import read_metadata

LOG_NAME = "emotune.log"


def shown_path(path: str | Path) -> str:
    """A path relative to the working directory when it lies below it (shorter to read)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def describe_database(app: Flask) -> str:
    """The database in a few words (password hidden)."""
    from emotune.extensions import db

    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return f"SQLite, {shown_path(url.database or '')}"
    return url.render_as_string(hide_password=True)


def describe_broker(app: Flask) -> str:
    """The Celery broker in a few words (password hidden), with the embedded poll interval."""
    from kombu.utils.url import maybe_sanitize_url

    celery = app.config["CELERY"]
    url = celery["broker_url"]
    if url.startswith("sqlite:"):
        poll = celery["broker_transport_options"].get("polling_interval", 1.0)
        return f"SQLite, {shown_path(url[len('sqlite:///'):])} (polled every {poll * 1000:.0f} ms)"
    return str(maybe_sanitize_url(url))


def describe_model(app: Flask, reply: dict[str, Any] | None) -> tuple[str, bool]:
    """The served model and its measured accuracy, from the worker's ping reply and the metadata."""
    from emotune.served_model import ModelUnavailable, model_unavailable_message, resolve_model

    model = (reply or {}).get("model") or {}
    if reply is not None and not model.get("ok"):
        return model.get("detail") or "not loaded (see the log)", False
    try:
        path = Path(model["path"]) if model.get("path") else resolve_model(app.config)
    except ModelUnavailable as exc:
        return str(exc), False
    if path is None or not path.is_file():
        return model_unavailable_message(path), False
    words = path.stem
    try:
        metadata = read_metadata(path)
        accuracy = metadata["metrics"]["test"]["accuracy"]
        dataset = metadata.get("dataset", {}).get("name", "its")
        words += f", {accuracy * 100:.1f}% accurate on the {dataset.upper()} test set"
    except (ModelError, KeyError, TypeError):
        words += " (no accuracy recorded in its metadata)"
    return words, True


def configure_logging(log: IO[str] | None) -> None:
    """Everything emotune's own libraries log (and every warning) goes to ``log``, else stderr."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(log if log is not None else sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)


def open_log(instance_path: str | Path) -> IO[str]:
    """The log file in the instance folder, appended to (line-buffered, shared with the children)."""
    path = Path(instance_path) / LOG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a", buffering=1, encoding="utf-8")


@contextlib.contextmanager
def stderr_to(log: IO[str] | None) -> Iterator[None]:
    """Send writes to stderr (alembic's logging config points there) to ``log`` when quiet."""
    if log is None:
        yield
        return
    with contextlib.redirect_stderr(log):
        yield


class Terminal:
    """What emotune prints: short lines, colour only on a terminal (and never with NO_COLOR)."""

    def __init__(self) -> None:
        self.colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")

    def line(self, text: str, fg: str | None = None, bold: bool = False, err: bool = False) -> None:
        """Print one line."""
        if self.colour and (fg or bold):
            text = click.style(text, fg=fg, bold=bold)
        click.echo(text, err=err, color=self.colour)

    def row(self, label: str, text: str, ok: bool = True) -> None:
        """One ``label  text`` row of the start-up block."""
        self.line(f"  {label:<9} {text}", fg=None if ok else "red")
