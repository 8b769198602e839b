"""Confinement: a diagram's source → the places where it would read a file of the build machine.

Engines run on the build machine with its file system: a D2 import (`x: @file`, `...@"file"`) or icon
(`icon: file`, embedded into the SVG even with `--bundle=false`), a Graphviz image (`image=`, `<IMG SRC=...>`
in an HTML label, `shapefile=`, `imagepath=`, `fontpath=`) or a PlantUML `!include` would read any file the
build can read (and an engine's "file not found" would tell whether a path exists). Diagrams are therefore
refused before any engine sees them when they use one of these, whatever the path: a diagram is written in
full in its fence. A D2 icon from the web is refused too: the card would load it (`E074` after rendering),
so the only deterministic answer is the same one, before the engine runs. The message never depends on the
path. D2 and DOT are read token by token (d2scan, dotscan), since quoting, comments and escapes can hide a
keyword from a pattern.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass

from builder.diagrams import d2scan, dotscan

CODE = "E134"


@dataclass(frozen=True)
class Include:
    #: 0-based line and column inside the diagram source.
    line: int
    col: int
    found: str
    engine: str
    #: What reads the file, when the engine has more than one way: "icon" for a D2 icon.
    kind: str = ""


#: Per engine family (DiagramEngine.name) read by pattern: what reads another file.
_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "plantuml": re.compile(r"^\s*!(?:include\w*|import)\b|<img:|!theme\s+\S+\s+from\b", re.IGNORECASE | re.MULTILINE),
}


def _reads(engine: str, source: str) -> list[tuple[int, str, str]]:
    if engine == "d2":
        return [(read.offset, read.found, read.kind) for read in d2scan.reads(source)]
    if engine == "graphviz":
        return [(read.offset, read.found, "") for read in dotscan.reads(source)]
    pattern = _PATTERNS.get(engine)
    return [] if pattern is None else [(m.start(), m.group().strip(), "") for m in pattern.finditer(source)]


def includes(engine: str, source: str) -> list[Include]:
    """Every place where `source` would make the `engine` family read a file."""
    # Line starts once, so that many findings in a long diagram stay linear.
    starts = [0, *(m.end() for m in re.finditer("\n", source))]
    found = []
    for offset, text, kind in _reads(engine, source):
        line = bisect.bisect_right(starts, offset) - 1
        found.append(Include(line, offset - starts[line], text, engine, "icon" if kind == "icon" else ""))
    return found


def message(include: Include) -> str:
    if include.kind == "icon":
        return (
            "found a D2 icon `icon`; expected a diagram without icons, because D2 embeds the icon's file from "
            "the build machine and a card must not load images from the web. Remove the icon "
            "(put the image in media/ and show it beside the diagram)"
        )
    what = {"d2": "a D2 import", "graphviz": "a Graphviz image or file attribute", "plantuml": "a PlantUML include"}
    return (
        f"found {what[include.engine]} `{include.found}`; expected the diagram written in full in its fence, "
        "because a diagram must not read files of the build machine. Paste what it imports into the fence "
        "(images: put them in media/ and show them beside the diagram)"
    )
