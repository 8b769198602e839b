"""The built-in notetypes (Basic, Reverse, Cloze, Image Occlusion): fields, templates and the deck's CSS.

Anki matches notetypes by id and forks a copy ("Basic+") when a same-id notetype changes shape, so the shapes
below are frozen: adding, removing, renaming or reordering a field or template is a major version (E102).
Each deck owns its notetypes: their ids derive from the deck id, so two Deckforge decks in one collection never
overwrite each other's templates or CSS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pygments.formatters import HtmlFormatter

from builder.ids import stable_int
from builder.kinds import NoteKind
from builder.notetypes.features import feature_css, features_used
from builder.notetypes.model import FieldSpec, Notetype, TemplateSpec


@dataclass(frozen=True)
class Layout:
    """What a kind of note stores where; the same for every deck."""

    label: str
    fields: tuple[str, ...]
    #: Fields that hold what the card asks and what it answers, for manifests, release notes and the linter.
    front_field: int
    back_field: int
    sort_field: int = 0


SOURCE_FIELD = "Source"

LAYOUTS: Mapping[NoteKind, Layout] = {
    NoteKind.BASIC: Layout("Basic", ("Front", "Back", SOURCE_FIELD), front_field=0, back_field=1),
    NoteKind.REVERSE: Layout("Reverse", ("Front", "Back", SOURCE_FIELD), front_field=0, back_field=1),
    # Anki's cloze filter blanks a field with no deletion, so the title cannot live in a field of its own on
    # the card: render.py puts it at the top of Text, which is also what the browser sorts by.
    NoteKind.CLOZE: Layout("Cloze", ("Text", "Back Extra", SOURCE_FIELD), front_field=0, back_field=0),
    NoteKind.OCCLUSION: Layout(
        "Image Occlusion",
        ("Occlusion", "Image", "Header", "Back Extra", "Comments", SOURCE_FIELD),
        front_field=2,
        back_field=3,
        sort_field=2,
    ),
    # Back is exactly what the learner types (plain text: Anki compares it character by character); the note's
    # explanation goes to Back Extra, below the comparison.
    NoteKind.TYPEIN: Layout("Type-in", ("Front", "Back", "Back Extra", SOURCE_FIELD), front_field=0, back_field=1),
}

# Every field a learner can edit shows on a card: Source and the extras only when they have content.
_SOURCE = '{{#Source}}<div class="df-card df-source">{{Source}}</div>{{/Source}}\n'
_FRONT = '<div class="df-card df-front">{{Front}}</div>'
_BACK = '<div class="df-card df-back">{{Back}}</div>'
_ANSWER = '{{FrontSide}}\n<hr id="answer">\n'
# The backward card shows a definition; without a cue it reads like an answer.
_CUE = '<div class="df-card df-cue">Name the term</div>\n'

_CLOZE = '<div class="df-card df-cloze">{{cloze:Text}}</div>'
_CLOZE_BACK = _CLOZE + '\n{{#Back Extra}}<div class="df-card df-extra">{{Back Extra}}</div>{{/Back Extra}}\n' + _SOURCE

# Anki's own Image Occlusion markup: its clients draw the masks from {{cloze:Occlusion}} with their built-in
# script, so this is the one notetype that needs JavaScript, and only Anki's own.
_IO_HEADER = '{{#Header}}<div class="df-card df-title">{{Header}}</div>{{/Header}}\n'
_IO_IMAGE = (
    '<div id="err"></div>\n'
    '<div id="image-occlusion-container">\n'
    "    {{Image}}\n"
    '    <canvas id="image-occlusion-canvas"></canvas>\n'
    "</div>\n"
)
_IO_SCRIPT = (
    "<script>\n"
    "try {\n"
    "    anki.imageOcclusion.setup();\n"
    "} catch (exc) {\n"
    '    document.getElementById("err").innerHTML = `Error loading image occlusion. '
    "Is your Anki version up to date?<br><br>${exc}`;\n"
    "}\n"
    "</script>\n"
)
#: Anki's stock Image Occlusion setup, byte for byte: the importer does not flag it as foreign script.
IO_SCRIPT = _IO_SCRIPT
_IO_SIDE = _IO_HEADER + '<div style="display: none">{{cloze:Occlusion}}</div>\n' + _IO_IMAGE + _IO_SCRIPT
# On the back the Occlusion field is shown below the image: its shapes are empty elements for the script, and
# the label of the card's own number (a text cloze after the shapes, builder.masks) is the one thing visible.
_IO_BACK = (
    _IO_HEADER
    + _IO_IMAGE
    + '<div class="df-card df-io-answer">{{cloze:Occlusion}}</div>\n'
    + _IO_SCRIPT
    + '\n<div class="df-card df-io-controls"><button id="toggle">Toggle Masks</button></div>\n'
    + '{{#Back Extra}}<div class="df-card df-back">{{Back Extra}}</div>{{/Back Extra}}\n'
    + '{{#Comments}}<div class="df-card df-extra">{{Comments}}</div>{{/Comments}}\n'
    + _SOURCE
)

# Anki's stock "Basic (type in the answer)" repeats {{Front}} on the answer side instead of {{FrontSide}}: the
# reviewer turns [[type:Back]] into the input box on the question and into the comparison on the answer.
_TYPEIN_FRONT = _FRONT + '\n<div class="df-card df-typein">{{type:Back}}</div>'
_TYPEIN_BACK = (
    _FRONT
    + '\n<hr id="answer">\n<div class="df-card df-typein">{{type:Back}}</div>\n'
    + '{{#Back Extra}}<div class="df-card df-extra">{{Back Extra}}</div>{{/Back Extra}}\n'
    + _SOURCE
)
# The box and the comparison: full column width, the answer's font, Anki's colours kept legible at night.
_TYPEIN_CSS = """
.df-typein {
  margin-top: 0.6em;
  text-align: center;
}
.df-typein #typeans {
  box-sizing: border-box;
  width: 100%;
  font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace !important;
  font-size: 0.95em !important;
}
.df-typein input#typeans {
  padding: 0.35em 0.5em;
  border: 1px solid #8c959f;
  border-radius: 6px;
}
.df-typein code#typeans {
  display: block;
  background: none;
  padding: 0;
}
.nightMode .df-typein input#typeans {
  color: #e6edf3;
  background: #0d1117;
  border-color: #6e7681;
}
.nightMode .typeGood {
  background: #1f6f3a;
  color: #ffffff;
}
.nightMode .typeBad {
  background: #8e1519;
  color: #ffffff;
}
.nightMode .typeMissed {
  background: #5a5a5a;
  color: #ffffff;
}
"""

# Anki's mask colours, spelled out so they can be themed; night mode gets darker masks with light borders,
# so the question mask stands out without a glaring yellow block on a dark card.
_IO_CSS = """
#image-occlusion-canvas {
  --inactive-shape-color: #ffeba2;
  --active-shape-color: #ff8e8e;
  --inactive-shape-border: 1px #212121;
  --active-shape-border: 1px #212121;
  --highlight-shape-color: #ff8e8e00;
  --highlight-shape-border: 1px #ff8e8e;
}
.df-io-answer {
  text-align: center;
  margin-top: 0.4em;
}
.df-io-answer br,
.df-io-answer .cloze-inactive {
  display: none;
}
.nightMode #image-occlusion-canvas {
  --inactive-shape-color: #6b5d2e;
  --active-shape-color: #a33d3d;
  --inactive-shape-border: 1px #c9d1d9;
  --active-shape-border: 1px #ffdddd;
  --highlight-shape-border: 1px #ff8e8e;
}
"""

_TEMPLATES: Mapping[NoteKind, tuple[tuple[str, str, str], ...]] = {
    NoteKind.BASIC: (("Card 1", _FRONT, _ANSWER + _BACK + "\n" + _SOURCE),),
    NoteKind.REVERSE: (
        ("Forward", _FRONT, _ANSWER + _BACK + "\n" + _SOURCE),
        ("Reverse", _CUE + _BACK, _ANSWER + _FRONT + "\n" + _SOURCE),
    ),
    NoteKind.CLOZE: (("Cloze", _CLOZE, _CLOZE_BACK),),
    NoteKind.OCCLUSION: (("Image Occlusion", _IO_SIDE, _IO_BACK),),
    NoteKind.TYPEIN: (("Card 1", _TYPEIN_FRONT, _TYPEIN_BACK),),
}

#: Anki's StockNotetype.OriginalStockKind for each kind.
_STOCK_KIND: Mapping[NoteKind, int] = {
    NoteKind.BASIC: 1,
    NoteKind.REVERSE: 2,
    NoteKind.CLOZE: 5,
    NoteKind.OCCLUSION: 6,
    NoteKind.TYPEIN: 4,
}

#: CSS only one notetype needs, so the other notetypes' stylesheets (and their content hashes) stay as they were.
_EXTRA_CSS: Mapping[NoteKind, str] = {NoteKind.OCCLUSION: _IO_CSS, NoteKind.TYPEIN: _TYPEIN_CSS}

_OCCLUSION_TAGS = {"Occlusion": 0, "Image": 1, "Header": 2, "Back Extra": 3, "Comments": 4}


def _notetype(deck_id: int, deck_name: str, kind: NoteKind) -> Notetype:
    layout = LAYOUTS[kind]
    notetype_id = stable_int(deck_id, "notetype", kind.value)
    occlusion = kind is NoteKind.OCCLUSION
    fields = tuple(
        FieldSpec(
            name,
            stable_int(notetype_id, "field", name),
            # Image Occlusion finds its fields by tag; Anki's editor refuses to delete the first four.
            tag=_OCCLUSION_TAGS.get(name) if occlusion else None,
            prevent_deletion=occlusion and _OCCLUSION_TAGS.get(name, 4) < 4,
        )
        for name in layout.fields
    )
    templates = tuple(
        TemplateSpec(name, stable_int(notetype_id, "template", name), question, answer)
        for name, question, answer in _TEMPLATES[kind]
    )
    return Notetype(
        id=notetype_id,
        name=f"{deck_name} · {layout.label}",
        cloze=kind.clozed,
        fields=fields,
        templates=templates,
        original_stock_kind=_STOCK_KIND[kind],
        sort_field=layout.sort_field,
        extra_css=_EXTRA_CSS.get(kind, ""),
    )


def template_count(kind: NoteKind) -> int:
    """How many templates (cards per note, unless the kind is clozed) a kind of note has."""
    return len(_TEMPLATES[kind])


@cache
def deck_notetypes(deck_id: int, deck_name: str) -> Mapping[NoteKind, Notetype]:
    """The deck's own notetype for every kind of note."""
    return {kind: _notetype(deck_id, deck_name, kind) for kind in LAYOUTS}


_HIGHLIGHT_CLASS = re.compile(r'<span class="([a-zA-Z0-9]+)"')
_RULE = re.compile(r"^\.(?:card|nightMode) \.highlight(?: \.([a-zA-Z0-9]+))? ")


@cache
def _pygments_rules() -> tuple[tuple[str, ...], tuple[str, ...]]:
    light: str = HtmlFormatter(style="default").get_style_defs(".card .highlight")  # type: ignore[no-untyped-call]
    dark: str = HtmlFormatter(style="monokai").get_style_defs(".nightMode .highlight")  # type: ignore[no-untyped-call]
    return tuple(light.splitlines()), tuple(dark.splitlines())


def highlight_classes(html: str) -> frozenset[str]:
    """The Pygments token classes a field's highlighted code uses."""
    return frozenset(_HIGHLIGHT_CLASS.findall(html)) if 'class="highlight"' in html else frozenset()


@cache
def stylesheet(code_classes: frozenset[str] = frozenset()) -> str:
    """The deck's stylesheet: the card CSS, plus Pygments colours only for the token classes its code uses.

    Every notetype carries the whole stylesheet to every card; colours for code a deck never shows would be
    kilobytes of dead weight on each of them.
    """
    css = resources.files("builder.notetypes").joinpath("card.css").read_text(encoding="utf-8")
    if not code_classes:
        return css
    light, dark = _pygments_rules()

    def used(lines: tuple[str, ...]) -> str:
        kept = []
        for line in lines:
            # Pygments also emits global `pre` and line-number rules; a card has no use for either.
            match = _RULE.match(line)
            if match is not None and (match.group(1) is None or match.group(1) in code_classes):
                kept.append(line)
        return "\n".join(kept)

    return f"{css}\n/* Code, light */\n{used(light)}\n/* Code, night mode */\n{used(dark)}\n"


def deck_stylesheet(notes_fields: Iterable[tuple[str, ...]]) -> str:
    """The stylesheet for a deck whose notes have these fields: Pygments colours and Markdown features as used."""
    # One scan over all fields joined (NUL never occurs in a field, so no match spans two) instead of one per
    # field: the history and packaging stages both ask, and a deck has tens of thousands of fields.
    every = [html for fields in notes_fields for html in fields]
    code = "\x00".join(html for html in every if 'class="highlight"' in html)
    classes = frozenset(_HIGHLIGHT_CLASS.findall(code))
    return stylesheet(classes) + feature_css(features_used(("\x00".join(every),)))
