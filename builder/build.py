"""The pipeline: source folders → validated, rendered decks → .apkg files in the output folder."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from builder.config import load_deck_config
from builder.diagnostics import BuildFailed, Diagnostics, Location
from builder.epoch import EpochError, source_date_epoch
from builder.media import MediaLibrary
from builder.models import Deck
from builder.package import card_ordinals, write_apkg
from builder.parse import parse_file
from builder.render import render_deck
from builder.source import display_path, find_decks
from builder.validate import ValidatedDeck, validate_deck

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Options:
    source: Path = Path("source")
    media: Path = Path("media")
    out: Path = Path("dist")


@dataclass(frozen=True)
class Output:
    deck: Deck
    path: Path
    cards: int


def _check_decks_distinct(decks: Sequence[ValidatedDeck], folders: Sequence[Path], diagnostics: Diagnostics) -> None:
    """Anki matches decks by name and we derive ids from the deck id: both must differ between decks."""
    for key in ("id", "name"):
        seen: dict[object, Path] = {}
        for deck, folder in zip(decks, folders, strict=True):
            value = getattr(deck.config, key)
            first = seen.setdefault(value, folder)
            if first != folder:
                diagnostics.error(
                    Location(display_path(folder / "deck.toml")),
                    "E013",
                    f"deck {key} {value!r} is also used by {display_path(first / 'deck.toml')}; expected every "
                    f"deck to have its own {key}. Change one of them",
                )


def compile_decks(options: Options, diagnostics: Diagnostics) -> list[Deck]:
    """Read, parse, validate and render every deck; raise BuildFailed with all problems if any."""
    sources = find_decks(options.source, diagnostics)
    library = MediaLibrary(options.media)
    validated: list[ValidatedDeck] = []
    folders: list[Path] = []
    for source in sources:
        config = load_deck_config(source.config, diagnostics)
        slug = source.folder.name
        if not _SLUG.match(slug):
            diagnostics.error(
                Location(display_path(source.folder)),
                "E014",
                f"deck folder `{slug}` is not a slug; expected lowercase letters, digits and `-`, because it "
                "names the .apkg file. Rename the folder",
            )
        parsed = [parse_file(file) for file in source.notes]
        if config is not None:
            validated.append(validate_deck(slug, config, parsed, library, diagnostics))
            folders.append(source.folder)
    _check_decks_distinct(validated, folders, diagnostics)
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    return [render_deck(deck, library) for deck in validated]


def build(options: Options, diagnostics: Diagnostics) -> list[Output]:
    """Compile every deck, then write each package; nothing is written unless every deck compiled."""
    decks = compile_decks(options, diagnostics)
    epochs = []
    for deck in decks:
        folder = options.source / deck.slug
        try:
            epochs.append(source_date_epoch(folder))
        except EpochError as exc:
            diagnostics.error(Location(display_path(folder)), "E090", str(exc))
    if diagnostics.errors:
        raise BuildFailed(diagnostics.sorted())
    outputs = []
    for deck, epoch in zip(decks, epochs, strict=True):
        target = options.out / f"{deck.slug}-{deck.config.version}.apkg"
        write_apkg(deck, target, epoch.value, {})
        outputs.append(Output(deck, target, sum(len(card_ordinals(n)) for n in deck.notes)))
    return outputs
