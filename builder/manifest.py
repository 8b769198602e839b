"""Release manifests: a packaged deck → the JSON record of every note's identity, content hash and mod time."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from html import unescape
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from builder.cloze import reveal
from builder.models import Deck, NoteKind
from builder.notetypes import LAYOUTS
from builder.notetypes.resolve import note_notetypes, used_notetypes

#: Where a deck keeps the manifests of its published releases: `source/<deck>/releases/<version>.json`.
RELEASES_DIR = "releases"
FORMAT = 1


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


#: What a recorded manifest may hold: a hand edit that Anki could not store (a mod past the year 9999, a control
#: character in a front that a tombstone would carry) is refused when the manifest is read, not when packaging.
Seconds = Annotated[int, Field(ge=0, le=253_402_300_800)]
AnkiId = Annotated[int, Field(ge=0, lt=2**63)]
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$", max_length=10_000)]


class ManifestNote(_Frozen):
    #: A note id, or the GUID of a note from another package (builder.diff reads any .apkg).
    id: Text
    guid: Text
    kind: NoteKind
    notetype: Text
    hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{1,128}$")]
    mod: Seconds
    #: `path:line` of the heading when the release was built.
    source: Text
    #: Plain text of the front (or cloze title), for release notes.
    front: Text
    removed: bool = False
    #: For a removed note, the version that removed it. Its tombstone names that version in every later release,
    #: so the tombstone (and the learner's copy of it) stays as it is. Absent in manifests of older builders.
    removed_in: str | None = None
    #: The card's edit link: its source line at the tag of the release it last changed in. Only written when
    #: the deck has a `repository`, so manifests without one (and those of older builders) read the same.
    edit: str | None = None


class ManifestNotetype(_Frozen):
    id: AnkiId
    #: Shape (fields and templates): a change breaks learners' collections.
    fingerprint: Text
    #: Templates and CSS: a change is safe and reaches learners through a newer mod.
    content: Text
    mod: Seconds


class Manifest(_Frozen):
    format: int = FORMAT
    deck: Text
    deck_id: AnkiId
    slug: Text
    version: Annotated[str, StringConstraints(pattern=r"^\d{1,9}\.\d{1,9}\.\d{1,9}(?:-[0-9A-Za-z.-]{1,100})?$")]
    notetypes: dict[str, ManifestNotetype]
    notes: tuple[ManifestNote, ...]

    def by_id(self) -> dict[str, ManifestNote]:
        return {note.id: note for note in self.notes}


class ManifestError(Exception):
    """A manifest that cannot be read; the message says which file and why."""


_BLOCK_TAG = re.compile(r"</?(?:p|div|li|ul|ol|br|tr|td|th|table|pre|h\d)\b[^>]*>")
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def visible_text(html: str) -> str:
    """The text a learner reads in a field: block tags become spaces, inline ones vanish ("a <em>b</em>?")."""
    text = _TAG.sub("", _BLOCK_TAG.sub(" ", html)) if "<" in html else html
    return _SPACE.sub(" ", unescape(text) if "&" in text else text).strip()


_CLOZE_TITLE = re.compile(r'^<div class="df-title">(.*?)</div>', re.DOTALL)


def front_text(kind: NoteKind, fields: tuple[str, ...]) -> str:
    """What the card asks, as text; a cloze note's title sits at the top of its Text field."""
    html = fields[LAYOUTS[kind].front_field]
    if kind is NoteKind.CLOZE and (title := _CLOZE_TITLE.match(html)) is not None:
        return visible_text(reveal(title.group(1)))
    return visible_text(html)


def build_manifest(
    deck: Deck,
    mods: Mapping[str, int],
    notetype_mods: Mapping[int, int],
    removed: Mapping[str, str],
    css: str,
    edits: Mapping[str, str] | None = None,
) -> Manifest:
    """`removed` maps each tombstone's note id to the version that removed the note."""
    edits = edits or {}
    of_notes = note_notetypes(deck)
    rows = [
        {
            "id": note.note_id,
            "guid": note.guid,
            "kind": note.kind,
            "notetype": notetype.name,
            "hash": note.content_hash,
            "mod": mods[note.note_id],
            "source": f"{note.location.path}:{note.location.line}",
            "front": note.front,
            "removed": note.note_id in removed,
            "removed_in": removed.get(note.note_id),
            "edit": edits.get(note.note_id),
        }
        for note, notetype in sorted(zip(deck.notes, of_notes, strict=True), key=lambda pair: pair[0].note_id)
    ]
    used = sorted(used_notetypes(of_notes), key=lambda nt: nt.name)
    notetypes = {
        nt.name: {
            "id": nt.id,
            "fingerprint": nt.fingerprint(),
            "content": nt.content_hash(css),
            "mod": notetype_mods[nt.id],
        }
        for nt in used
    }
    # One validation of the whole manifest (in pydantic's core) is cheaper than building 50,000 models one by one.
    return Manifest.model_validate(
        {
            "deck": deck.config.name,
            "deck_id": deck.config.id,
            "slug": deck.slug,
            "version": deck.config.version,
            "notetypes": notetypes,
            "notes": rows,
        }
    )


_NOTES_SLOT = "\x00notes\x00"


def dumps(manifest: Manifest) -> str:
    """Sorted top-level keys, one note per line: an edited note is a one-line diff in git, and 50,000 dump fast."""
    data = manifest.model_dump(mode="json", exclude={"notes"})
    data["notes"] = _NOTES_SLOT
    head = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False)
    serializer = ManifestNote.__pydantic_serializer__
    rows = ",\n  ".join(serializer.to_json(note, exclude_none=True).decode("utf-8") for note in manifest.notes)
    body = f"[\n  {rows}\n ]" if rows else "[]"
    return head.replace(json.dumps(_NOTES_SLOT), body, 1) + "\n"


def load(path: Path) -> Manifest:
    try:
        return Manifest.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ManifestError(f"cannot read {path.as_posix()}: {exc.strerror}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])[:100]
        message = first["msg"][:200].replace("\n", " ")
        raise ManifestError(f"{path.as_posix()} is not a release manifest ({where}: {message})") from exc


def version_key(version: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    """Semantic-version order: 1.0.0-rc.1 < 1.0.0 < 1.0.1 < 1.1.0."""
    core, _, pre = version.partition("-")
    major, minor, patch = (int(x) for x in core.split("+")[0].split("."))
    parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split(".")) if pre else ()
    return (major, minor, patch, 0 if pre else 1, parts)


def previous_release(deck_folder: Path, version: str) -> tuple[Path, Manifest] | None:
    """The newest recorded release older than `version`, if any."""
    folder = deck_folder / RELEASES_DIR
    if not folder.is_dir():
        return None
    current = version_key(version)
    older = [p for p in folder.glob("*.json") if _is_version(p.stem) and version_key(p.stem) < current]
    if not older:
        return None
    path = max(older, key=lambda p: version_key(p.stem))
    return path, load(path)


def _is_version(text: str) -> bool:
    return re.fullmatch(r"\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?", text) is not None
