"""Laying out an imported deck: a read package → the text of every file of its deck folder, and what was dropped.

Everything here is a pure function of the package, so importing the same package (or a package built from the
imported source) gives the same files byte for byte:

- one note file per Anki deck (`notes.md` for the top deck, `<sub>/<subsub>.md` below it, split into
  `name.partNNN.md` past NOTES_PER_FILE notes), notes in the order Anki created them;
- note ids from the note's heading or label text, duplicates numbered in GUID order;
- notetype folders named after the notetype, media under `media/<deck-folder>/` with portable names.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from builder import cloze
from builder.importer.html2md import Converted, FieldContext, Unconvertible, convert_field, escape_text
from builder.importer.model import MediaEntry, Package, PackageCard, PackageDeck, PackageNote, PackageNotetype
from builder.importer.names import LayoutError, slugify, yaml_string
from builder.importer.textparts import unclosed_tag
from builder.manifest import visible_text
from builder.models import NOTE_ID_RE, TAG_PATTERN, deck_path_problem
from builder.simpleyaml import load_plain

#: A deck larger than this is split into several files, each one an editor opens quickly.
NOTES_PER_FILE = 500
_TAG_RE = re.compile(TAG_PATTERN)
_PLAIN_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*(?:::[A-Za-z0-9_./-]+)*$")
_GUID = re.compile(r"[^\s\x00-\x1f\x7f]{1,128}")
_IO_CLOZE = re.compile(r"\{\{c\d+::image-occlusion:[^}]*\}\}")
#: Field names become `### <name>` headings; these would not read back as the same text.
_IO_STOCK_KIND = 6


@dataclass(frozen=True)
class NoteReport:
    """What happened to one note: where it went, what it lost."""

    note_id: int
    guid: str
    #: The written file (relative to the deck folder) and the line of the note's heading.
    path: str
    line: int
    slug: str
    dropped: tuple[str, ...]
    #: Template ordinals of the note's cards in the package.
    cards: tuple[int, ...]
    mtime: int
    notetype_id: int
    fields: tuple[str, ...]


@dataclass
class Layout:
    """Every file of the deck folder (relative path → text) and of its media folder (relative path → entry)."""

    deck_name: str
    deck_id: int
    files: dict[str, str] = field(default_factory=dict)
    media: dict[str, MediaEntry] = field(default_factory=dict)
    notes: list[NoteReport] = field(default_factory=list)
    #: Notes that could not be written, with why: listed, never silently dropped.
    skipped: list[tuple[PackageNote, str]] = field(default_factory=list)
    #: Notetype id → folder key.
    notetype_keys: dict[int, str] = field(default_factory=dict)
    unused_media: int = 0
    warnings: list[str] = field(default_factory=list)


def top_deck(package: Package) -> tuple[PackageDeck, dict[int, PackageDeck]]:
    """The one deck tree the package's cards are in, and every deck by id."""
    decks = {d.id: d for d in package.decks}
    used = {card.deck_id for card in package.cards}
    missing = sorted(used - set(decks))
    if missing:
        raise LayoutError("E170", f"cards name deck ids {missing[:5]} the package does not have; it is damaged")
    roots = sorted({decks[i].name.split("::")[0] for i in used})
    if len(roots) != 1:
        shown = ", ".join(f"`{r}`" for r in roots) or "none"
        raise LayoutError(
            "E172",
            f"found cards in {len(roots)} deck trees ({shown}); expected one deck and its subdecks. "
            "In Anki, export one deck (File > Export, choose the deck), or move the cards under one deck",
        )
    (root,) = roots
    top = next((d for d in decks.values() if d.name == root), None)
    if top is None or top.id == 1 or root == "Default":
        raise LayoutError(
            "E172",
            f"the cards are in Anki's `{root}` deck; expected a deck of their own, because Anki's Default deck "
            "(id 1) belongs to every learner's collection. Move them into a new deck in Anki and export that",
        )
    for name in sorted({decks[i].name for i in used}):
        problem = deck_path_problem(name, top_level=True)
        if problem is not None:
            raise LayoutError(
                "E172",
                f"the deck `{name[:80]}` has {problem}; expected a deck name the built deck can keep. Rename the "
                "deck in Anki and export it again",
            )
    return top, decks


def heading_fields(notetype: PackageNotetype) -> tuple[int, int | None]:
    """Which field the `##` heading and the text under it fill: the first two, or Header and Back Extra for IO."""
    if notetype.original_stock_kind == _IO_STOCK_KIND and len(notetype.fields) >= 4:
        tags = {f.tag: i for i, f in enumerate(notetype.fields)}
        if 2 in tags and 3 in tags:
            return tags[2], tags[3]
    return 0, (1 if len(notetype.fields) > 1 else None)


def _label(fields: Iterable[str]) -> str:
    """A short title for a note whose heading field cannot be a heading: its first words of text."""
    for markdown in fields:
        # The first line: a title or a question, not the list or table that follows it.
        text = _IO_CLOZE.sub("", markdown).strip().split("\n", 1)[0]
        text = cloze.reveal(text)
        text = re.sub(r"!\[[^\]]*\]\([^)]*\)|\[sound:[^\]]*\]|<[^>]+>|[`*_~\\$#>|]", " ", text)
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            words = text.split(" ")
            out = ""
            for word in words:
                if len(out) + len(word) + 1 > 70:
                    return (out or word[:70]) + " …"
                out = f"{out} {word}" if out else word
            return out
    return ""


def _heading_text(markdown: str) -> str:
    """A field that is one line of inline Markdown, as a heading: a trailing ` #` would be read as a closing."""
    return re.sub(r"(\s)(#+)\s*$", r"\1\\\2", markdown)


@dataclass
class _Note:
    package: PackageNote
    key: str
    deck: str
    heading: str
    meta: list[str]
    lead: str
    sections: list[tuple[str, str]]
    dropped: Counter[str]
    slug: str = ""
    tags: tuple[str, ...] = ()


def _convert_cached(value: str, ctx: FieldContext, cache: dict[tuple[str, frozenset[str]], Converted]) -> Converted:
    """Decks repeat fields (empty ones, shared extras): each distinct field of a notetype is converted once."""
    key = (value, ctx.reserved_headings)
    found = cache.get(key)
    if found is None:
        found = cache[key] = convert_field(value, ctx)
    return Converted(found.markdown, found.inline, Counter(found.dropped), list(found.media))


def _convert_note(
    note: PackageNote,
    notetype: PackageNotetype,
    key: str,
    deck: str,
    media: Mapping[str, str],
    cache: dict[tuple[str, frozenset[str]], Converted],
) -> _Note:
    names = [f.name for f in notetype.fields]
    ctx = FieldContext(media, frozenset(names), notetype.cloze)
    converted = []
    for name, value in zip(names, note.fields, strict=True):
        try:
            converted.append(_convert_cached(value, ctx, cache))
        except Unconvertible as exc:
            raise Unconvertible(f"its field `{name}`: {exc}") from None
    dropped: Counter[str] = Counter()
    for c in converted:
        dropped.update(c.dropped)
    heading_index, body_index = heading_fields(notetype)
    head = converted[heading_index]
    sections: list[tuple[str, str]] = []
    if head.inline and head.markdown.strip():
        heading = _heading_text(head.markdown)
    else:
        heading = escape_text(_label(c.markdown for c in converted)) or escape_text(notetype.name)
        sections.append((names[heading_index], head.markdown))
    lead = converted[body_index].markdown if body_index is not None else ""
    for index, c in enumerate(converted):
        if index in (heading_index, body_index) or not c.markdown:
            continue
        sections.append((names[index], c.markdown))
    order = {name: i for i, name in enumerate(names)}
    sections.sort(key=lambda s: order[s[0]])
    if body_index is not None and lead and sections and order[sections[0][0]] < body_index:
        # The lead must come first; a field before it then needs its own section, so the body gets one too.
        sections.append((names[body_index], lead))
        sections.sort(key=lambda s: order[s[0]])
        lead = ""
    return _Note(note, key, deck, heading, [], lead, sections, dropped)


def _tags(note: PackageNote, dropped: Counter[str]) -> tuple[str, ...]:
    kept = []
    for tag in note.tags:
        if _TAG_RE.match(tag):
            kept.append(tag)
        else:
            dropped[f"tag `{tag[:40]}` (a tag cannot hold spaces, quotes, `<` or `>`)"] += 1
    return tuple(sorted(set(kept)))


def _yaml_list(items: Iterable[str]) -> str:
    return "[" + ", ".join(t if _plain_tag(t) else yaml_string(t, quote=True) for t in items) + "]"


def _plain_tag(tag: str) -> bool:
    """Whether the tag reads back as this string unquoted: YAML takes `1`, `true`, `no`, `null`, `2024-01-01`
    or `0x10` for other types, so the builder's own plain reader (which agrees with YAML) decides."""
    return _PLAIN_TAG.match(tag) is not None and load_plain(f"tags: [{tag}]") == {"tags": [tag]}


def _assign_slugs(notes: list[_Note]) -> None:
    """Readable ids, unique in the deck: duplicates get -2, -3, ... in GUID order, the same on every import."""
    taken: set[str] = set()
    wanted = sorted(notes, key=lambda n: (n.slug, n.package.guid))
    for note in wanted:
        base = note.slug
        candidate = base
        number = 2
        while candidate in taken:
            suffix = f"-{number}"
            candidate = base[: 64 - len(suffix)] + suffix
            number += 1
        taken.add(candidate)
        note.slug = candidate


def _note_slug(heading: str) -> str:
    text = re.sub(r"\\(.)", r"\1", heading)
    text = _IO_CLOZE.sub("", text)
    text = cloze.reveal(text)
    text = re.sub(r"<[^>]+>|!\[[^\]]*\]\([^)]*\)", " ", text)
    slug = slugify(text, "note")
    if len(slug) < 3:
        slug = f"note-{slug}" if slug != "note" else "note"
    assert NOTE_ID_RE.match(slug) or len(slug) < 3, slug
    return slug


def _deck_path(deck: str, top: str) -> str:
    return "" if deck == top else deck[len(top) + 2 :]


def _file_names(subdecks: Iterable[str]) -> dict[str, str]:
    """Subdeck path → note file stem: `notes` for the top deck, slugged folders below it, unique among siblings."""
    out: dict[str, str] = {}
    used: dict[str, set[str]] = defaultdict(set)
    parents: dict[str, str] = {"": ""}
    for sub in sorted(subdecks, key=lambda s: (s.count("::"), s)):
        if sub == "":
            out[sub] = "notes"
            used[""].add("notes")
            continue
        parent, _, last = sub.rpartition("::")
        folder = parents.get(parent)
        if folder is None:
            folder = _ensure_parent(parent, parents, used)
        base = slugify(last, "deck", 40)
        name = base
        n = 2
        while name in used[folder]:
            name = f"{base}-{n}"
            n += 1
        used[folder].add(name)
        path = f"{folder}/{name}" if folder else name
        parents[sub] = path
        out[sub] = path
    return out


def _ensure_parent(parent: str, parents: dict[str, str], used: dict[str, set[str]]) -> str:
    """The folder of a deck that holds no notes itself but has subdecks that do."""
    if parent in parents:
        return parents[parent]
    grand, _, last = parent.rpartition("::")
    folder = _ensure_parent(grand, parents, used)
    base = slugify(last, "deck", 40)
    name = base
    n = 2
    while name in used[folder]:
        name = f"{base}-{n}"
        n += 1
    used[folder].add(name)
    parents[parent] = f"{folder}/{name}" if folder else name
    return parents[parent]


def _note_text(note: _Note, file_notetype: str, file_tags: frozenset[str]) -> str:
    meta = [f"id: {note.slug}", f"guid: {yaml_string(note.package.guid, quote=True)}"]
    if note.key != file_notetype:
        meta.append(f"notetype: {note.key}")
    own = [t for t in note.tags if t not in file_tags]
    if own:
        meta.append(f"tags: {_yaml_list(own)}")
    parts = [f"## {note.heading}\n<!-- " + "\n".join(meta) + " -->\n"]
    if note.lead:
        parts.append(note.lead + "\n")
    for name, markdown in note.sections:
        parts.append(f"### {name}\n" + (f"\n{markdown}\n" if markdown else ""))
    return "\n".join(parts)


def _file_text(deck_path: str, notes: list[_Note], reports: list[tuple[_Note, int]]) -> str:
    keys = Counter(n.key for n in notes)
    file_notetype = sorted(keys.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    common = frozenset.intersection(*(frozenset(n.tags) for n in notes)) if len(notes) > 1 else frozenset()
    front = []
    if deck_path:
        front.append(f"deck: {yaml_string(deck_path)}")
    front.append(f"notetype: {file_notetype}")
    if common:
        front.append(f"tags: {_yaml_list(sorted(common))}")
    text = "---\n" + "\n".join(front) + "\n---\n"
    for note in notes:
        text += "\n"
        reports.append((note, text.count("\n") + 1))
        text += _note_text(note, file_notetype, common)
    return text


def _fields_ok(note: PackageNote, notetype: PackageNotetype | None) -> str | None:
    if notetype is None:
        return f"its notetype {note.notetype_id} is not in the package"
    if len(note.fields) != len(notetype.fields):
        return (
            f"it has {len(note.fields)} fields but its notetype `{notetype.name}` has {len(notetype.fields)}; "
            "the package is inconsistent (run Tools > Check Database in Anki, then export again)"
        )
    return None


def _guid_problem(note: PackageNote, seen: dict[str, int]) -> str | None:
    """A GUID the builder cannot keep; without its GUID the note would reach learners as a new note."""
    if not _GUID.fullmatch(note.guid):
        return (
            f"its GUID `{note.guid[:40]!r}` is empty, longer than 128 characters or holds spaces or control "
            "characters, which a note file cannot keep"
        )
    first = seen.setdefault(note.guid, note.id)
    if first != note.id:
        return f"its GUID is also the GUID of note {first}, which is imported; a deck cannot hold both"
    return None


def plan_notes(
    package: Package,
    folder: str,
    media: Mapping[str, str],
    notetype_keys: Mapping[int, str],
    exclude: Mapping[int, str] | None = None,
) -> Layout:
    """The deck's files; notes in `exclude` (note id → why) are skipped, as are notes that cannot convert."""
    top, decks = top_deck(package)
    layout = Layout(top.name, top.id)
    cards: dict[int, list[PackageCard]] = defaultdict(list)
    for card in package.cards:
        cards[card.note_id].append(card)
    notes: list[_Note] = []
    cache: dict[tuple[str, frozenset[str]], Converted] = {}
    guids: dict[str, int] = {}
    for note in package.notes:
        notetype = package.notetype(note.notetype_id)
        problem = _fields_ok(note, notetype) or _guid_problem(note, guids)
        own = sorted(cards.get(note.id, ()), key=lambda c: c.ord)
        if problem is None and not own:
            problem = "it has no cards"
        if problem is None and exclude and note.id in exclude:
            problem = exclude[note.id]
        if problem is not None or notetype is None:
            layout.skipped.append((note, problem or ""))
            continue
        deck = decks[own[0].deck_id].name
        try:
            converted = _convert_note(note, notetype, notetype_keys[notetype.id], deck, media, cache)
        except Unconvertible as exc:
            layout.skipped.append((note, str(exc)))
            continue
        if len({c.deck_id for c in own}) > 1:
            converted.dropped["cards in several decks (the note goes to its first card's deck)"] += 1
        converted.tags = _tags(note, converted.dropped)
        converted.slug = _note_slug(converted.heading)
        notes.append(converted)
    _assign_slugs(notes)
    by_deck: dict[str, list[_Note]] = defaultdict(list)
    for written in notes:
        by_deck[_deck_path(written.deck, top.name)].append(written)
    stems = _file_names(by_deck)
    cards_of = {nid: tuple(c.ord for c in sorted(cs, key=lambda c: c.ord)) for nid, cs in cards.items()}
    for deck_path in sorted(by_deck):
        group = sorted(by_deck[deck_path], key=lambda n: n.package.id)
        for part, start in enumerate(range(0, len(group), NOTES_PER_FILE), 1):
            chunk = group[start : start + NOTES_PER_FILE]
            name = f"{stems[deck_path]}.md" if part == 1 else f"{stems[deck_path]}.part{part:03d}.md"
            reports: list[tuple[_Note, int]] = []
            layout.files[name] = _file_text(deck_path, chunk, reports)
            for done, line in reports:
                p = done.package
                layout.notes.append(
                    NoteReport(
                        p.id, p.guid, name, line, done.slug, tuple(_describe(done.dropped)), cards_of[p.id],
                        p.mtime, p.notetype_id, p.fields,
                    )
                )  # fmt: skip
    used = {m for written in notes for m in _media_in(written)}
    entries = {e.name: e for e in package.media}
    layout.media = {path: entries[name] for name, path in media.items() if path in used}
    layout.unused_media = len(media) - len(layout.media)
    return layout


def _media_in(note: _Note) -> set[str]:
    from urllib.parse import unquote

    texts = [note.heading, note.lead, *(m for _, m in note.sections)]
    found: set[str] = set()
    for text in texts:
        found.update(unquote(m) for m in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text))
        found.update(re.findall(r"\[sound:([^\]\n]+)\]", text))
    return found


def _describe(dropped: Counter[str]) -> list[str]:
    return [f"{what} ({count} times)" if count > 1 else what for what, count in sorted(dropped.items())]


def original_visible(html_text: str) -> str:
    """What a learner reads in an original field, for comparing with the rebuilt one."""
    html_text = html_text[: unclosed_tag(html_text)]
    text = re.sub(r"\[sound:[^\]]*\]", " ", html_text)
    text = re.sub(r"\\\(\s*(.*?)\s*\\\)", r"\\(\1\\)", text, flags=re.DOTALL)
    text = re.sub(r"\\\[\s*(.*?)\s*\\\]", r"\\[\1\\]", text, flags=re.DOTALL)
    return visible_text(text)
