"""Release diff: two manifests (or two .apkg files) → added, changed and removed notes, as text or Markdown."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from builder.manifest import Manifest, ManifestError, ManifestNote, ManifestNotetype, load, visible_text
from builder.models import NoteKind


@dataclass(frozen=True)
class NotetypeChange:
    name: str
    #: "added", "removed", "fields or templates" (breaking) or "styling" (safe).
    what: str


@dataclass(frozen=True)
class Changes:
    old_version: str
    new_version: str
    added: tuple[ManifestNote, ...]
    changed: tuple[ManifestNote, ...]
    removed: tuple[ManifestNote, ...]
    notetypes: tuple[NotetypeChange, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.notetypes)


def compare(old: Manifest, new: Manifest) -> Changes:
    before = {n.guid: n for n in old.notes if not n.removed}
    after = {n.guid: n for n in new.notes}
    added = [n for g, n in after.items() if g not in before and not n.removed]
    removed = [n for g, n in after.items() if n.removed and g in before]
    removed += [n for g, n in before.items() if g not in after]
    # Gaining or losing an edit link (a `repository` added to deck.toml, or taken out) updates the note too.
    changed = [
        n
        for g, n in after.items()
        if g in before and not n.removed and (n.hash != before[g].hash or (n.edit is None) != (before[g].edit is None))
    ]
    notetypes: list[NotetypeChange] = []
    old_types = {t.id: (name, t) for name, t in old.notetypes.items()}
    new_types = {t.id: (name, t) for name, t in new.notetypes.items()}
    for type_id in sorted(old_types.keys() | new_types.keys()):
        if type_id not in old_types:
            notetypes.append(NotetypeChange(new_types[type_id][0], "added"))
        elif type_id not in new_types:
            notetypes.append(NotetypeChange(old_types[type_id][0], "removed"))
        else:
            (name, was), (_, now) = old_types[type_id], new_types[type_id]
            if was.fingerprint != now.fingerprint:
                notetypes.append(NotetypeChange(name, "fields or templates"))
            elif was.content != now.content:
                notetypes.append(NotetypeChange(name, "styling"))

    def order(notes: list[ManifestNote]) -> tuple[ManifestNote, ...]:
        return tuple(sorted(notes, key=lambda n: n.id))

    return Changes(old.version, new.version, order(added), order(changed), order(removed), tuple(notetypes))


def _label(note: ManifestNote) -> str:
    return f"{note.front} (`{note.id}`)" if note.id != note.guid else note.front


def format_markdown(changes: Changes) -> str:
    lines = [f"## Changes from {changes.old_version} to {changes.new_version}", ""]
    if changes.empty:
        return "\n".join([*lines, "No changes to notes or notetypes.", ""])
    for title, notes in (("Added", changes.added), ("Changed", changes.changed), ("Removed", changes.removed)):
        if notes:
            lines += [f"### {title} ({len(notes)})", ""]
            lines += [f"- {_label(n)}" for n in notes]
            lines.append("")
    if changes.removed:
        lines += ["Removed notes stay in your collection, tagged `<deck>::removed`; delete them when you like.", ""]
    if changes.notetypes:
        lines += ["### Notetypes", ""]
        for change in changes.notetypes:
            note = " (breaking: a new major version)" if change.what == "fields or templates" else ""
            lines.append(f"- {change.name}: {change.what}{note}")
        lines.append("")
    return "\n".join(lines)


def format_text(changes: Changes) -> str:
    out = [f"{changes.old_version} -> {changes.new_version}"]
    for sign, notes in (("+", changes.added), ("~", changes.changed), ("-", changes.removed)):
        out += [f"{sign} {n.id}  {n.front}" for n in notes]
    out += [f"notetype {c.name}: {c.what}" for c in changes.notetypes]
    out.append(
        f"{len(changes.added)} added, {len(changes.changed)} changed, {len(changes.removed)} removed, "
        f"{len(changes.notetypes)} notetype change(s)"
    )
    return "\n".join(out) + "\n"


def _from_apkg(path: Path) -> Manifest:
    """A manifest rebuilt from a package: notes are known by GUID only, hashes cover fields and tags."""
    try:
        with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as work:
            db_path = Path(work) / "collection.anki2"
            db_path.write_bytes(archive.read("collection.anki2"))
            with sqlite3.connect(db_path) as db:
                models = json.loads(db.execute("SELECT models FROM col").fetchone()[0])
                decks = json.loads(db.execute("SELECT decks FROM col").fetchone()[0])
                rows = db.execute("SELECT guid, mid, mod, tags, flds, sfld FROM notes ORDER BY guid").fetchall()
    except (OSError, KeyError, zipfile.BadZipFile, sqlite3.DatabaseError) as exc:
        raise ManifestError(f"{path.as_posix()} is not a readable .apkg ({exc})") from exc
    descriptions = " ".join(str(d.get("desc", "")) for d in decks.values())
    match = re.search(r"Version (\S+?)(?:<|$|\s)", descriptions)
    notes = []
    for guid, mid, mod, tags, fields, sort_field in rows:
        model = models[str(mid)]
        kind = NoteKind.CLOZE if model.get("type") == 1 else NoteKind.BASIC
        digest = hashlib.sha256(f"{mid}\x00{tags}\x00{fields}".encode()).hexdigest()
        notes.append(
            ManifestNote(
                id=guid,
                guid=guid,
                kind=kind,
                notetype=model["name"],
                hash=digest,
                mod=mod,
                source=path.name,
                front=visible_text(str(sort_field)),
                removed="::removed" in tags,
            )
        )
    notetypes = {
        m["name"]: ManifestNotetype(
            id=int(m["id"]),
            fingerprint=json.dumps([[f["name"] for f in m["flds"]], [t["name"] for t in m["tmpls"]]]),
            content=hashlib.sha256((m["css"] + json.dumps(m["tmpls"], sort_keys=True)).encode()).hexdigest(),
            mod=int(m.get("mod", 0)),
        )
        for m in models.values()
    }
    return Manifest(
        deck="",
        deck_id=0,
        slug=path.stem,
        version=match.group(1) if match else path.stem,
        notetypes=notetypes,
        notes=tuple(notes),
    )


def read_release(path: Path) -> Manifest:
    """A manifest file, or a package turned into one."""
    if path.suffix == ".apkg":
        return _from_apkg(path)
    return load(path)
