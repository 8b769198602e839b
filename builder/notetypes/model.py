"""The notetype model: fields, templates and CSS as Anki's schema-11 JSON, and what "changed shape" means."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

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
    #: CSS this notetype needs besides the deck's shared stylesheet.
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

    def content_hash(self, css: str) -> str:
        """Changes with any template or CSS edit; a newer notetype mod then makes Anki take the update."""
        data = self.schema11(0, css)
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
