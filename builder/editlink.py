"""Edit links: a note's source line at the release it last changed in → a small "report or fix" link on its back.

A link must never make an unchanged note look changed: a new `mod` on every note of every release would
overwrite every learner's own edits. So a link names the tag of the release in which its note last changed,
with the line the note had there (correct at that tag for good), and history.py keeps it from the previous
manifest while the note's content (hashed without the link) stays the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import quote

from builder.diagnostics import Diagnostics, Location
from builder.models import Deck, DeckConfig, RenderedNote
from builder.notetypes import LAYOUTS, SOURCE_FIELD
from builder.source import display_path

#: What the learner sees: short, says what it does and where it leads; the pencil is decoration.
LINK_TEXT = '<span aria-hidden="true">✎</span> Report or fix on GitHub'


def repository_root(folder: Path) -> Path:
    """The git work tree holding `folder`; outside git, the folder above the source directory.

    Found by looking for `.git` (a folder, or a file in a worktree), not by running git: the answer must be the
    same for a checkout, a worktree and an unpacked source archive of the same commit.
    """
    start = folder.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start.parent.parent


@dataclass(frozen=True)
class EditLinks:
    """Where this release's links point: the repository, this version's tag and the root paths start from."""

    repository: str
    tag: str
    root: Path

    @classmethod
    def for_deck(cls, config: DeckConfig, slug: str, folder: Path) -> EditLinks | None:
        """None when deck.toml names no repository: then no card shows a link."""
        if config.repository is None:
            return None
        return cls(config.repository, config.release_tag(slug), repository_root(folder))

    def path_in_repository(self, location: Location) -> str:
        file = Path(location.path).resolve()
        try:
            return file.relative_to(self.root).as_posix()
        except ValueError:  # a file outside the work tree (reached through a symlink): the path as shown
            return Path(location.path).as_posix()

    def url(self, location: Location) -> str:
        """The note's heading line in its file at this release's tag.

        `?plain=1` shows the Markdown as text with line numbers: GitHub's rendered view has no line anchors.
        """
        path = quote(self.path_in_repository(location), safe="/")
        return f"{self.repository}/blob/{quote(self.tag, safe='/')}/{path}?plain=1#L{location.line}"


def with_link(note: RenderedNote, url: str) -> RenderedNote:
    """The note with the link at the end of its Source field, after any cited pages."""
    index = LAYOUTS[note.kind].fields.index(SOURCE_FIELD)
    cited = note.fields[index]
    link = f'<a class="df-edit" href="{escape(url)}">{LINK_TEXT}</a>'
    source = f'{cited}<span class="df-sep"> · </span>{link}' if cited else link
    fields = (*note.fields[:index], source, *note.fields[index + 1 :])
    return note.model_copy(update={"fields": fields})


def check_release_tag(tag: str, decks: list[tuple[Deck, Path]], diagnostics: Diagnostics) -> None:
    """The tag being released must be one a deck's edit links point at, or those links would lead nowhere.

    Several decks may share a repository, each with its own tag (`{slug}-v{version}`): one of them matching is
    enough. Decks without a `repository` have no links and accept any tag.
    """
    linked = [(deck, folder) for deck, folder in decks if deck.config.repository is not None]
    if not linked or any(deck.config.release_tag(deck.slug) == tag for deck, _ in linked):
        return
    for deck, folder in linked:
        expected = deck.config.release_tag(deck.slug)
        diagnostics.error(
            Location(display_path(folder / "deck.toml")),
            "E196",
            f"the release is tagged `{tag}`, but the edit links of {deck.slug} {deck.config.version} point at tag "
            f"`{expected}`; expected the two to agree. Tag the release `{expected}`, or set `tag` in deck.toml "
            f'to match how you tag (e.g. tag = "{{slug}}-v{{version}}")',
        )
