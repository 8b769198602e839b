"""Validation: the raw notes of one file → NoteSpec models, with every problem reported at its location."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from markdown_it.token import Token

from builder import cloze, mdrules
from builder.config import Embedded, load_front_matter, load_note_meta
from builder.diagnostics import Diagnostics, Location
from builder.diagrams import ENGINES
from builder.diagrams.fence import parse_fence_info
from builder.fidelity.parsed import check_parsed
from builder.fields import note_notetype
from builder.media import SOUND_PREFIX, MediaLibrary, MediaProblem
from builder.models import FileSettings, NoteKind, NoteMeta, NoteSpec
from builder.notekinds.validate import check_kind
from builder.notetypes.deckdefined import DeckNotetype
from builder.parse import ParsedFile, RawNote
from builder.sanitize.html import inspect_fragment
from builder.sanitize.policy import Verdict, link_problem
from builder.source import SourceFile

#: Token kinds that can carry a media reference or a script.
_CHECKED = frozenset({"image", "sound", "html_block", "html_inline", "link_open"})


_MAX_MISSES = 20


def _find_in_lines(
    source: SourceFile, block: Token, needle: str, cursors: dict[int, int] | None = None
) -> tuple[Location, int]:
    """Locate `needle` within a block's lines; the block's first line if it is not found verbatim.

    With `cursors`, each search in a block starts where the last one in it ended: the problems of a block are
    found in order, so a paragraph of 16,000 broken images costs one pass over it instead of one per image.
    """
    assert block.map is not None
    start, end = block.map
    begin = source.offset(start + 1)
    stop = source.offset(end + 1) if end < len(source.line_starts) else len(source.text)
    key = id(block)
    cursor = cursors.get(key, begin) if cursors is not None else begin
    # A needle not written verbatim (a reference-style image) is searched to the block's end: after a few of
    # those the block's first line has to do, or a block of them would cost a pass per problem.
    misses = cursors.get(-key, 0) if cursors is not None else 0
    found = source.text.find(needle, cursor, stop) if misses < _MAX_MISSES else -1
    if found < 0:
        if cursors is not None:
            cursors[-key] = misses + 1
        return Location(source.path, start + 1, 1), 1
    if cursors is not None:
        cursors[key] = found + len(needle)
    return source.location(found), len(needle)


def body_text(note: RawNote) -> tuple[str, int]:
    """The raw body and the offset of its first character in the file."""
    source = note.source
    if note.body_span.start_line == 0:
        return "", 0
    start = source.offset(note.body_span.start_line)
    last = note.body_span.end_line
    end = source.offset(last) if last <= len(source.line_starts) else len(source.text)
    return source.text[start:end], start


def diagram_fences(note: RawNote) -> list[Token]:
    """Fenced blocks whose language names a diagram engine (```dot, ```mermaid, ```d2, ...)."""
    return [t for t in note.fences if fence_language(t) in ENGINES]


def fence_language(token: Token) -> str:
    info = token.info.strip()
    return info.split(maxsplit=1)[0].lower() if info else ""


def _blank_lines(text: str, start_offset: int, source: SourceFile, fences: Sequence[Token]) -> str:
    """The body with diagram fences blanked out (offsets kept), so their markers are not text clozes."""
    if not fences:
        return text
    chars = list(text)
    for fence in fences:
        assert fence.map is not None
        first = source.offset(fence.map[0] + 1) - start_offset
        last = source.offset(fence.map[1] + 1) if fence.map[1] < len(source.line_starts) else len(source.text)
        for i in range(first, min(last - start_offset, len(chars))):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def _check_clozes(note: RawNote, diagnostics: Diagnostics) -> tuple[set[int], dict[int, set[int]]]:
    """Cloze numbers in the text, and per diagram fence (by line) the numbers of its occlusion markers."""
    source = note.source
    ordinals: set[int] = set()
    found, problems = cloze.scan(note.title)
    title_start = source.offset(note.title_line, note.title_col)
    for problem in problems:
        diagnostics.error(source.location(title_start + problem.offset), problem.code, problem.message, problem.length)
    ordinals.update(c.ordinal for c in found)
    body, body_start = body_text(note)
    fences = diagram_fences(note)
    found, problems = cloze.scan(_blank_lines(body, body_start, source, fences))
    for problem in problems:
        diagnostics.error(source.location(body_start + problem.offset), problem.code, problem.message, problem.length)
    ordinals.update(c.ordinal for c in found)
    markers: dict[int, set[int]] = {}
    for fence in fences:
        assert fence.map is not None
        content_start = source.offset(fence.map[0] + 2) if fence.map[0] + 1 < len(source.line_starts) else 0
        found, problems = cloze.scan(fence.content)
        for problem in problems:
            location = source.location(content_start + problem.offset)
            diagnostics.error(location, problem.code, problem.message, problem.length)
        if found:
            markers[fence.map[0] + 1] = {c.ordinal for c in found}
    return ordinals, markers


def _check_fence_info(note: RawNote, diagnostics: Diagnostics) -> None:
    """The settings after a diagram fence's language (```mermaid alt="..."), each problem at its column."""
    source = note.source
    for fence in diagram_fences(note):
        info = fence.info.strip()
        _, problems = parse_fence_info(info)
        if not problems:
            continue
        assert fence.map is not None
        line = fence.map[0] + 1
        text = source.line_text(line)
        # markdown-it unescapes the info string; where it is not found verbatim, point at the language.
        start = text.find(info)
        if start < 0:
            start = text.find(fence.markup) + len(fence.markup)
        for problem in problems:
            diagnostics.error(
                Location(source.path, line, start + problem.offset + 1), "D007", problem.message, problem.length
            )


def _note_kind(
    note: RawNote, meta: NoteMeta | None, ordinals: set[int], markers: dict[int, set[int]], diagnostics: Diagnostics
) -> tuple[NoteKind, set[int]]:
    source = note.source
    if markers:
        fence_lines = sorted(markers)
        for extra in fence_lines[1:]:
            diagnostics.error(
                Location(source.path, extra, 1),
                "E055",
                f"found a second diagram with occlusion markers (the first is on line {fence_lines[0]}); expected "
                "one occluded diagram per note, because Anki occludes one image. Move it to a note of its own",
            )
        if ordinals:
            diagnostics.error(
                Location(source.path, note.title_line, note.title_col),
                "E054",
                "found text clozes in a note whose diagram has occlusion markers; expected one or the other: the "
                "occluded diagram already makes one card per number. Move the clozes to another note",
            )
        return NoteKind.OCCLUSION, markers[fence_lines[0]]
    if ordinals:
        return NoteKind.CLOZE, ordinals
    return (meta.type if meta and meta.type else NoteKind.BASIC), set()


def _check_tokens(note: RawNote, media: MediaLibrary, diagnostics: Diagnostics) -> list[str]:
    """Scripts in raw HTML, `javascript:` links and image references, in one pass; returns the image sources."""
    images: list[str] = []
    cursors: dict[int, int] = {}
    # What the Markdown rules find is searched for on its own: a sound embed is found once for its options and
    # once for its file.
    rule_cursors: dict[int, int] = {}
    # Each token with the block token that carries its line map. Only inline tokens have children, and most
    # tokens are of no kind checked here: one set lookup each.
    for block in (note.title_token, *note.body):
        if block.type in _CHECKED:
            _check_token(note, block, block, media, images, cursors, diagnostics)
        for token in block.children or ():
            if token.type in _CHECKED:
                _check_token(note, token, block, media, images, cursors, diagnostics)
            if token.type in mdrules.CHECKS:
                _report_rule(note, token, block, rule_cursors, diagnostics)
    return images


def _report_rule(note: RawNote, token: Token, block: Token, cursors: dict[int, int], diagnostics: Diagnostics) -> None:
    """What a Markdown rule (builder.mdrules) has to say about one of its tokens, where it is written."""
    finding = mdrules.CHECKS[token.type](token)
    if finding is not None:
        location, length = _find_in_lines(note.source, block, finding.needle, cursors)
        report = diagnostics.warning if finding.warning else diagnostics.error
        report(location, finding.code, finding.message, length)


def _check_token(
    note: RawNote,
    token: Token,
    block: Token,
    media: MediaLibrary,
    images: list[str],
    cursors: dict[int, int],
    diagnostics: Diagnostics,
) -> None:
    kind = token.type
    if kind == "sound":
        ref = SOUND_PREFIX + token.content
        images.append(ref)
        checked = media.check(ref)
        if isinstance(checked, MediaProblem):
            location, length = _find_in_lines(note.source, block, token.content, cursors)
            diagnostics.error(location, checked.code, checked.message, length)
    elif kind == "image":
        src = str(token.attrs.get("src", ""))
        images.append(src)
        checked = media.check(src)
        problem = checked if isinstance(checked, MediaProblem) else media.warning(src)
        if problem is not None:
            # An Obsidian embed (`![[src]]`) keeps its markup; a Markdown image is found by `](src`.
            embedded = token.markup.startswith("![[")
            needle = src if embedded else f"]({src}" if src else "!["
            location, length = _find_in_lines(note.source, block, needle, cursors)
            if src and not embedded:
                location = Location(location.path, location.line, location.col + 2)
            if src:
                length = len(src)
            report = diagnostics.warning if problem.warning else diagnostics.error
            report(location, problem.code, problem.message, length)
    elif kind in ("html_block", "html_inline"):
        _check_html(note, token, block, media, images, cursors, diagnostics)
    elif kind == "link_open":
        bad_link = link_problem(str(token.attrs.get("href", "")))
        if bad_link is not None:
            location, length = _find_in_lines(note.source, block, "](", cursors)
            diagnostics.error(location, "E073", f"found {bad_link}. Remove it or link to a web page", length)


def _html_origin(source: SourceFile, token: Token, block: Token, cursors: dict[int, int]) -> Location:
    """Where a raw HTML token's text starts in the file: a block at its first line, inline HTML where found."""
    assert block.map is not None
    if token is block:
        return Location(source.path, block.map[0] + 1, 1)
    first = token.content.split("\n", 1)[0]
    return _find_in_lines(source, block, first, cursors)[0]


def _check_html(
    note: RawNote,
    token: Token,
    block: Token,
    media: MediaLibrary,
    images: list[str],
    cursors: dict[int, int],
    diagnostics: Diagnostics,
) -> None:
    """Everything the content policy removes from raw HTML, reported where it is written (builder.sanitize)."""
    source = note.source
    inspection = inspect_fragment(token.content)
    if not inspection.findings and not inspection.images:
        return
    origin = _html_origin(source, token, block, cursors)
    for finding in inspection.findings:
        line = origin.line + finding.line - 1
        col = origin.col + finding.col - 1 if finding.line == 1 else finding.col
        length = 1
        if finding.needle and line <= len(source.line_starts):
            # Point at the attribute itself when it is written on the element's line.
            at = source.line_text(line).lower().find(finding.needle.lower(), max(col - 1, 0))
            if at >= 0:
                col, length = at + 1, len(finding.needle)
        report = diagnostics.error if finding.verdict is Verdict.ERROR else diagnostics.warning
        report(Location(source.path, line, col), finding.code, finding.message, length)
    for src in inspection.images:
        images.append(src)
        checked = media.check(src)
        problem = checked if isinstance(checked, MediaProblem) else media.warning(src)
        if problem is not None:
            location, length = _find_in_lines(source, block, src, cursors)
            report = diagnostics.warning if problem.warning else diagnostics.error
            report(location, problem.code, problem.message, length)


def _note(
    note: RawNote,
    settings: FileSettings,
    index: int,
    media: MediaLibrary,
    notetypes: Mapping[str, DeckNotetype],
    diagnostics: Diagnostics,
) -> tuple[NoteSpec | None, list[str]]:
    source = note.source
    heading = Location(source.path, note.title_line, note.title_col)
    before = len(diagnostics.errors)

    meta = None
    if note.meta is None:
        diagnostics.error(
            heading,
            "E030",
            "missing note id: found no metadata comment under this heading; expected "
            "`<!-- id: some-id -->` on the next line. Run `python -m builder fix-ids` to add ids",
        )
    elif not note.meta.terminated:
        diagnostics.error(
            Location(source.path, note.meta.line, note.meta.col),
            "E031",
            "unterminated metadata comment: found `<!--` without `-->`; expected the comment to close, "
            "e.g. `<!-- id: my-note -->`. Add `-->`",
            4,
        )
        return None, []
    else:
        meta, has_id = load_note_meta(source, note.meta.text, note.meta.text_line, note.meta.text_col, diagnostics)
        if meta is None and not has_id and len(diagnostics.errors) == before:
            diagnostics.error(
                Location(source.path, note.meta.line, note.meta.col),
                "E030",
                "missing note id in the metadata comment; expected `id: some-id`. "
                "Run `python -m builder fix-ids` to add ids",
            )

    if not note.title.strip():
        diagnostics.error(
            heading, "E040", "empty front: the heading has no text; expected the question or term after `## `"
        )
    custom, notetype = note_notetype(note, meta, settings, notetypes, diagnostics)
    text_ordinals, markers = _check_clozes(note, diagnostics)
    meta_type = meta.type if meta else None
    special = None if custom else check_kind(note, meta_type, text_ordinals, markers, media, diagnostics)
    if custom:
        # The notetype's templates decide its cards, from the rendered fields; its fields may be empty.
        kind, ordinals = NoteKind.CUSTOM, text_ordinals
        if markers:
            diagnostics.error(
                Location(source.path, min(markers), 1),
                "E187",
                "found occlusion markers in a note of a deck-defined notetype; expected them only in built-in "
                "notes, which become Image Occlusion notes. Remove the markers or the `notetype:`",
            )
    elif special is not None:
        kind, ordinals = special.kind, set(special.ordinals)
    else:
        kind, ordinals = _note_kind(note, meta, text_ordinals, markers, diagnostics)
    # With an empty body every text cloze is in the title, which then carries the whole note. Text after `-->`
    # is the body the author meant, reported as such (E116).
    trailing = note.meta is not None and note.meta.trailing is not None
    if not custom and not note.body and not text_ordinals and not trailing:
        diagnostics.error(
            heading,
            "E041",
            "empty back: found no text between this heading and the next; expected the answer below the "
            "metadata comment",
        )
    images = _check_tokens(note, media, diagnostics)
    _check_fence_info(note, diagnostics)
    if special is not None:
        images.extend(special.media)

    if not custom and ordinals and meta is not None and meta.type is NoteKind.REVERSE:
        assert note.meta is not None
        where = Embedded(source, note.meta.text, note.meta.text_line, note.meta.text_col)
        location, length = where.key_location("type", ":")
        diagnostics.error(
            location,
            "E053",
            "found `type: reverse` on a note with clozes or occlusion markers; expected one or the other: such a "
            "note already makes one card per cloze number. Remove `type: reverse` or the clozes",
            length,
        )
    # A note with other problems still takes part in the duplicate-id check, so all problems show at once.
    if meta is None:
        return None, images
    spec = NoteSpec(
        note_id=meta.id,
        kind=kind,
        subdeck=settings.deck,
        tags=tuple(sorted(set(settings.tags) | set(meta.tags))),
        location=heading,
        cloze_numbers=tuple(sorted(ordinals)),
        lint_ignore=meta.ignore,
        sources=meta.sources,
        note_index=index,
        notetype=notetype.key if notetype is not None else None,
        guid=meta.guid,
    )
    return spec, images


class Identified(Protocol):
    @property
    def note_id(self) -> str: ...
    @property
    def location(self) -> Location: ...


def check_unique_guids(notes: Sequence[tuple[str, Location, bool]], diagnostics: Diagnostics) -> None:
    """GUIDs are unique in the deck: Anki would merge two notes into one. Each entry says whether the GUID was
    written in the note (`guid:`); two derived ones only agree when the ids do, which E035 reports."""
    first: dict[str, tuple[Location, bool]] = {}
    for guid, location, explicit in notes:
        seen, seen_explicit = first.setdefault(guid, (location, explicit))
        if seen is not location and (explicit or seen_explicit):
            diagnostics.error(
                location,
                "E186",
                f"GUID `{guid}` is also the GUID of the note at {seen}; expected every note to have its own, "
                "because Anki matches notes by GUID. Remove the `guid:` of the copy",
            )


def check_unique_ids(notes: Sequence[Identified], diagnostics: Diagnostics) -> None:
    """Note ids are unique across the whole deck: every file of it, in path order."""
    first: dict[str, Identified] = {}
    for spec in notes:
        seen = first.setdefault(spec.note_id, spec)
        if seen is not spec:
            diagnostics.error(
                spec.location,
                "E035",
                f"duplicate note id `{spec.note_id}`, first used at {seen.location}; expected ids unique in the "
                "deck. Give this note a new id (never reuse an id of a different note)",
            )


@dataclass(frozen=True)
class CheckedFile:
    #: The notes that passed validation; none when the file's front matter is invalid.
    notes: tuple[NoteSpec, ...]
    #: Every image reference in the file, sorted and unique.
    images: tuple[str, ...]


def validate_file(
    parsed: ParsedFile,
    media: MediaLibrary,
    diagnostics: Diagnostics,
    notetypes: Mapping[str, DeckNotetype] | None = None,
) -> CheckedFile:
    check_parsed(parsed, diagnostics)
    settings: FileSettings | None = FileSettings()
    if parsed.front_matter is not None:
        fm = parsed.front_matter
        settings = load_front_matter(parsed.source, fm.text, fm.first_line, diagnostics)
    notes: list[NoteSpec] = []
    images: set[str] = set()
    for index, raw in enumerate(parsed.notes):
        spec, found = _note(raw, settings or FileSettings(), index, media, notetypes or {}, diagnostics)
        images.update(found)
        if spec is not None and settings is not None:
            notes.append(spec)
    return CheckedFile(tuple(notes), tuple(sorted(images)))
