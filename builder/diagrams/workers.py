"""A long-lived engine worker process: requests in (from any thread), replies out, each within its deadline.

The worker (builder/diagrams/mermaid_zygote.py) speaks length-prefixed JSON frames on its stdin and stdout
and answers requests in any order; a thread here reads the replies and hands each to the caller waiting for
it. The worker enforces each request's timeout itself (it kills the child rendering that diagram); the wait
here ends a few seconds later at most, so a worker that stops answering is killed too. The worker runs in a
session of its own and is killed together with everything it started when it is closed, when it stops
answering and when it crashes (then the callers waiting on it get an error). If this process ends without
closing it, the end of the worker's stdin tells it to stop.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from typing import IO, Any

from builder.diagrams.base import DiagramTimeoutError, EngineMissingError
from builder.diagrams.mermaid_zygote import decode_frames, encode_frame

#: How long past a request's own timeout to wait for the worker's verdict on it (a timeout reply, normally).
GRACE_SECONDS = 5.0


class _Waiter:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply: dict[str, Any] = {}


class Worker:
    """One worker process. `hello` is its first frame, once `wait_started` is true: {"ready": true, ...},
    {"missing": why} or {"failed": why}; empty if it died before saying anything."""

    def __init__(self, argv: Sequence[str], settings: Mapping[str, Any], env: Mapping[str, str]) -> None:
        self._lock = threading.Lock()  # the waiting requests and the worker's state
        # Writes have a lock of their own: a long request may block until the worker reads it, and the worker
        # may be waiting for the reader thread to take a reply (which needs `_lock`) before it reads again.
        self._send_lock = threading.Lock()
        self._waiting: dict[int, _Waiter] = {}
        self._next_id = 0
        self._started = threading.Event()
        self._killed = False
        self.hello: dict[str, Any] = {}
        #: Why the worker is gone; None while it runs.
        self.ended: str | None = None
        # A file, not a pipe: nothing has to keep reading it for the worker to be able to write. Closed in close().
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                env=dict(env),
                start_new_session=True,
            )
        except OSError as exc:
            self._stderr.close()
            raise EngineMissingError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
        self._stdin: IO[bytes] = _stream(self._proc.stdin)
        # If it died at once, the reader says how.
        with contextlib.suppress(OSError):
            self._send(dict(settings))
        self._reader = threading.Thread(target=self._read, name="diagram-worker", daemon=True)
        self._reader.start()

    def wait_started(self, deadline: float) -> bool:
        """Whether the worker said hello (or died) before `deadline` (time.monotonic())."""
        return self._started.wait(max(0.0, deadline - time.monotonic()))

    def request(self, message: Mapping[str, Any], *, timeout: float) -> dict[str, Any]:
        """The worker's reply to `message`, sent with an "id" and `timeout`; {"crashed": why} if it died."""
        waiter = _Waiter()
        with self._lock:
            if self.ended is not None:
                return {"crashed": self.ended}
            self._next_id += 1
            number = self._next_id
            self._waiting[number] = waiter
        # If it died, the reader is about to say how.
        with contextlib.suppress(OSError):
            self._send({**message, "id": number, "timeout": timeout})
        if not waiter.done.wait(timeout + GRACE_SECONDS):
            self._stop(f"it did not answer within {timeout + GRACE_SECONDS:g} s")
            raise DiagramTimeoutError(f"render took longer than {timeout:g} s and was stopped")
        return waiter.reply

    def close(self) -> None:
        """Stop the worker and everything it started; callers still waiting get {"crashed": ...}."""
        self._stop("it was stopped")
        self._reader.join()
        # OSError: the unflushed rest of a request to a dead worker.
        with self._send_lock, contextlib.suppress(OSError):
            self._stdin.close()
        self._stderr.close()

    def _send(self, message: dict[str, Any]) -> None:
        with self._send_lock:
            self._stdin.write(encode_frame(message))
            self._stdin.flush()

    def _read(self) -> None:
        stdout = self._proc.stdout
        assert isinstance(stdout, io.BufferedReader)  # Popen's default buffering
        buffer = bytearray()
        while data := stdout.read1(1 << 16):
            buffer += data
            for frame in decode_frames(buffer):
                if not self._started.is_set():
                    self.hello = frame
                    self._started.set()
                    continue
                with self._lock:
                    waiter = self._waiting.pop(int(frame.get("id", -1)), None)
                if waiter is not None:
                    waiter.reply = frame
                    waiter.done.set()
        self._stop(None)

    def _stop(self, why: str | None) -> None:
        """Kill the worker's process group (once) and reap it; fail every waiting request with `why`, or with
        the worker's last words."""
        with self._lock:
            if not self._killed:
                self._killed = True
                # Until the worker is reaped its id is not reused, so the group is still the one it leads (and
                # holds any child it had running when it crashed).
                _kill_group(self._proc)
        self._proc.wait()
        with self._lock:
            if self.ended is None:
                self.ended = why or self._last_words()
            waiting, self._waiting = self._waiting, {}
        for waiter in waiting.values():
            waiter.reply = {"crashed": self.ended}
            waiter.done.set()
        self._started.set()

    def _last_words(self) -> str:
        self._stderr.seek(0)
        lines = self._stderr.read().decode("utf-8", errors="replace").strip().splitlines()
        if lines:
            return f"the worker stopped: {lines[-1].strip()}"
        code = self._proc.returncode
        return f"the worker stopped ({f'killed by signal {-code}' if code < 0 else f'exit status {code}'})"


def _stream(stream: IO[bytes] | None) -> IO[bytes]:
    assert stream is not None  # Popen was asked for the pipe
    return stream


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
