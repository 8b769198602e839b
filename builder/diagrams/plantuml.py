"""PlantUML engine (optional; a `plantuml` command or PLANTUML_JAR plus Java): PlantUML source in, SVG text out."""

from __future__ import annotations

import functools
import os
import re
import shutil
from pathlib import Path

from builder.diagrams.base import (
    DiagramSyntaxError,
    DiagramTimeoutError,
    EngineMissingError,
    engine_env,
    run_process,
)

INSTALL_HINT = (
    "PlantUML is not installed: install it with `apt-get install plantuml` (Debian/Ubuntu) or "
    "`brew install plantuml` (macOS), or download plantuml.jar from https://plantuml.com/download and set "
    "PLANTUML_JAR=/path/to/plantuml.jar (needs Java 8+ on PATH or JAVA_HOME)"
)

# -nometadata: the source would otherwise be embedded in the SVG (size, and private comments leaking).
ARGS: tuple[str, ...] = ("-tsvg", "-pipe", "-charset", "UTF-8", "-nometadata")
# SANDBOX forbids !include of local files and URLs, so a diagram cannot read the build machine's files.
_JVM_FLAGS = ("-Djava.awt.headless=true", "-DPLANTUML_SECURITY_PROFILE=SANDBOX")
_VERSION = re.compile(r"PlantUML version ([0-9][\w.\-]*)")


def command() -> tuple[str, ...] | None:
    """How to start PlantUML here: PLANTUML_JAR (explicit) wins over a `plantuml` launcher on PATH."""
    jar = os.environ.get("PLANTUML_JAR")
    if jar and Path(jar).is_file():
        java_home = os.environ.get("JAVA_HOME")
        java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
        if java and Path(java).is_file():
            return (java, *_JVM_FLAGS, "-jar", jar)
        return None
    launcher = shutil.which("plantuml")
    return (launcher,) if launcher else None


@functools.lru_cache(maxsize=4)
def _version_of(cmd: tuple[str, ...]) -> str:
    try:
        result = run_process([*cmd, "-version"], input_text="", timeout=60, missing_hint=INSTALL_HINT, env=_env())
    except (EngineMissingError, DiagramTimeoutError):
        return "unknown"
    match = _VERSION.search(result.stdout + result.stderr)
    return match.group(1) if match else "unknown"


def _env() -> dict[str, str]:
    env = engine_env(("PLANTUML_",))
    env["PLANTUML_SECURITY_PROFILE"] = "SANDBOX"
    return env


class PlantUMLEngine:
    name = "plantuml"
    options = " ".join(ARGS)

    def version(self) -> str:
        cmd = command()
        return _version_of(cmd) if cmd else "missing"

    def available(self) -> str | None:
        if command() is None:
            return INSTALL_HINT
        return None

    def close(self) -> None:
        """Nothing to stop: each render is a process of its own."""

    def render(self, source: str, *, timeout: float) -> str:
        cmd = command()
        if cmd is None:
            raise EngineMissingError(INSTALL_HINT)
        body, offset = _body(source)
        result = run_process([*cmd, *ARGS], input_text=body, timeout=timeout, missing_hint=INSTALL_HINT, env=_env())
        if result.returncode != 0 or "<svg" not in result.stdout:
            raise _syntax_error(result.stderr, offset)
        return result.stdout


def _body(source: str) -> tuple[str, int]:
    """The lines between @startuml and @enduml, and how many source lines come before them.

    PlantUML's pipe mode counts error lines differently depending on what precedes @startuml; given a bare
    body it numbers lines from 1, so sending the body makes the reported line exact. Other diagram kinds
    (@startmindmap, @startgantt, ...) need their @start line and are sent unchanged.
    """
    lines = source.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.lower().startswith("@startuml"):
            break
        end = next(
            (i for i in range(index + 1, len(lines)) if lines[i].strip().lower().startswith("@enduml")),
            len(lines),
        )
        return "\n".join(lines[index + 1 : end]) + "\n", index + 1
    return source, 0


def _syntax_error(stderr: str, offset: int) -> DiagramSyntaxError:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    # JVM or font warnings may come first; PlantUML's report is "ERROR", the line number, then the message.
    for index in range(len(lines) - 1):
        if lines[index] == "ERROR" and lines[index + 1].isdigit():
            message = " ".join(lines[index + 2 :]) or "syntax error"
            return DiagramSyntaxError(message, line=int(lines[index + 1]) + offset)
    return DiagramSyntaxError(" ".join(lines[-2:]) or "PlantUML failed without a message")
