"""`emotune` / `flask serve`: the whole app in one command on the embedded defaults.

Applies migrations, seeds the playlist catalogue when it is empty, starts a Celery worker as a
child process and the web server in this one, prints the URL, and on Ctrl-C (or SIGTERM) stops
both cleanly. Production runs gunicorn and `celery -A worker worker` separately instead.
"""

from __future__ import annotations

import _thread
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKER_STOP_TIMEOUT_S = 20


def prepare_database() -> str:
    """Apply every migration and seed the catalogue when it holds no playlist; says what it did."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from emotune.extensions import db
    from recommender.models import Playlist
    from recommender.seed import seed_catalogue

    upgrade()
    if db.session.scalar(select(func.count()).select_from(Playlist)):
        return "catalogue already seeded"
    report = seed_catalogue(db.session)
    return f"catalogue seeded ({report.playlists} playlists, {report.links} links)"


def worker_command(queue: str, concurrency: int) -> list[str]:
    """The `celery -A worker worker` command line the embedded setup runs."""
    return [
        sys.executable, "-m", "celery", "-A", "worker", "worker",
        "--loglevel", "INFO", "--pool", "prefork", "--concurrency", str(concurrency),
        "--queues", f"{queue},{queue}.control", "--beat", "--hostname", f"emotune-{os.getpid()}@%h", "--without-mingle",
        "--without-gossip",
    ]


def start_worker(queue: str, concurrency: int, secret_key: str) -> subprocess.Popen[bytes]:
    """Start the worker in its own session so Ctrl-C reaches only us; we stop it ourselves."""
    env = {**os.environ, "SECRET_KEY": secret_key}
    return subprocess.Popen(worker_command(queue, concurrency), cwd=REPO_ROOT, env=env, start_new_session=True)


def stop_worker(process: subprocess.Popen[bytes]) -> int:
    """Warm shutdown (SIGTERM: finish the current task), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=WORKER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def _watch_worker(process: subprocess.Popen[bytes], stopping: threading.Event) -> None:
    # A worker that dies on its own takes the web server down with it: half an app helps no one.
    process.wait()
    if not stopping.is_set():
        click.echo(f"The Celery worker exited unexpectedly (code {process.returncode}); stopping.", err=True)
        _thread.interrupt_main()


def _sigterm_to_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--concurrency", default=1, show_default=True, type=int, help="Worker processes.")
@with_appcontext
def serve_command(host: str, port: int, concurrency: int) -> None:
    """Run EmoTune (web server + Celery worker) on the embedded defaults; Ctrl-C stops both."""
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Database: {prepare_database()}.")
    if not os.environ.get("SESSION_COOKIE_SECURE"):
        # This server speaks plain http; a Secure-only cookie would never come back.
        app.config["SESSION_COOKIE_SECURE"] = False
    worker = start_worker(app.config["EMOTUNE_QUEUE"], concurrency, app.config["SECRET_KEY"])
    stopping = threading.Event()
    threading.Thread(target=_watch_worker, args=(worker, stopping), daemon=True).start()
    signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    url = f"http://{host}:{port}/"
    click.echo(f"EmoTune is running at {url}  (worker pid {worker.pid}; press Ctrl-C to stop)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
    except KeyboardInterrupt:
        pass
    finally:
        stopping.set()
        click.echo("Stopping the worker...")
        code = stop_worker(worker)
        click.echo(f"Worker stopped (exit code {code}). Bye.")


COMMANDS: list[click.Command] = [serve_command]


def main(argv: list[str] | None = None) -> None:
    """Console script `emotune`: same as `flask --app emotune serve`, generating a SECRET_KEY if needed."""
    from flask import Flask
    from flask.cli import load_dotenv

    from emotune import create_app
    from emotune.config import create_secret_key_file

    load_dotenv()
    if not os.environ.get("SECRET_KEY"):
        instance_path = os.environ.get("EMOTUNE_INSTANCE_PATH") or Flask("emotune").instance_path
        _, created = create_secret_key_file(instance_path)
        if created:
            click.echo(
                f"No SECRET_KEY set: generated one in {instance_path}/secret_key for this embedded "
                "setup (set SECRET_KEY yourself in production)."
            )
    group = FlaskGroup(create_app=create_app, add_default_commands=False, set_debug_flag=False)
    group.main(args=["serve", *(sys.argv[1:] if argv is None else argv)], prog_name="emotune")
