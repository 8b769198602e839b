"""Measuring one command: a subprocess → its wall time, its process tree's peak memory and its stage timings;
and `watch`: a long-running process → how long each rebuild after an edit takes to be reported.

Memory is the peak of the sum over the process and its children (the build's workers), sampled every 10 ms
from /proc: proportional set size where the kernel offers it, so pages shared by forked workers count once.
Where /proc is missing the child's own maximum resident size stands in.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    stages: Mapping[str, float] = field(default_factory=dict)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in (_PROC / str(pid) / "task").iterdir():
            text = (task / "children").read_text()
            found.extend(int(child) for child in text.split())
    except OSError:
        pass
    return found


def _memory_kb(pid: int) -> int:
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            for line in (_PROC / str(pid) / name).read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1])
        except OSError:
            continue
    return 0


def _tree_kb(root: int) -> int:
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _memory_kb(pid)
        stack.extend(_children(pid))
    return total


class _PeakMemory:
    """Samples a process tree's memory every 10 ms on a thread until stopped; `kb` is the largest sum seen."""

    def __init__(self, pid: int) -> None:
        self.kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(pid,), daemon=True)
        if _PROC.is_dir():
            self._thread.start()

    def _sample(self, pid: int) -> None:
        while not self._done.is_set():
            self.kb = max(self.kb, _tree_kb(pid))
            self._done.wait(0.01)

    def stop(self) -> int:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join()
        return self.kb


def run(argv: Sequence[str], env: Mapping[str, str], cwd: Path, timings: Path | None = None) -> Run:
    """Run `argv` to completion; fail loudly if it fails, since a benchmark of a failing build means nothing."""
    if timings is not None:
        timings.unlink(missing_ok=True)
    start = time.perf_counter()
    process = subprocess.Popen(
        list(argv), cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    memory = _PeakMemory(process.pid)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    peak = memory.stop()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}):\n{stdout.decode()}\n{stderr.decode()}")
    if peak == 0:
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    stages = json.loads(timings.read_text()) if timings is not None and timings.is_file() else {}
    return Run(seconds, peak / 1024, stages)


def watch(argv: Sequence[str], env: Mapping[str, str], cwd: Path, edit: Callable[[], object], repeat: int) -> list[Run]:
    """Start a `watch` process, then `repeat` times: edit a file and time until the rebuild is reported.

    The time runs from the moment the edit is on disk to the line `watch` prints once the package, the
    manifest and the up-to-date record are written, so it includes the wait for the next look at the tree.
    Peak memory is the watch process's (and any workers') over the whole session.
    """
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            list(argv), cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=errors, text=True
        )
        memory = _PeakMemory(process.pid)
        stdout = process.stdout
        assert stdout is not None

        def until_watching() -> list[str]:
            lines: list[str] = []
            while True:
                line = stdout.readline()
                if not line:
                    errors.seek(0)
                    raise RuntimeError(f"{' '.join(argv)} stopped:\n{''.join(lines)}\n{errors.read().decode()}")
                lines.append(line)
                if line.startswith("watching "):
                    return lines

        try:
            until_watching()
            seconds = []
            for _ in range(repeat):
                edit()
                start = time.perf_counter()
                lines = until_watching()
                seconds.append(time.perf_counter() - start)
                if not any(line.startswith("built ") for line in lines):
                    errors.seek(0)
                    raise RuntimeError(f"the rebuild failed:\n{''.join(lines)}\n{errors.read().decode()}")
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
            peak = memory.stop()
    return [Run(s, peak / 1024) for s in seconds]
