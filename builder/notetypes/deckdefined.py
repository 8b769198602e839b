"""Deck-defined notetypes: a deck's own notetypes (fields, templates, CSS, fixed ids) and the cards they make.

A deck may carry notetypes as source under `source/<deck>/notetypes/<key>/` (see builder.notetypes.loader):
an imported deck keeps the notetypes its learners already have, with their ids, so a rebuilt note updates in
place; an author can give a deck its own card design. Anki decides which cards a note has from its
templates; `card_ordinals` follows Anki's rules (rslib's cardgen and template parser) so the package holds
exactly the cards Anki would generate itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from builder import cloze

#: Field names a template may use that are not fields of the note.
SPECIAL_FIELDS = frozenset({"FrontSide", "Card", "CardFlag", "Deck", "Subdeck", "Tags", "Type", "CardID"})


@dataclass(frozen=True)
class FieldDef:
    name: str
    #: Anki matches fields by id when both sides have one, else by name; older packages have none.
    id: int | None = None
    tag: int | None = None
    prevent_deletion: bool = False
    font: str = "Arial"
    size: int = 20
    rtl: bool = False
    sticky: bool = False
    plain_text: bool = False
    collapsed: bool = False
    exclude_from_search: bool = False
    description: str = ""


@dataclass(frozen=True)
class TemplateDef:
    name: str
    id: int | None
    question: str
    answer: str
    browser_question: str = ""
    browser_answer: str = ""
    browser_font: str = ""
    browser_size: int = 0


@dataclass(frozen=True)
class DeckNotetype:
    """One notetype a deck defines; `key` is its folder name, which notes name in `notetype:`."""

    key: str
    id: int
    name: str
    cloze: bool
    fields: tuple[FieldDef, ...]
    templates: tuple[TemplateDef, ...]
    css: str
    sort_field: int = 0
    #: The field a note's `##` heading fills, and the one the text under it fills (None: no such field).
    heading: int = 0
    body: int | None = 1
    latex_pre: str = ""
    latex_post: str = ""
    latex_svg: bool = False
    original_stock_kind: int = 0

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def shape(self) -> dict[str, Any]:
        """What Anki compares when it decides whether an incoming notetype is the same one (equal_schema)."""
        return {
            "id": self.id,
            "cloze": self.cloze,
            "fields": [[f.name, f.id] for f in self.fields],
            "templates": [[t.name, t.id] for t in self.templates],
        }

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.shape(), sort_keys=True).encode()).hexdigest()[:16]

    def content_hash(self, css: str = "") -> str:
        """Changes with any template, CSS or setting; the deck's shared stylesheet does not apply here."""
        return hashlib.sha256(json.dumps(self.schema11(0), sort_keys=True).encode()).hexdigest()[:16]

    def schema11(self, mod: int, css: str = "") -> dict[str, Any]:
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
                    "bqfmt": t.browser_question,
                    "bafmt": t.browser_answer,
                    "did": None,
                    "bfont": t.browser_font,
                    "bsize": t.browser_size,
                    "id": t.id,
                }
                for i, t in enumerate(self.templates)
            ],
            "flds": [
                {
                    "name": f.name,
                    "ord": i,
                    "sticky": f.sticky,
                    "rtl": f.rtl,
                    "font": f.font,
                    "size": f.size,
                    "description": f.description,
                    "plainText": f.plain_text,
                    "collapsed": f.collapsed,
                    "excludeFromSearch": f.exclude_from_search,
                    "id": f.id,
                    "tag": f.tag,
                    "preventDeletion": f.prevent_deletion,
                    "media": [],
                }
                for i, f in enumerate(self.fields)
            ],
            "css": self.css,
            "latexPre": self.latex_pre,
            "latexPost": self.latex_post,
            "latexsvg": self.latex_svg,
            "req": [[i, "any", [0]] for i in range(len(self.templates))],
            "originalStockKind": self.original_stock_kind,
            "tags": [],
            "vers": [],
        }

    @cached_property
    def _questions(self) -> tuple[tuple[Node, ...] | None, ...]:
        return tuple(_parse_or_none(t.question) for t in self.templates)

    def card_ordinals(self, fields: tuple[str, ...], tags: tuple[str, ...] = ()) -> tuple[int, ...]:
        """The template ordinals of the cards Anki generates for a new note with these fields."""
        if self.cloze:
            numbers = {c.ordinal for html in fields for c in cloze.scan(html)[0]}
            ordinals = sorted({min(n, 500) - 1 for n in numbers if n > 0})
        else:
            nonempty = {f.name for f, html in zip(self.fields, fields, strict=False) if not field_is_empty(html)}
            names = set(self.field_names)
            nonempty |= {s for s in SPECIAL_FIELDS - names if s != "FrontSide" and (s != "Tags" or tags)}
            ordinals = [
                i for i, nodes in enumerate(self._questions) if nodes is not None and not _is_empty(nodes, nonempty)
            ]
        # Anki gives every note at least one card.
        return tuple(ordinals) or (0,)


def deck_notetypes_digest(notetypes: Iterable[DeckNotetype]) -> str:
    """A digest of everything a note file's compilation reads from the deck's notetypes (for its cache key)."""
    data = [[nt.key, nt.schema11(0), nt.heading, nt.body] for nt in notetypes]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


# Anki's template language, as far as card generation needs it ------------------------------------------------

_EMPTY_FIELD = re.compile(r"^(?:\s|</?(?:br|div) ?/?>)*$", re.IGNORECASE)


def field_is_empty(html: str) -> bool:
    """Anki's rule: only whitespace, `<br>` and `<div>` tags."""
    return _EMPTY_FIELD.match(html) is not None


@dataclass(frozen=True)
class Node:
    #: "text", "field", "if" or "unless".
    kind: str
    key: str = ""
    children: tuple[Node, ...] = ()


class TemplateSyntaxError(ValueError):
    pass


_HANDLEBAR = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def parse_template(text: str) -> tuple[Node, ...]:
    """Anki's template syntax: `{{Field}}`, `{{filter:Field}}`, `{{#Field}}…{{/Field}}`, `{{^Field}}…{{/Field}}`."""
    alt = text.lstrip().startswith("{{=<% %>=}}")
    if alt:
        text = text.lstrip()[len("{{=<% %>=}}") :].replace("<%", "{{").replace("%>", "}}")
    text = _COMMENT.sub("", text)
    stack: list[tuple[str, str, list[Node]]] = [("root", "", [])]
    pos = 0
    for match in _HANDLEBAR.finditer(text):
        if match.start() > pos:
            stack[-1][2].append(Node("text"))
        pos = match.end()
        inner = match.group(1).lstrip("{").strip()
        if len(inner) >= 2 and inner[0] in "#^":
            stack.append(("if" if inner[0] == "#" else "unless", inner[1:].strip(), []))
        elif len(inner) >= 2 and inner[0] == "/":
            key = inner[1:].strip()
            kind, opened, children = stack[-1]
            if kind == "root" or opened != key:
                expected = f"`{{{{/{opened}}}}}`" if kind != "root" else "no closing tag"
                raise TemplateSyntaxError(f"found `{{{{/{key}}}}}`; expected {expected}")
            stack.pop()
            stack[-1][2].append(Node(kind, key, tuple(children)))
        else:
            stack[-1][2].append(Node("field", inner.rsplit(":", 1)[-1]))
    if len(stack) > 1:
        raise TemplateSyntaxError(f"`{{{{#{stack[-1][1]}}}}}` is never closed; expected `{{{{/{stack[-1][1]}}}}}`")
    return tuple(stack[0][2])


def _parse_or_none(text: str) -> tuple[Node, ...] | None:
    try:
        return parse_template(text)
    except TemplateSyntaxError:
        return None


def referenced_fields(nodes: Iterable[Node]) -> set[str]:
    out: set[str] = set()
    for node in nodes:
        if node.kind != "text":
            out.add(node.key)
        out |= referenced_fields(node.children)
    return out


def _is_empty(nodes: Iterable[Node], nonempty: set[str]) -> bool:
    """rslib's template_is_empty with check_negated: a question is blank unless a non-empty field shows."""
    for node in nodes:
        if node.kind == "field" and node.key in nonempty:
            return False
        if node.kind == "if" and node.key in nonempty and not _is_empty(node.children, nonempty):
            return False
        if node.kind == "unless" and node.key not in nonempty and not _is_empty(node.children, nonempty):
            return False
    return True
