"""Confinement: a diagram's source → the places where it would read a file of the build machine.

Engines run on the build machine with its file system: a D2 import (`x: @file`, `...@file`), a Graphviz
image (`image=`, `<IMG SRC=...>` in an HTML label, `shapefile=`, `imagepath=`, `fontpath=`) or a PlantUML
`!include` would read any file the build can read (and an engine's "file not found" would tell whether a
path exists). Diagrams are therefore refused before any engine sees them when they use one of these, whatever
the path: a diagram is written in full in its fence. The message never depends on the path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

CODE = "E134"


@dataclass(frozen=True)
class Include:
    #: 0-based line and column inside the diagram source.
    line: int
    col: int
    found: str
    engine: str


#: Per engine family (DiagramEngine.name): what reads another file. Quoted D2 strings are not imports.
_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "d2": re.compile(r"""(?:\.\.\.\s*@|(?<![\w"'\\])@(?=[\w./~-]))"""),
    "graphviz": re.compile(r"\b(?:image|shapefile|imagepath|fontpath)\s*=|<\s*img\b", re.IGNORECASE),
    "plantuml": re.compile(r"^\s*!(?:include\w*|import)\b|<img:|!theme\s+\S+\s+from\b", re.IGNORECASE | re.MULTILINE),
}
_D2_STRING = re.compile(r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|\|`?[^|]*`?\||#[^\n]*""")


def _blank(match: re.Match[str]) -> str:
    return re.sub(r"[^\n]", " ", match.group())


def includes(engine: str, source: str) -> list[Include]:
    """Every place where `source` would make the `engine` family read a file."""
    pattern = _PATTERNS.get(engine)
    if pattern is None:
        return []
    # D2 strings, block strings and comments may say "@" freely: blank them out, keeping offsets.
    text = _D2_STRING.sub(_blank, source) if engine == "d2" else source
    found = []
    for match in pattern.finditer(text):
        line = text.count("\n", 0, match.start())
        col = match.start() - (text.rfind("\n", 0, match.start()) + 1)
        found.append(Include(line, col, source[match.start() : match.end()].strip(), engine))
    return found


def message(include: Include) -> str:
    what = {"d2": "a D2 import", "graphviz": "a Graphviz image or file attribute", "plantuml": "a PlantUML include"}
    return (
        f"found {what[include.engine]} `{include.found}`; expected the diagram written in full in its fence, "
        "because a diagram must not read files of the build machine. Paste what it imports into the fence "
        "(images: put them in media/ and show them beside the diagram)"
    )
