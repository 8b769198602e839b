"""Release history: a rendered deck and the previous release's manifest → per-note mod times, tombstones, guards.

Anki updates an existing note on import only when the incoming `mod` is newer, and keeps the learner's own
edit otherwise. So a note's mod must move exactly when the note changes. We compare each note's content hash
with the previous release's manifest (committed under `source/<deck>/releases/`): unchanged notes keep their
old mod, changed and new notes get the build time. The same commit therefore always builds the same bytes,
and a shallow CI checkout needs no git history for it. Edit links follow the same rule (builder/editlink.py): an
unchanged note keeps the link recorded in the previous manifest, so its fields stay the same bytes too.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from builder.config import Embedded
from builder.diagnostics import Diagnostics
from builder.editlink import EditLinks, with_link
from builder.ids import content_hash
from builder.manifest import Manifest, ManifestNote, build_manifest, front_text
from builder.models import Deck, NoteKind, RenderedNote
from builder.notetypes import deck_stylesheet
from builder.notetypes.deckdefined import DeckNotetype
from builder.notetypes.resolve import all_notetypes
from builder.source import SourceFile


@dataclass(frozen=True)
class Release:
    """What gets packaged: the deck with tombstones for removed notes, and every mod time."""

    deck: Deck
    mods: dict[str, int]
    notetype_mods: dict[int, int]
    manifest: Manifest
    previous: Manifest | None
    #: The deck's stylesheet, worked out once for the notetype hashes and again needed by the package.
    css: str


#: What a tombstone's front adds to the removed note's front, as the manifest's plain text shows it.
_REMOVED_MARK = " (removed)"


def removed_tag(deck: Deck) -> str:
    return f"{deck.slug}::removed"


def _tombstone(deck: Deck, old: ManifestNote, where: SourceFile, removed_in: str) -> RenderedNote:
    """A note that replaces a removed one under the same GUID, so learners can find and delete it.

    A note removed in an earlier release gets the same tombstone again (its front without the mark the tombstone
    added, the version that removed it), so it keeps its hash and mod and a learner's copy is not touched again.
    """
    notice = (
        f"This note was removed from the deck in version {escape(removed_in)}. "
        f"Find all removed notes with the search <code>tag:{escape(removed_tag(deck))}</code> and delete them."
    )
    front = escape(old.front.removesuffix(_REMOVED_MARK) if old.removed else old.front)
    kind = NoteKind(old.kind)
    custom = next((nt for nt in deck.notetypes if nt.name == old.notetype), None)
    if kind is NoteKind.CUSTOM and custom is not None:
        return _custom_tombstone(deck, old, where, custom, front, notice)
    if kind is NoteKind.CUSTOM:
        # Its notetype is gone too: the learner's note keeps its own notetype and Anki reports a conflict.
        kind = NoteKind.BASIC
    if kind is NoteKind.CLOZE:
        # A cloze note needs a deletion to keep its card; the notice itself provides one.
        text = f'<div class="df-title">{front}</div>\n<p>{notice.replace("removed", "{{c1::removed}}", 1)}</p>'
        fields: tuple[str, ...] = (text, "", "")
    elif kind is NoteKind.OCCLUSION:
        whole = "{{c1::image-occlusion:rect:left=0:top=0:width=1:height=1:oi=1}}"
        fields = (whole, "", f"{front} <em>(removed)</em>", f"<p>{notice}</p>", "", "")
    else:
        fields = (f"{front} <em>(removed)</em>", f"<p>{notice}</p>", "")
    tags = (removed_tag(deck),)
    return RenderedNote(
        note_id=old.id,
        guid=old.guid,
        kind=kind,
        deck_name=deck.config.name,
        fields=fields,
        tags=tags,
        location=Embedded(where, where.text, 1, 1).key_location("removed", "=")[0],
        cloze_numbers=(1,) if kind.clozed else (),
        media=(),
        front=front_text(kind, fields),
        content_hash=content_hash(kind.value, deck.config.name, " ".join(tags), *fields),
    )


def _custom_tombstone(
    deck: Deck, old: ManifestNote, where: SourceFile, notetype: DeckNotetype, front: str, notice: str
) -> RenderedNote:
    """The tombstone of a note of a deck-defined notetype: the notice in its heading and body fields."""
    fields = [""] * len(notetype.fields)
    fields[notetype.heading] = f"{front} <em>(removed)</em>"
    text = notice.replace("removed", "{{c1::removed}}", 1) if notetype.cloze else notice
    if notetype.body is not None:
        fields[notetype.body] = text
    elif notetype.cloze:
        fields[notetype.heading] += f" {text}"
    tags = (removed_tag(deck),)
    return RenderedNote(
        note_id=old.id,
        guid=old.guid,
        kind=NoteKind.CUSTOM,
        deck_name=deck.config.name,
        fields=tuple(fields),
        tags=tags,
        location=Embedded(where, where.text, 1, 1).key_location("removed", "=")[0],
        cloze_numbers=(1,) if notetype.cloze else (),
        media=(),
        front=old.front,
        content_hash=content_hash(f"custom:{notetype.key}", deck.config.name, " ".join(tags), *fields),
        notetype=notetype.key,
        cards=notetype.card_ordinals(tuple(fields), tags),
    )


def _check_removals(deck: Deck, previous: Manifest, where: SourceFile, diagnostics: Diagnostics) -> list[ManifestNote]:
    present = {note.note_id for note in deck.notes}
    declared = set(deck.config.removed)
    embedded = Embedded(where, where.text, 1, 1)
    tombstoned = []
    for old in previous.notes:
        if old.id in present:
            continue
        if old.id in declared:
            tombstoned.append(old)
            continue
        location, length = embedded.key_location("version", "=")
        diagnostics.error(
            location,
            "E100",
            f'note `{old.id}` ("{old.front[:60]}", released in {previous.version} from {old.source}) is missing '
            f"from the sources; expected every released note to stay, so learners keep its reviews. Restore it, "
            f'or declare the removal in deck.toml: removed = ["{old.id}"]',
            length,
        )
    for note_id in sorted(declared & present):
        location, length = embedded.key_location("removed", "=")
        diagnostics.error(
            location,
            "E101",
            f"note `{note_id}` is listed in `removed` but still exists in the sources; expected one or the other. "
            "Delete the note or take it off the list",
            length,
        )
    return tombstoned


def _check_notetypes(deck: Deck, previous: Manifest, where: SourceFile, diagnostics: Diagnostics) -> None:
    current = {nt.id: nt for nt in all_notetypes(deck)}
    for name, old in sorted(previous.notetypes.items()):
        now = current.get(old.id)
        if now is None or now.fingerprint() == old.fingerprint:
            continue
        if deck.config.major > int(previous.version.split(".")[0]):
            continue
        location, length = Embedded(where, where.text, 1, 1).key_location("version", "=", value=True)
        diagnostics.error(
            location,
            "E102",
            f"notetype `{name}` changed its fields or templates since {previous.version}; Anki cannot update such "
            f"a notetype in place and would fork a copy. Expected a new major version (e.g. "
            f'version = "{int(previous.version.split(".")[0]) + 1}.0.0"), or undo the notetype change',
            length,
        )


def plan_release(
    deck: Deck,
    previous: Manifest | None,
    where: SourceFile,
    epoch: int,
    diagnostics: Diagnostics,
    links: EditLinks | None = None,
) -> Release:
    """Mod times, tombstones, edit links and guards for one deck; guard failures go to `diagnostics`."""
    tombstones: list[RenderedNote] = []
    removed_in: dict[str, str] = {}
    if previous is not None:
        for old in _check_removals(deck, previous, where, diagnostics):
            # Manifests of older builders do not say when a note was removed: the previous release is the best guess.
            version = old.removed_in or (previous.version if old.removed else deck.config.version)
            removed_in[old.id] = version
            tombstones.append(_tombstone(deck, old, where, version))
        _check_notetypes(deck, previous, where, diagnostics)
    old_notes = previous.by_id() if previous else {}
    mods: dict[str, int] = {}
    edits: dict[str, str] = {}
    notes: list[RenderedNote] = []
    for note in deck.notes + tuple(tombstones):
        before = old_notes.get(note.note_id)
        # A tombstone points nowhere; gaining or losing a link is a change learners should receive.
        # A deck-defined notetype has no Source field to hold the link.
        linked = links is not None and note.note_id not in removed_in and note.kind is not NoteKind.CUSTOM
        same = (
            before is not None
            and before.hash == note.content_hash
            and before.guid == note.guid
            and (before.edit is not None) == linked
        )
        if before is not None and same:
            mods[note.note_id] = before.mod
        else:
            # Never older than what learners already have, even if clocks or SOURCE_DATE_EPOCH go backwards.
            mods[note.note_id] = max(epoch, before.mod + 1) if before else epoch
        if links is not None and linked:
            # An unchanged note keeps the link of the release it last changed in: same fields, same bytes.
            url = before.edit if before is not None and same and before.edit else links.url(note.location)
            edits[note.note_id] = url
            note = with_link(note, url)
        notes.append(note)
    full = deck.model_copy(update={"notes": tuple(notes)})
    old_types = {nt.id: nt for nt in previous.notetypes.values()} if previous else {}
    notetype_mods: dict[int, int] = {}
    css = deck_stylesheet(note.fields for note in full.notes)
    for notetype in all_notetypes(deck):
        was = old_types.get(notetype.id)
        same = (
            was is not None and was.content == notetype.content_hash(css) and was.fingerprint == notetype.fingerprint()
        )
        notetype_mods[notetype.id] = was.mod if was is not None and same else max(epoch, was.mod + 1 if was else 0)
    manifest = build_manifest(full, mods, notetype_mods, removed_in, css, edits)
    return Release(full, mods, notetype_mods, manifest, previous, css)
