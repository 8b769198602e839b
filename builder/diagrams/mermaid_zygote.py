"""The long-lived Mermaid worker: loads mermaid.js into QuickJS once, then forks a child per diagram.

Run as `python -P -c <this file's text>` by builder/diagrams/workers.py; it imports only the standard library
and mermaidx, never the builder. Loading the engine (importing mermaidx, evaluating 3.5 MB of mermaid.js and
the DOM shim) is most of what a single-use render process costs; here it is paid once. Each diagram is then
rendered in a child forked from that loaded state, so every render still starts from a context that has
rendered nothing (mermaid.js keeps id counters and caches between renders: reusing one context would change
the bytes) and can be killed on its own when it runs past its time.

Protocol: frames on stdin and stdout, each a 4-byte big-endian length and that many bytes of UTF-8 JSON.
In: one settings frame ({"theme", "config", "prelude", "shim", "shim_for"}), then requests
{"id", "source", "timeout"}. Out: one hello frame ({"ready": true, "fast_shim": bool}, {"missing": why} or
{"failed": why}), then one reply per request, in any order: {"id"} with "svg", "error" (Mermaid's message),
"timeout" or "crashed" (how the child ended). End of stdin: every child is killed and the worker exits.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import selectors
import signal
import struct
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_HEADER = struct.Struct(">I")
#: What the render thread gets, as in mermaidx's own engine thread: mermaid.js recurses deeply (dagre), and
#: QuickJS's stack limit (set below this by mermaidx) must be reached before the thread's own stack is.
_STACK_BYTES = 32 * 1024 * 1024
_READ = 1 << 16


def encode_frame(message: dict[str, Any]) -> bytes:
    # ASCII JSON, as the single-use worker prints it: any string (lone surrogates included) survives the trip.
    body = json.dumps(message).encode("ascii")
    return _HEADER.pack(len(body)) + body


def decode_frames(buffer: bytearray) -> Iterator[dict[str, Any]]:
    """Take every complete frame off the front of `buffer`."""
    while len(buffer) >= _HEADER.size:
        (size,) = _HEADER.unpack_from(buffer)
        if len(buffer) < _HEADER.size + size:
            return
        body = bytes(buffer[_HEADER.size : _HEADER.size + size])
        del buffer[: _HEADER.size + size]
        yield json.loads(body)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@dataclass
class _Child:
    pid: int
    request: int
    deadline: float
    output: bytearray = field(default_factory=bytearray)


class _Zygote:
    def __init__(self, engine: Any, settings: dict[str, Any], requests: int, replies: int) -> None:
        self.engine = engine
        self.settings = settings
        self.requests = requests
        self.replies = replies
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, _Child] = {}  # by the read end of the child's result pipe

    def serve(self, inbox: bytearray) -> None:
        for request in decode_frames(inbox):
            self._fork(request)
        self.selector.register(self.requests, selectors.EVENT_READ)
        while True:
            deadlines = [child.deadline for child in self.children.values()]
            wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            for key, _ in self.selector.select(wait):
                fd = int(key.fd)
                if fd == self.requests:
                    data = os.read(fd, _READ)
                    if not data:
                        return
                    inbox += data
                    for request in decode_frames(inbox):
                        self._fork(request)
                else:
                    self._collect(fd)
            now = time.monotonic()
            for fd, child in list(self.children.items()):
                if child.deadline <= now:
                    self._end(fd, child, kill=True)
                    self._reply({"id": child.request, "timeout": True})

    def stop(self) -> None:
        for fd, child in list(self.children.items()):
            self._end(fd, child, kill=True)

    def _fork(self, request: dict[str, Any]) -> None:
        try:
            read_end, write_end = os.pipe()
            pid = os.fork()
        except OSError as exc:  # out of processes or memory: this diagram fails, the next may not
            self._reply({"id": request["id"], "crashed": f"cannot start a render: {exc}"})
            return
        if pid == 0:  # the child: render from the untouched context, write one reply, leave
            status = 70
            try:
                os.close(read_end)
                for fd in [self.requests, self.replies, *self.children]:
                    os.close(fd)
                _write_all(write_end, json.dumps(self._render(str(request["source"]))).encode("ascii"))
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self.children[read_end] = _Child(pid, int(request["id"]), time.monotonic() + float(request["timeout"]))
        self.selector.register(read_end, selectors.EVENT_READ)

    def _render(self, source: str) -> dict[str, Any]:
        from mermaidx.engines._common import MermaidRenderError

        # What mermaidx.render(source, theme=..., config=...).svg() runs, minus the hop to its engine thread:
        # this thread is that thread (the fork kept only it), and its messages are the ones users know.
        try:
            svg = self.engine._render_svg_sync(source, self.settings["theme"], self.settings["config"], None)
        except MermaidRenderError as exc:
            return {"error": f"Mermaid rendering failed: {exc}"}
        except Exception as exc:
            return {"error": str(exc)}
        return {"svg": svg}

    def _collect(self, fd: int) -> None:
        child = self.children[fd]
        data = os.read(fd, _READ)
        if data:
            child.output += data
            return
        status = self._end(fd, child, kill=False)
        reply: dict[str, Any] = {"crashed": _ending(status)}
        if status == 0:
            try:
                reply = json.loads(child.output)
            except ValueError:
                reply = {"crashed": "it wrote an incomplete reply"}
        self._reply({**reply, "id": child.request})

    def _end(self, fd: int, child: _Child, *, kill: bool) -> int:
        if kill:
            os.kill(child.pid, signal.SIGKILL)
        _, status = os.waitpid(child.pid, 0)
        self.selector.unregister(fd)
        os.close(fd)
        del self.children[fd]
        return status

    def _reply(self, message: dict[str, Any]) -> None:
        _write_all(self.replies, encode_frame(message))


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def _load(settings: dict[str, Any]) -> tuple[Any, bool]:
    """A mermaidx engine with its first context built (nothing rendered in it), and whether the faster DOM
    shim is in it."""
    import mermaidx.engines.quickjs_engine as quickjs_engine
    from mermaidx.engines._common import context_scripts, render_script

    scripts = list(context_scripts())
    # mermaidx's second script is its dom_shim.js: the overrides are only for the exact text they were written for.
    fast = len(scripts) > 1 and hashlib.sha256(scripts[1].encode("utf-8")).hexdigest() == settings["shim_for"]
    if fast:
        scripts[1] = f"{scripts[1]}\n{settings['shim']}"
    prelude = str(settings["prelude"])
    quickjs_engine.context_scripts = lambda: tuple(scripts)
    # Every render script starts with the builder's determinism prelude, as in the single-use worker.
    quickjs_engine.render_script = lambda *args: prelude + render_script(*args)
    engine = quickjs_engine.Engine()
    engine._init_context()
    return engine, fast


def main() -> None:
    # The protocol gets its own descriptors; anything printed (mermaidx logs to stderr) cannot corrupt it.
    requests, replies = os.dup(0), os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    inbox = bytearray()
    settings: dict[str, Any] | None = None
    while settings is None:
        data = os.read(requests, _READ)
        if not data:
            return
        inbox += data
        settings = next(decode_frames(inbox), None)
    try:
        import mermaidx  # noqa: F401  (the check the single-use worker makes)
    except ImportError as exc:
        _write_all(replies, encode_frame({"missing": str(exc)}))
        return

    def run() -> None:
        try:
            engine, fast = _load(settings)
        except Exception as exc:
            _write_all(replies, encode_frame({"failed": f"{type(exc).__name__}: {exc}"}))
            return
        # What is loaded now is shared with every child: keep the collector from touching (and so copying) it.
        gc.freeze()
        zygote = _Zygote(engine, settings, requests, replies)
        _write_all(replies, encode_frame({"ready": True, "fast_shim": fast}))
        try:
            zygote.serve(inbox)
        except BrokenPipeError:
            pass  # the builder is gone
        finally:
            zygote.stop()

    # Python 3.12+ warns on every fork of a process with two threads; here the other one only waits in join().
    warnings.filterwarnings("ignore", message=r"This process .* is multi-threaded", category=DeprecationWarning)
    threading.stack_size(_STACK_BYTES)
    # The context lives on this thread, and each child continues on it: the fork keeps only the calling thread.
    thread = threading.Thread(target=run, name="mermaid-zygote")
    thread.start()
    thread.join()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
