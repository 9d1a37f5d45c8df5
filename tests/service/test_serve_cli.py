"""Pieces of `emotune` that need no running app: children's signals, the port check, colour."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import pytest

from emotune.cli.children import Child, PortTaken, listening_socket
from emotune.cli.console import Terminal

CHILD_REPORT = (
    "import ctypes, signal\n"
    "sig = ctypes.c_int(0)\n"
    "ctypes.CDLL(None).prctl(2, ctypes.byref(sig), 0, 0, 0)  # PR_GET_PDEATHSIG\n"
    "print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN, sig.value)\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_hears_sigint_even_when_we_ignore_it_and_dies_with_us(tmp_path: Path) -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `emotune &` in a script starts it
    try:
        with (tmp_path / "out").open("w+") as out:
            child = Child("probe", [sys.executable, "-c", CHILD_REPORT], {}, tmp_path, out)
            assert child.process.wait(timeout=30) == 0
            out.seek(0)
            ignored, death_signal = out.read().split()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert ignored == "False"
    assert int(death_signal) == signal.SIGTERM


def test_a_taken_port_is_named_with_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(PortTaken, match=rf"Port {port} on 127.0.0.1 is already in use.*--port {port + 1}"):
            listening_socket("127.0.0.1", port)


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    Terminal().line("url", fg="green", bold=True)
    assert capsys.readouterr().out == "url\n"
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    Terminal().line("url", fg="green", bold=True)
    assert "\x1b[" in capsys.readouterr().out
    monkeypatch.setenv("NO_COLOR", "1")
    Terminal().line("url", fg="green", bold=True)
    assert capsys.readouterr().out == "url\n"
