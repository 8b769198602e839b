"""Which cards to photograph, chosen from the imported collection: the first note of each kind.

A kind is a row in `KINDS`: a name, a test on a note, which card of the note and which sides. Covering a new
kind of note (type-in answers, audio, image occlusion on a photo, an edit link) is one more row. On top of the
kinds, every notetype in the collection gets at least one card, so a notetype no row knows is still seen, and
`--note` adds any note by id.

Runs against a plain `anki.collection.Collection`: inside the app (the driver) and in tests alike.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.anki_app.job import SIDES
from tests.anki_app.svgfacts import engine_of

_IMG = re.compile(r"<img\b([^>]*)>", re.I)
_ATTR = re.compile(r'([a-zA-Z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|\'([^\']*)\'|([^\s>]+))')


@dataclass(frozen=True)
class Image:
    src: str
    alt: str
    classes: str
    engine: str | None  # the diagram engine that drew it, None for anything else


@dataclass(frozen=True)
class Origin:
    """Where a note comes from, read from the build manifest beside its package (`dist/<deck>-<version>.json`)."""

    stable_id: str
    source: str


@dataclass(frozen=True)
class NoteView:
    """What the kinds look at: one note, its notetype's role, its cards and its images."""

    note_id: int
    origin: Origin | None
    notetype: str
    role: str
    card_ids: Mapping[int, int]  # card ord -> card id
    images: tuple[Image, ...]
    templates: tuple[str, ...]  # question and answer formats of every template
    fields: Mapping[str, str]

    @property
    def engines(self) -> tuple[str, ...]:
        return tuple(sorted({image.engine for image in self.images if image.engine}))


@dataclass(frozen=True)
class Kind:
    name: str
    matches: Callable[[NoteView], bool]
    card_ord: int = 0
    sides: tuple[str, ...] = SIDES
    #: Shoot every matching note (named by its id), not only the first.
    every: bool = False
    #: A kind a deck may well not have (audio in an exam deck): not reported missing when it is absent.
    optional: bool = False
    #: What the driver types into a type-in box before it shows the answer, from the note; None types nothing.
    typed: Callable[[NoteView], str] | None = None


@dataclass(frozen=True)
class Target:
    """One card to photograph: `label` names its files (`light-desktop-<label>-question.png`)."""

    label: str
    kind: str
    note_id: int
    stable_id: str | None
    source: str | None
    card_id: int
    card_ord: int
    notetype: str
    sides: tuple[str, ...]
    #: Typed into the type-in box before the answer is shown (the reviewer then compares it); None: nothing.
    typed: str | None = None


# Roles: what a notetype is, from its structure rather than its name (names carry the deck's name).
_IO_KIND = 6  # anki.notetypes_pb2.StockNotetype.OriginalStockKind IMAGE_OCCLUSION


def _role(notetype: Mapping[str, Any]) -> str:
    templates = notetype.get("tmpls", [])
    formats = " ".join(t.get("qfmt", "") + t.get("afmt", "") for t in templates)
    rules: tuple[tuple[str, bool], ...] = (
        ("image-occlusion", notetype.get("originalStockKind") == _IO_KIND or "image-occlusion" in formats),
        ("cloze", notetype.get("type") == 1),
        ("typein", "{{type:" in formats),
        ("reverse", len(templates) == 2),
        ("basic", len(templates) == 1),
    )
    return next((role for role, holds in rules if holds), "other")


_SOUND = re.compile(r"\[sound:([^\]]+)\]")
_VIDEO = (".3gp", ".mkv", ".mov", ".mp4", ".webm")


def _sounds(note: NoteView, video: bool) -> bool:
    names = _SOUND.findall(" ".join(note.fields.values()))
    return any(name.lower().endswith(_VIDEO) == video for name in names)


def _photo_occlusion(note: NoteView) -> bool:
    """Image Occlusion on an image from media/ (a screenshot, a photo): its image is no rendered diagram."""
    return note.role == "image-occlusion" and bool(note.images) and all(not i.engine for i in note.images)


def _near_miss(note: NoteView) -> str:
    """The answer with its first letter's case flipped: one wrong character, so the comparison shows both
    Anki's marks (typed right, typed wrong, missed)."""
    answer = html.unescape(re.sub(r"<[^>]+>", "", note.fields.get("Back", ""))).strip()
    return answer[:1].swapcase() + answer[1:]


def _diagram(engine: str) -> Callable[[NoteView], bool]:
    return lambda note: note.role != "image-occlusion" and engine in note.engines


#: The kinds of card every run photographs: the first note of each (lowest note id), or with `every` each one.
#: Add a row for a new kind of note.
KINDS: tuple[Kind, ...] = (
    # The specific kinds first: a card is shot once, under the first kind that takes it.
    Kind("type-in", lambda n: n.role == "typein", typed=_near_miss),
    Kind("image-occlusion-photo", _photo_occlusion, optional=True),
    Kind("audio", lambda n: _sounds(n, video=False), optional=True),
    Kind("video", lambda n: _sounds(n, video=True), optional=True),
    Kind("basic", lambda n: n.role == "basic" and not n.images),
    Kind("reverse-forward", lambda n: n.role == "reverse" and not n.images, card_ord=0),
    Kind("reverse-backward", lambda n: n.role == "reverse" and not n.images, card_ord=1),
    Kind("cloze", lambda n: n.role == "cloze" and not n.images),
    Kind("image-occlusion", lambda n: n.role == "image-occlusion"),
    Kind("diagram-mermaid", _diagram("mermaid")),
    Kind("diagram-d2", _diagram("d2")),
    Kind("diagram-graphviz", _diagram("graphviz")),
    # Every other diagram once, answer side: the label-size and night-mode facts then cover each diagram.
    Kind("diagrams", lambda n: bool(n.engines), sides=("answer",), every=True),
)


def images_in(html_text: str, media_dir: Path | None) -> tuple[Image, ...]:
    """Every <img> of some field HTML, with the diagram engine read from the SVG file when it is in media."""
    images: list[Image] = []
    for match in _IMG.finditer(html_text):
        attrs = {
            m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR.finditer(match.group(1))
        }
        src = attrs.get("src", "")
        svg = None
        if media_dir is not None and src.lower().endswith(".svg") and "/" not in src and "\\" not in src:
            path = media_dir / src
            if path.is_file():
                svg = path.read_text(encoding="utf-8", errors="replace")
        engine = engine_of(svg, attrs.get("alt", ""), attrs.get("class", "")) if svg is not None else None
        images.append(Image(src=src, alt=attrs.get("alt", ""), classes=attrs.get("class", ""), engine=engine))
    return tuple(images)


def read_origins(manifest: Path) -> dict[str, Origin]:
    """Note guid -> stable id and source line, from a build manifest; empty when there is none."""
    if not manifest.is_file():
        return {}
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return {n["guid"]: Origin(n["id"], n.get("source", "")) for n in data.get("notes", []) if "guid" in n}


def note_views(col: Any, origins: Mapping[str, Origin] | None = None) -> list[NoteView]:
    """Every note of the collection, oldest id first (`col` is an `anki.collection.Collection`)."""
    origins = origins or {}
    media_dir = Path(col.media.dir())
    views: list[NoteView] = []
    for note_id in col.db.list("select id from notes order by id"):
        note = col.get_note(note_id)
        notetype = note.note_type()
        cards = {card.ord: int(card.id) for card in note.cards()}
        views.append(
            NoteView(
                note_id=int(note_id),
                origin=origins.get(note.guid),
                notetype=notetype["name"],
                role=_role(notetype),
                card_ids=dict(sorted(cards.items())),
                images=images_in("\n".join(note.fields), media_dir),
                templates=tuple(t.get(k, "") for t in notetype["tmpls"] for k in ("qfmt", "afmt")),
                fields=dict(note.items()),
            )
        )
    return views


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "notetype"


def choose(
    notes: Iterable[NoteView],
    extra: Iterable[str] = (),
    kinds: Iterable[str] = (),
) -> tuple[list[Target], list[str]]:
    """The targets to shoot, and the names of kinds that no note in the collection has.

    `extra` names more notes (note id or stable id; their first card, both sides); `kinds` limits the
    automatic choice to those kinds.
    """
    notes = list(notes)
    wanted = set(kinds)
    targets: list[Target] = []
    missing: list[str] = []
    taken: set[int] = set()

    def add(
        label: str,
        kind: str,
        note: NoteView,
        card_ord: int,
        sides: tuple[str, ...],
        again: bool = False,
        typed: str | None = None,
    ) -> None:
        card_id = note.card_ids[card_ord]
        if card_id in taken and not again:
            return
        taken.add(card_id)
        origin = note.origin
        stable, source = (origin.stable_id, origin.source) if origin else (None, None)
        targets.append(
            Target(label, kind, note.note_id, stable, source, card_id, card_ord, note.notetype, sides, typed)
        )

    for kind in KINDS:
        if wanted and kind.name not in wanted:
            continue
        found = [n for n in notes if kind.matches(n) and kind.card_ord in n.card_ids]
        if not found and not kind.optional:
            missing.append(kind.name)
        # A card an earlier kind took leaves this kind its next note, so each kind still gets a shot.
        fresh = [n for n in found if n.card_ids[kind.card_ord] not in taken] or found
        for note in found if kind.every else fresh[:1]:
            typed = kind.typed(note) if kind.typed else None
            add(_name(note) if kind.every else kind.name, kind.name, note, kind.card_ord, kind.sides, typed=typed)
    if not wanted:
        shot_notetypes = {t.notetype for t in targets}
        for note in notes:
            if note.notetype not in shot_notetypes:
                shot_notetypes.add(note.notetype)
                add(f"notetype-{_slug(note.notetype)}", "notetype", note, min(note.card_ids), SIDES)
    by_name = {str(n.note_id): n for n in notes} | {n.origin.stable_id: n for n in notes if n.origin}
    for name in extra:
        named = by_name.get(name)
        if named is None:
            raise LookupError(f"no note {name!r} in the imported collection (expected a note id or a stable id)")
        add(f"note-{_name(named)}", "note", named, min(named.card_ids), SIDES, again=True)
    return targets, missing


def _name(note: NoteView) -> str:
    """A note's name in file names: its stable id when the manifest gives it, else `note-<id>`."""
    return _slug(note.origin.stable_id) if note.origin else f"note-{note.note_id}"
