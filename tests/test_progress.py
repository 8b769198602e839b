"""The progress bar shows on a terminal and stays out of CI logs and pipes."""

from __future__ import annotations

import io
import os
import pty
import select

import pytest

from builder.progress import Progress


def _drain(leader: int) -> str:
    """Everything written to the terminal so far; one read may return only part of it."""
    chunks = []
    while select.select([leader], [], [], 0.2)[0]:
        chunks.append(os.read(leader, 65536))
    return b"".join(chunks).decode()


def test_bar_draws_on_a_terminal_and_clears_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    leader, follower = pty.openpty()
    with os.fdopen(follower, "w") as tty:
        with Progress("rendering", 500, stream=tty) as bar:
            for _ in range(500):
                bar.advance()
        tty.flush()
        shown = _drain(leader)
    os.close(leader)
    assert "rendering  [##############################] 500/500" in shown
    assert shown.endswith("\r" + " " * 60 + "\r")


def test_bar_is_silent_in_pipes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    stream = io.StringIO()  # not a terminal
    with Progress("rendering", 500, stream=stream) as bar:
        for _ in range(500):
            bar.advance()
    assert stream.getvalue() == ""


def test_bar_is_silent_in_ci_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    leader, follower = pty.openpty()
    with os.fdopen(follower, "w") as tty:
        with Progress("rendering", 500, stream=tty) as bar:
            for _ in range(500):
                bar.advance()
        tty.write("end")
        tty.flush()
        shown = _drain(leader)
    os.close(leader)
    assert shown == "end"
