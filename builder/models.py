"""Typed models handed between stages: deck configuration, validated notes, rendered notes, media."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator

from builder.diagnostics import Location
from builder.kinds import NoteKind as NoteKind
from builder.notetypes.deckdefined import DeckNotetype

NOTE_ID_PATTERN = r"^[a-z0-9-]{3,64}$"
NOTE_ID_RE = re.compile(NOTE_ID_PATTERN)
#: Semantic versions whose numbers fit in 9 digits (a manifest compares them as integers), ASCII digits only.
SEMVER_PATTERN = (
    r"^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?$"
)
#: A pre-release label longer than this does not fit a manifest (builder.manifest) or a readable file name.
MAX_PRERELEASE = 100
#: Anki tags cannot contain whitespace (nor, in a package Anki imports, control characters); `::` builds a hierarchy.
#: Nor may ours hold `<`, `>` or quotes: a template's {{Tags}} is not escaped (see deck_path_problem).
TAG_PATTERN = r"^[^\s\"'<>\x00-\x1f\x7f-\x9f]+$"
#: Characters a name must not hold because Anki puts it into the card's HTML as it is.
_MARKUP = re.compile(r"[<>\"']")

Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]
#: A page a card was checked against: https only, no spaces or characters that would need escaping in HTML.
SourceUrl = Annotated[str, StringConstraints(pattern=r"^https://[A-Za-z0-9.-]+(?:/[^\s<>\"'`]*)?$", max_length=500)]
#: A GitHub repository's home page, https://github.com/OWNER/REPO: where a card's edit link points.
REPOSITORY_PATTERN = r"^https://github\.com/[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$"
#: A release tag template: letters, digits, `._/-` and the placeholders {version} (required) and {slug}.
TAG_TEMPLATE_PATTERN = r"^(?:[A-Za-z0-9._/-]|\{slug\})*\{version\}(?:[A-Za-z0-9._/-]|\{slug\}|\{version\})*$"

#: Anki's own "Default" deck has id 1; cards given that id land in the learner's Default deck.
DEFAULT_DECK_ID = 1
#: Largest id Anki's screens show exactly: its web views read ids as JavaScript numbers (53-bit mantissa).
MAX_DECK_ID = 2**53 - 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def deck_path_problem(path: str, *, top_level: bool) -> str | None:
    """Why Anki would store a deck path (`A::B::C`) under another name than `path`, or None if it would not.

    On import Anki splits a name at `::`, trims each part, drops control characters and renames empty parts,
    and it matches decks by name ignoring case: a top-level `Default` is the learner's own Default deck.
    """
    control = _CONTROL.search(path)
    if control is not None:
        return f"a control character (U+{ord(control.group()):04X}), which Anki deletes"
    parts = path.split("::")
    if any(not part.strip() for part in parts):
        return "an empty part between `::` separators, which Anki renames to `blank`"
    if any(part != part.strip() for part in parts):
        return "spaces around a `::` separator or at an end, which Anki trims"
    if any(part.startswith(":") or part.endswith(":") for part in parts):
        return "a `:` next to a `::` separator, which Anki reads as another separator"
    markup = _MARKUP.search(path)
    if markup is not None:
        # A template's {{Deck}} and {{Subdeck}} are not escaped: `<img onerror=...>` in a name would run there.
        return f"`{markup.group()}` (a card template showing the deck's name would read it as HTML)"
    if top_level and parts[0].casefold() == "default":
        return "the name of Anki's own Default deck, so the cards would land in every learner's Default deck"
    return None


def _deck_name(value: str) -> str:
    problem = deck_path_problem(value, top_level=True)
    if problem is not None:
        raise ValueError(f"found {problem}")
    return value


def _subdeck_path(value: str) -> str:
    problem = deck_path_problem(value, top_level=False)
    if problem is not None:
        raise ValueError(f"found {problem}")
    return value


def _deck_id(value: int) -> int:
    if value == DEFAULT_DECK_ID:
        raise ValueError("found id 1, which is Anki's own Default deck, so the cards would land there")
    return value


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_M = TypeVar("_M", bound=Frozen)


def construct(model: type[_M], **values: Any) -> _M:
    """`model.model_construct(**values)` for values that are already valid, and the same instance, in a fifth of
    the time: model_construct looks up aliases and defaults field by field, which costs more than rendering a
    short note. For models like ours only: no aliases, private attributes or default factories."""
    instance = object.__new__(model)
    fields = model.__pydantic_fields__
    # Filled in field order, as model_construct fills it: the same set then pickles to the same bytes.
    fields_set = {name for name in fields if name in values}
    if len(values) < len(fields):
        values = {name: values.get(name, field.default) for name, field in fields.items()}
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", fields_set)
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


class DeckConfig(Frozen):
    """`deck.toml`: the deck's identity. The id and name must never change once a deck is published."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_deck_name)]
    # Strict: TOML `true`, `"5"` and `5.0` are not ids (pydantic's lax mode would read them as 1, 5 and 5).
    id: Annotated[StrictInt, Field(gt=0, le=MAX_DECK_ID), AfterValidator(_deck_id)]
    #: Bounded: it names the package file, and its numbers are compared as integers.
    version: Annotated[str, StringConstraints(pattern=SEMVER_PATTERN, max_length=128)]
    description: str = ""
    #: Note ids removed on purpose since the last release; see docs/releasing.md.
    removed: tuple[Annotated[str, StringConstraints(pattern=NOTE_ID_PATTERN)], ...] = ()
    #: The deck's GitHub repository; when set, every card links to its source line (builder/editlink.py).
    repository: Annotated[str, StringConstraints(pattern=REPOSITORY_PATTERN, max_length=150)] | None = None
    #: The git tag a release is published under; {slug} and {version} are filled in.
    tag: Annotated[str, StringConstraints(pattern=TAG_TEMPLATE_PATTERN, max_length=100)] = "v{version}"

    @field_validator("version")
    @classmethod
    def _short_prerelease(cls, value: str) -> str:
        if len(value.partition("-")[2]) > MAX_PRERELEASE:
            raise ValueError(f"a pre-release label of more than {MAX_PRERELEASE} characters")
        return value

    @field_validator("repository")
    @classmethod
    def _not_a_clone_url(cls, value: str | None) -> str | None:
        # The pattern allows `.` in names; a clone URL or a `.`/`..` name would build links that 404.
        if value is not None and (value.endswith(".git") or value.rsplit("/", 1)[1] in (".", "..")):
            raise ValueError("not a repository home page")
        return value

    def release_tag(self, slug: str) -> str:
        return self.tag.replace("{slug}", slug).replace("{version}", self.version)

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])


#: The folder name of a deck-defined notetype under `source/<deck>/notetypes/`.
NotetypeKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
#: An explicit Anki GUID (an imported note keeps its own): printable, no spaces, as Anki's are.
Guid = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s\x00-\x1f\x7f]+$")]


class FileSettings(Frozen):
    """YAML front matter of a note file."""

    deck: Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_subdeck_path)] | None = None
    tags: tuple[Tag, ...] = ()
    #: The deck-defined notetype of every note in the file that names none itself.
    notetype: NotetypeKey | None = None


class NoteMeta(Frozen):
    """The YAML in the comment under a note heading."""

    id: Annotated[str, StringConstraints(pattern=NOTE_ID_PATTERN)]
    # Cloze is not a choice: a note is a cloze note exactly when it has deletions.
    type: Literal[NoteKind.BASIC, NoteKind.REVERSE, NoteKind.TYPEIN] | None = None
    tags: tuple[Tag, ...] = ()
    #: Linter rules (code or name) silenced for this note, e.g. [long-answer].
    ignore: tuple[Annotated[str, StringConstraints(pattern=r"^(L\d{3}|[a-z-]+)$")], ...] = ()
    #: The pages (e.g. AWS documentation) the card was checked against, shown small on its back.
    source: SourceUrl | tuple[SourceUrl, ...] = ()
    #: A deck-defined notetype (its folder under notetypes/); the built-in ones are the default.
    notetype: NotetypeKey | None = None
    #: The note's Anki GUID, used instead of the one derived from the deck id and note id.
    guid: Guid | None = None

    @property
    def sources(self) -> tuple[str, ...]:
        return (self.source,) if isinstance(self.source, str) else self.source


class NoteSpec(Frozen):
    """A note that passed validation: everything needed to render it, nothing rendered yet."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    note_id: str
    kind: NoteKind
    #: The file's `deck:` (appended to the deck name with `::`), or None for the deck itself.
    subdeck: str | None
    tags: tuple[str, ...]
    location: Location
    #: Cloze numbers used (each makes one card), sorted; empty unless the note is a cloze note.
    cloze_numbers: tuple[int, ...]
    lint_ignore: tuple[str, ...]
    #: Pages the card cites, in the order written.
    sources: tuple[str, ...] = ()
    #: Index of the raw note in its parsed file, to reach its tokens without re-parsing.
    note_index: int
    #: The deck-defined notetype's key (kind CUSTOM), else None.
    notetype: str | None = None
    #: An explicit GUID from the metadata, else None (derived from the deck id and note id).
    guid: str | None = None

    def deck_name(self, deck: str) -> str:
        return deck if self.subdeck is None else f"{deck}::{self.subdeck}"


class MediaFile(Frozen):
    """A file shipped in the package under a content-hash name, so a changed image never overwrites an old one."""

    name: str
    data: bytes


class RenderedNote(Frozen):
    """A note as Anki will store it: notetype, field HTML, tags, deck and identity."""

    note_id: str
    guid: str
    kind: NoteKind
    deck_name: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    location: Location
    cloze_numbers: tuple[int, ...]
    #: Names of the media files the fields reference, sorted.
    media: tuple[str, ...]
    #: The visible text of what the card asks: for manifests, release notes and the duplicate-front check.
    front: str
    #: sha256 over notetype, fields, tags and deck: what "this note changed" means.
    content_hash: str
    #: The deck-defined notetype's key (kind CUSTOM), else None.
    notetype: str | None = None
    #: Template ordinals of its cards, for a deck-defined notetype (Anki's rules; see notetypes.deckdefined).
    cards: tuple[int, ...] = ()


class Deck(Frozen):
    """A deck ready to package."""

    slug: str
    config: DeckConfig
    notes: tuple[RenderedNote, ...]
    media: tuple[MediaFile, ...]
    #: The notetypes the deck defines itself (source/<deck>/notetypes/), sorted by key.
    notetypes: tuple[DeckNotetype, ...] = ()

    def notetype(self, key: str) -> DeckNotetype:
        return next(nt for nt in self.notetypes if nt.key == key)
