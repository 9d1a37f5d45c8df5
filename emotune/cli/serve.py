"""`emotune` / `flask serve`: the whole app in one command on the embedded defaults.

Checks the port first, applies migrations, seeds the playlist catalogue when it is empty, starts
a Celery worker (with the sweep's beat) and gunicorn as child processes (emotune.cli.children),
waits until the web server answers and the worker has answered a ping, and only then prints a
short block ending with the URL. Celery's banner, gunicorn's log and library warnings go to
``<instance>/emotune.log`` unless ``--verbose``. SIGINT or SIGTERM stops both children, however
emotune was started; if a child dies, emotune says so and stops. Production runs gunicorn and
``celery -A worker worker`` / ``celery -A worker beat`` separately instead.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path
from typing import IO, Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from emotune.cli.children import Child, PortTaken, adopt_orphans, end_orphans, listening_socket, wait_until_serving
from emotune.cli.console import (Terminal, configure_logging, describe_broker, describe_database, describe_model,
                                 open_log, shown_path, stderr_to)
from emotune.gunicorn_conf import GUNICORN_CONFIG

REPO_ROOT = Path(__file__).resolve().parents[2]
WEB_STOP_TIMEOUT_S = 5  # gunicorn's graceful timeout: requests in flight get this long
WORKER_STOP_TIMEOUT_S = 20  # warm shutdown: the photo being analysed gets this long
START_TIMEOUT_S = 180  # a cold start on a busy 2-core machine imports and loads for a while


class StopRequested(BaseException):
    """SIGINT or SIGTERM arrived: unwind whatever is running and stop the children."""


def _stop_requested(signum: int, _frame: Any) -> None:
    raise StopRequested(signum)


def install_stop_handlers() -> None:
    """SIGINT and SIGTERM stop emotune, even when it was started with them ignored (``cmd &``)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop_requested)


def prepare_database() -> str:
    """Apply every migration and seed the catalogue when it holds no playlist; says what it did."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from emotune.extensions import db
    from recommender.models import Playlist
    from recommender.seed import seed_catalogue

    upgrade()
    count = db.session.scalar(select(func.count()).select_from(Playlist))
    if count:
        return f"catalogue of {count} playlists"
    report = seed_catalogue(db.session)
    return f"catalogue seeded: {report.playlists} playlists"


def worker_command(queue: str, concurrency: int) -> list[str]:
    """The `celery -A worker worker` command line the embedded setup runs (with the sweep's beat)."""
    return [
        sys.executable, "-m", "celery", "-A", "worker", "worker",
        "--loglevel", "INFO", "--pool", "prefork", "--concurrency", str(concurrency),
        "--queues", f"{queue},{queue}.control", "--beat", "--hostname", f"emotune-{os.getpid()}@%h",
        "--without-mingle", "--without-gossip",
    ]


def web_command(fd: int, verbose: bool) -> list[str]:
    """gunicorn serving ``emotune:create_app()`` on the socket emotune already holds (``fd``)."""
    command = [
        sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, "--bind", f"fd://{fd}", "--workers", "1",
        "--graceful-timeout", str(WEB_STOP_TIMEOUT_S),
    ]
    if verbose:
        command += ["--access-logfile", "-"]
    return [*command, "emotune:create_app()"]


def ping_worker(app: Flask, worker: Child, web: Child, timeout: float) -> dict[str, Any] | None:
    """The worker's reply to a ping on the control queue (None if it died or never answered)."""
    from emotune.config import control_queue
    from emotune.tasks import ping

    result = ping.apply_async(queue=control_queue(app.config["EMOTUNE_QUEUE"]), expires=timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and worker.exit_code() is None and web.exit_code() is None:
            if result.ready():
                return result.get(timeout=1)
            time.sleep(0.05)
    finally:
        with contextlib.suppress(Exception):
            result.forget()
    return None


def stop_children(children: list[Child], terminal: Terminal) -> None:
    """SIGTERM every child, wait for each (worker: its current photo), SIGKILL what hangs.

    A second Ctrl-C or SIGTERM while waiting kills them at once.
    """
    hurry: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: hurry.append(signum))
    for child in children:
        child.terminate()
    started = time.monotonic()
    limits = {"web": WEB_STOP_TIMEOUT_S + 3, "worker": WORKER_STOP_TIMEOUT_S}
    while any(child.exit_code() is None for child in children):
        for child in children:
            if child.exit_code() is None and (hurry or time.monotonic() - started > limits.get(child.name, 10)):
                child.process.kill()
        time.sleep(0.05)
    for child in children:
        child.process.wait()
    end_orphans()  # e.g. the pool or beat of a worker that was killed


def run_embedded(app: Flask, sock: Any, host: str, port: int, concurrency: int, verbose: bool,
                 log: IO[str] | None, terminal: Terminal) -> int:
    """Start worker and web server on ``sock``, report, supervise until a signal; the exit code."""
    if not os.environ.get("SESSION_COOKIE_SECURE"):
        # This server speaks plain http; a Secure-only cookie would never come back.
        app.config["SESSION_COOKIE_SECURE"] = False
    env = {**os.environ, "SECRET_KEY": app.config["SECRET_KEY"],
           "SESSION_COOKIE_SECURE": "true" if app.config["SESSION_COOKIE_SECURE"] else "false"}
    children: list[Child] = []
    adopt_orphans()
    try:
        with stderr_to(log):
            database = f"{describe_database(app)} ({prepare_database()})"
        configure_logging(log)  # alembic's fileConfig replaced our handlers
        worker = Child("worker", worker_command(app.config["EMOTUNE_QUEUE"], concurrency), env, REPO_ROOT, log)
        children.append(worker)
        web = Child("web", web_command(sock.fileno(), verbose), env, REPO_ROOT, log, pass_fds=(sock.fileno(),))
        children.append(web)
        sock.close()  # gunicorn holds it now; ours would keep the port after gunicorn stops
        url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
        alive = lambda: all(child.exit_code() is None for child in children)  # noqa: E731
        serving = wait_until_serving(url + "healthz", START_TIMEOUT_S, alive)
        reply = ping_worker(app, worker, web, START_TIMEOUT_S) if serving else None
        for child in children:
            if child.exit_code() is not None or (child.name == "web" and not serving) or (
                    child.name == "worker" and reply is None):
                return report_failure(child, terminal, log)
        model, model_ok = describe_model(app, reply)
        terminal.row("Database", database)
        terminal.row("Broker", describe_broker(app))
        processes = "process" if concurrency == 1 else "processes"
        terminal.row("Worker", f"{concurrency} {processes}, pid {worker.pid} (sweep every "
                     f"{app.config['EMOTUNE_SWEEP_INTERVAL_S']} s)")
        terminal.row("Model", model, ok=model_ok)
        if log is not None:
            terminal.row("Log", f"{shown_path(log.name)} (--verbose shows it here)")
        terminal.row("Stop", f"Ctrl-C, or kill {os.getpid()}")
        terminal.line(f"EmoTune is running at {url}", fg="green", bold=True)
        while True:
            for child in children:
                if child.exit_code() is not None:
                    return report_failure(child, terminal, log)
            time.sleep(0.2)
    except StopRequested:
        terminal.line("Stopping EmoTune...")
        return 0
    finally:
        stop_children(children, terminal)


def report_failure(child: Child, terminal: Terminal, log: IO[str] | None) -> int:
    """Say which child stopped (or never came up) and where to read why; exit code 1."""
    what = "The Celery worker" if child.name == "worker" else "The web server (gunicorn)"
    code = child.exit_code()
    status = f"stopped unexpectedly (exit code {code})" if code is not None else "did not start in time"
    where = f" See {shown_path(log.name)}." if log is not None else ""
    terminal.line(f"{what} {status}; stopping EmoTune.{where}", fg="red", err=True)
    return 1


def serve(app: Flask, sock: Any, host: str, port: int, concurrency: int, verbose: bool) -> int:
    """Route logging (quiet: to the instance log), run, and return the exit code."""
    terminal = Terminal()
    log = None if verbose else open_log(app.instance_path)
    configure_logging(log)
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)
    try:
        return run_embedded(app, sock, host, port, concurrency, verbose, log, terminal)
    except StopRequested:  # a second signal while the first one's "Stopping" line was printed
        return 0
    finally:
        if log is not None:
            log.close()


OPTIONS = [
    click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on."),
    click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on."),
    click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 64),
                 help="Worker processes."),
    click.option("--verbose", is_flag=True, help="Show Celery's, gunicorn's and the libraries' output "
                 "here instead of in <instance>/emotune.log."),
]


def with_options(function: Any) -> Any:
    """Apply the serve options shared by `emotune` and `flask serve`."""
    for option in reversed(OPTIONS):
        function = option(function)
    return function


@click.command("serve")
@with_options
@with_appcontext
def serve_command(host: str, port: int, concurrency: int, verbose: bool) -> None:
    """Run EmoTune (web server + Celery worker) on the embedded defaults; Ctrl-C stops both."""
    install_stop_handlers()
    try:
        sock = listening_socket(host, port)
    except PortTaken as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(serve(current_app._get_current_object(), sock, host, port, concurrency, verbose))  # type: ignore[attr-defined]


COMMANDS: list[click.Command] = [serve_command]


@click.command("emotune", context_settings={"help_option_names": ["-h", "--help"]})
@with_options
def emotune_command(host: str, port: int, concurrency: int, verbose: bool) -> None:
    """Run EmoTune (web server + Celery worker) on the embedded defaults; Ctrl-C stops both.

    The same as `flask --app emotune serve`, and generates a SECRET_KEY in the instance folder
    when none is set.
    """
    from flask.cli import load_dotenv

    from emotune.config import create_secret_key_file

    install_stop_handlers()
    try:
        # Before anything else: a taken port must not leave a half-started app behind.
        sock = listening_socket(host, port)
    except PortTaken as exc:
        raise click.ClickException(str(exc)) from None
    load_dotenv()
    instance_path = os.environ.get("EMOTUNE_INSTANCE_PATH") or Flask("emotune").instance_path
    log = None if verbose else open_log(instance_path)
    configure_logging(log)  # before the app is built: its imports may warn
    terminal = Terminal()
    try:
        if not os.environ.get("SECRET_KEY"):
            _, created = create_secret_key_file(instance_path)
            if created:
                terminal.line(f"No SECRET_KEY set: generated one in {shown_path(instance_path)}/secret_key "
                              "(set SECRET_KEY yourself in production).")
        terminal.line("Starting EmoTune...")
        from emotune import create_app

        with stderr_to(log):
            app = create_app()
    except StopRequested:
        sys.exit(0)
    finally:
        if log is not None:
            log.close()
    with app.app_context():
        sys.exit(serve(app, sock, host, port, concurrency, verbose))


def main(argv: list[str] | None = None) -> None:
    """Console script `emotune`."""
    emotune_command.main(args=sys.argv[1:] if argv is None else argv, prog_name="emotune")
