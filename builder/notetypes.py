"""Notetypes: the fixed Anki notetypes every deck uses (ids, fields, templates, CSS), as schema-11 JSON."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pygments.formatters import HtmlFormatter

from builder.models import NoteKind

# Anki matches notetypes by id and forks a "Basic+" copy when a same-id notetype changes shape, so every id
# below is fixed forever. Changing a field or template list is a breaking change (a major version).
BASIC_ID = 1733059200101
REVERSE_ID = 1733059200102
CLOZE_ID = 1733059200103
OCCLUSION_ID = 1733059200104

LATEX_PRE = (
    "\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n\\usepackage[utf8]{inputenc}\n"
    "\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n\\setlength{\\parindent}{0in}\n\\begin{document}\n"
)
LATEX_POST = "\\end{document}"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    id: int
    #: Image Occlusion finds its fields by tag (0 Occlusion … 4 Comments), not by name.
    tag: int | None = None
    prevent_deletion: bool = False


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    id: int
    question: str
    answer: str


@dataclass(frozen=True)
class Notetype:
    id: int
    name: str
    cloze: bool
    fields: tuple[FieldSpec, ...]
    templates: tuple[TemplateSpec, ...]
    #: Anki's StockNotetype.OriginalStockKind, so Anki knows which built-in this one behaves like.
    original_stock_kind: int = 0
    sort_field: int = 0
    #: Fields that hold what the card asks and what it answers, for manifests, release notes and the linter.
    front_field: int = 0
    back_field: int = 1
    #: CSS this notetype needs besides the shared stylesheet.
    extra_css: str = ""

    def shape(self) -> dict[str, Any]:
        """What Anki compares when it decides whether an incoming notetype is the same one."""
        return {
            "id": self.id,
            "cloze": self.cloze,
            "fields": [[f.name, f.id] for f in self.fields],
            "templates": [[t.name, t.id] for t in self.templates],
        }

    def fingerprint(self) -> str:
        """Changes when fields or templates are added, removed, renamed or reordered: a breaking change."""
        return hashlib.sha256(json.dumps(self.shape(), sort_keys=True).encode()).hexdigest()[:16]

    def content_hash(self) -> str:
        """Changes with any template or CSS edit; a newer notetype mod then makes Anki take the update."""
        data = self.schema11(0, stylesheet())
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def schema11(self, mod: int, css: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "type": 1 if self.cloze else 0,
            "mod": mod,
            "usn": -1,
            "sortf": self.sort_field,
            "did": None,
            "tmpls": [
                {
                    "name": t.name,
                    "ord": i,
                    "qfmt": t.question,
                    "afmt": t.answer,
                    "bqfmt": "",
                    "bafmt": "",
                    "did": None,
                    "bfont": "",
                    "bsize": 0,
                    "id": t.id,
                }
                for i, t in enumerate(self.templates)
            ],
            "flds": [
                {
                    "name": f.name,
                    "ord": i,
                    "sticky": False,
                    "rtl": False,
                    "font": "Arial",
                    "size": 20,
                    "description": "",
                    "plainText": False,
                    "collapsed": False,
                    "excludeFromSearch": False,
                    "id": f.id,
                    "tag": f.tag,
                    "preventDeletion": f.prevent_deletion,
                    "media": [],
                }
                for i, f in enumerate(self.fields)
            ],
            "css": css + self.extra_css,
            "latexPre": LATEX_PRE,
            "latexPost": LATEX_POST,
            "latexsvg": False,
            # Anki recomputes card requirements itself; this keeps older clients happy.
            "req": [[i, "any", [0]] for i in range(len(self.templates))],
            "originalStockKind": self.original_stock_kind,
            "tags": [],
            "vers": [],
        }


_FRONT = '<div class="df-card df-front">{{Front}}</div>'
_BACK = '<div class="df-card df-back">{{Back}}</div>'
_ANSWER = '{{FrontSide}}\n<hr id="answer">\n'

BASIC = Notetype(
    id=BASIC_ID,
    name="Deckforge Basic",
    cloze=False,
    fields=(FieldSpec("Front", 7_309_101_811_427_001), FieldSpec("Back", 7_309_101_811_427_002)),
    templates=(TemplateSpec("Card 1", 7_309_101_811_427_101, _FRONT, _ANSWER + _BACK),),
    original_stock_kind=1,
)

REVERSE = Notetype(
    id=REVERSE_ID,
    name="Deckforge Reverse",
    cloze=False,
    fields=(FieldSpec("Front", 7_309_101_811_428_001), FieldSpec("Back", 7_309_101_811_428_002)),
    templates=(
        TemplateSpec("Forward", 7_309_101_811_428_101, _FRONT, _ANSWER + _BACK),
        TemplateSpec("Reverse", 7_309_101_811_428_102, _BACK, _ANSWER + _FRONT),
    ),
    original_stock_kind=2,
)

# Anki's cloze filter blanks a field with no deletion, so the title cannot live in a field of its own on the
# card: render.py puts it at the top of Text, and Title only names the note in the browser (its sort field).
_CLOZE = '<div class="df-card df-cloze">{{cloze:Text}}</div>'

CLOZE = Notetype(
    id=CLOZE_ID,
    name="Deckforge Cloze",
    cloze=True,
    fields=(FieldSpec("Text", 7_309_101_811_429_001), FieldSpec("Title", 7_309_101_811_429_002)),
    templates=(TemplateSpec("Cloze", 7_309_101_811_429_101, _CLOZE, _CLOZE),),
    original_stock_kind=5,
    sort_field=1,
    front_field=1,
    back_field=0,
)

# Anki's own Image Occlusion templates: its clients draw the masks from {{cloze:Occlusion}} with their built-in
# script, so this is the one notetype that needs JavaScript, and only Anki's own.
_IO_SIDE = (
    '{{#Header}}<div class="df-card df-title">{{Header}}</div>{{/Header}}\n'
    '<div style="display: none">{{cloze:Occlusion}}</div>\n'
    '<div id="err"></div>\n'
    '<div id="image-occlusion-container">\n'
    "    {{Image}}\n"
    '    <canvas id="image-occlusion-canvas"></canvas>\n'
    "</div>\n"
    "<script>\n"
    "try {\n"
    "    anki.imageOcclusion.setup();\n"
    "} catch (exc) {\n"
    '    document.getElementById("err").innerHTML = `Error loading image occlusion. '
    "Is your Anki version up to date?<br><br>${exc}`;\n"
    "}\n"
    "</script>\n"
)
_IO_BACK = (
    _IO_SIDE
    + '\n<div><button id="toggle">Toggle Masks</button></div>\n'
    + '{{#Back Extra}}<div class="df-card df-back">{{Back Extra}}</div>{{/Back Extra}}\n'
)
_IO_CSS = """
#image-occlusion-canvas {
  --inactive-shape-color: #ffeba2;
  --active-shape-color: #ff8e8e;
  --inactive-shape-border: 1px #212121;
  --active-shape-border: 1px #212121;
  --highlight-shape-color: #ff8e8e00;
  --highlight-shape-border: 1px #ff8e8e;
}
"""

OCCLUSION = Notetype(
    id=OCCLUSION_ID,
    name="Deckforge Image Occlusion",
    cloze=True,
    fields=(
        FieldSpec("Occlusion", 7_309_101_811_430_001, tag=0, prevent_deletion=True),
        FieldSpec("Image", 7_309_101_811_430_002, tag=1, prevent_deletion=True),
        FieldSpec("Header", 7_309_101_811_430_003, tag=2, prevent_deletion=True),
        FieldSpec("Back Extra", 7_309_101_811_430_004, tag=3, prevent_deletion=True),
        FieldSpec("Comments", 7_309_101_811_430_005, tag=4),
    ),
    templates=(TemplateSpec("Image Occlusion", 7_309_101_811_430_101, _IO_SIDE, _IO_BACK),),
    original_stock_kind=6,
    sort_field=2,
    front_field=2,
    back_field=3,
    extra_css=_IO_CSS,
)

NOTETYPES: dict[NoteKind, Notetype] = {
    NoteKind.BASIC: BASIC,
    NoteKind.REVERSE: REVERSE,
    NoteKind.CLOZE: CLOZE,
    NoteKind.OCCLUSION: OCCLUSION,
}


@cache
def stylesheet() -> str:
    """One stylesheet for every notetype: the card CSS plus Pygments colours for light and night mode."""
    base = resources.files("builder").joinpath("card.css").read_text(encoding="utf-8")
    light: str = HtmlFormatter(style="default").get_style_defs(".card .highlight")  # type: ignore[no-untyped-call]
    dark: str = HtmlFormatter(style="monokai").get_style_defs(".nightMode .highlight")  # type: ignore[no-untyped-call]
    return f"{base}\n/* Code, light */\n{light}\n/* Code, night mode */\n{dark}\n"
