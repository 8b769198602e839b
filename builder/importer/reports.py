"""What an import tells the author after the deck builds: notes that lost something or were set aside, media
renamed for Windows, and what the package's notetypes load or run on a learner's device (warnings, E177/E178)."""

from __future__ import annotations

import re
from pathlib import Path

from builder.diagnostics import Diagnostics, Location
from builder.importer.apkg import Package, PackageNotetype
from builder.importer.layout import Layout
from builder.notetypes.builtin import IO_SCRIPT
from builder.source import display_path


def report_renamed(renamed: list[tuple[str, str]], media: Path, diagnostics: Diagnostics) -> None:
    for name, written in renamed:
        diagnostics.warning(
            Location(display_path(media / written)),
            "E177",
            f"media file `{name}` is written as `{written.rsplit('/', 1)[-1]}`: its stem is a device name Windows "
            "reserves, so a repository holding it could not be checked out there. Cards name it by its new name",
        )


_TEMPLATE_MEDIA = re.compile(r"[\"'(]\s*(_[^\"'()\s<>]+)")


def report_template_media(
    package: Package, notetypes: list[PackageNotetype], keys: dict[int, str], diagnostics: Diagnostics, shown: str
) -> None:
    """Files named `_...` that templates or CSS load (fonts, scripts): learners have them; builds do not ship them."""
    in_package = {entry.name for entry in package.media}
    for nt in notetypes:
        used = set(_TEMPLATE_MEDIA.findall(nt.css + "".join(t.question + t.answer for t in nt.templates)))
        for name in sorted(used & in_package):
            diagnostics.warning(
                Location(f"{shown}/notetypes/{keys[nt.id]}/notetype.toml"),
                "E177",
                f"notetype `{nt.name}` loads `{name}` from its templates or CSS; the build does not ship template "
                "media yet, so only learners who had the original deck have it. Inline it in style.css or keep "
                "the original package's file available",
            )


#: What in a template or style.css runs script or loads from the network on a learner's device.
_ACTIVE = (
    (re.compile(r"<script\b", re.IGNORECASE), "a `<script>` element"),
    (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.IGNORECASE), "an `on...=` event handler"),
    (re.compile(r"javascript\s*:", re.IGNORECASE), "a `javascript:` URL"),
    (re.compile(r"url\(\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE), "a remote `url(...)`"),
    (re.compile(r"@import\b", re.IGNORECASE), "an `@import`"),
    (re.compile(r"<(?:iframe|object|embed)\b", re.IGNORECASE), "an embedded frame or object"),
)


def report_active_templates(
    notetypes: list[PackageNotetype], keys: dict[int, str], diagnostics: Diagnostics, shown: str
) -> None:
    """Templates ship as written, script included (docs/authoring.md): one from a foreign package is flagged."""
    for nt in notetypes:
        parts = [("style.css", nt.css)]
        for template in nt.templates:
            parts += [(f"template `{template.name}` (front)", template.question)]
            parts += [(f"template `{template.name}` (back)", template.answer)]
        for where, text in parts:
            # Anki's own Image Occlusion setup (the one our builder writes too) is no news to anyone.
            text = text.replace(IO_SCRIPT, "").replace(IO_SCRIPT.rstrip("\n"), "")
            found = [what for pattern, what in _ACTIVE if pattern.search(text)]
            if found:
                diagnostics.warning(
                    Location(f"{shown}/notetypes/{keys[nt.id]}/notetype.toml"),
                    "E177",
                    f"notetype `{nt.name}`: {where} has {', '.join(found)}; templates and style.css ship as "
                    "written and run on every learner's device. Review it before you build, and remove what "
                    "you do not trust",
                )


def report_notes(layout: Layout, diagnostics: Diagnostics, shown: str) -> None:
    for report in layout.notes:
        if report.dropped:
            diagnostics.warning(
                Location(f"{shown}/{report.path}", report.line),
                "E177",
                f"note {report.note_id} (guid {report.guid}): dropped {'; '.join(report.dropped)}; "
                "Markdown and the card sanitiser cannot keep them. Check the note in Anki if it mattered",
            )
    for note, why in layout.skipped:
        diagnostics.warning(
            Location(f"{shown}/deck.toml"),
            "E178",
            f"note {note.id} (guid {note.guid}) was not imported: {why}. Learners keep its cards as they are, "
            "but builds of this deck no longer update them",
        )
