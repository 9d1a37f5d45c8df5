"""The child processes of ``emotune`` (the Celery worker and gunicorn), tied to its life.

Each child stays in emotune's process group, so a Ctrl-C in the terminal or ``kill -- -PGID``
reaches all of them. Each starts with SIGINT and SIGTERM at their defaults, even when emotune was
started with them ignored (``cmd &`` in a script ignores SIGINT, and exec keeps an ignored signal
ignored). And each gets a signal from the kernel when emotune dies, however it dies (Linux's
``PR_SET_PDEATHSIG``), so no worker outlives the command that started it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
PR_SET_CHILD_SUBREAPER = 36


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        return ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None


LIBC = _libc()


def die_with_parent(death_signal: int, parent_pid: int) -> None:
    """Ask the kernel for ``death_signal`` when our parent dies (Linux); act now if it already has."""
    if LIBC is not None:
        LIBC.prctl(PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0)
    if os.getppid() != parent_pid:
        # The parent died before prctl took effect: the kernel will not tell us, so act now.
        os.kill(os.getpid(), death_signal)


def adopt_orphans() -> bool:
    """Become the parent of our children's orphans (Linux), so ``end_orphans`` can stop them."""
    return LIBC is not None and LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def process_stats() -> dict[int, list[str]]:
    """Every live process's /proc/<pid>/stat fields after its name: state, ppid, pgrp, session, ...

    Field ``i`` here is field ``i + 3`` of proc(5): [0] state, [1] ppid, [2] pgrp, [3] session,
    [11] utime and [12] stime in clock ticks, [21] rss in pages.
    """
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone while we looked
    return stats


def end_orphans() -> list[int]:
    """SIGKILL and reap every remaining child of ours: orphans of a child that was killed."""
    me = str(os.getpid())
    killed = []
    for pid, fields in process_stats().items():
        if fields[1] == me:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    for pid in killed:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    return killed


def child_setup(parent_pid: int, death_signal: int = signal.SIGTERM) -> Callable[[], None]:
    """The ``preexec_fn`` of a child: default SIGINT/SIGTERM, and ``death_signal`` when we die."""

    def setup() -> None:
        # Explicitly: an inherited SIG_IGN would survive exec and make the child deaf to Ctrl-C.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        die_with_parent(death_signal, parent_pid)

    return setup


class Child:
    """One child process of emotune, with its output sent to ``output`` (None: our own)."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], cwd: Path,
                 output: IO[bytes] | IO[str] | None, pass_fds: Sequence[int] = ()) -> None:
        self.name = name
        self.process = subprocess.Popen(
            list(args), cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL, stdout=output,
            stderr=subprocess.STDOUT if output is not None else None, pass_fds=tuple(pass_fds),
            preexec_fn=child_setup(os.getpid()),
        )

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid

    def exit_code(self) -> int | None:
        """None while it runs, else its exit code (negative: killed by that signal)."""
        return self.process.poll()

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM: gunicorn and Celery both shut down gracefully on it)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> int:
        """Wait until ``deadline`` (time.monotonic()); SIGKILL it if it is still running then."""
        try:
            return self.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


class PortTaken(Exception):
    """The address to listen on is in use; the message says so and what to do."""


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind and listen on ``host:port`` now, so a taken port is known before anything starts.

    gunicorn then serves this very socket (``--bind fd://N``): nobody can take the port between
    the check and the start.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(
                f"Port {port} on {host} is already in use (another EmoTune, or another program). "
                f"Stop that, or choose another port: emotune --port {port + 1}"
            ) from None
        if exc.errno == errno.EACCES:
            raise PortTaken(f"Not allowed to listen on port {port}: choose one above 1023, e.g. "
                            "emotune --port 5000") from None
        raise PortTaken(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


# Loopback needs no proxy, whatever http_proxy says.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def wait_until_serving(url: str, timeout: float, still_starting: Callable[[], bool]) -> bool:
    """Poll ``url`` until it answers 200; False once ``still_starting()`` is False or time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and still_starting():
        try:
            with _DIRECT.open(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False
