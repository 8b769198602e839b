"""Deck names as Anki tells them apart: two decks of the build must not be one deck to Anki.

Anki keeps one deck per name, comparing names without case after Unicode NFC normalisation (`Sub` is `SUB`,
a precomposed `é` is `e` with a combining accent). Within one package it renames one spelling (`Sub_`) or
puts both into one deck; across packages it merges them into the deck imported first, so a learner who deletes
one deck deletes the other's cards too. So every deck a package fills, its own (deck.toml `name`) and its subdecks
(a file's `deck:`, and the levels above it), must differ after folding from any other package's, and within
a package be spelled one way. The levels above a package's own deck (`Languages` of `Languages::Spanish`) are
meant to be shared, and are not compared.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from builder.config import Embedded
from builder.diagnostics import Diagnostics, Location
from builder.parse import parse_file
from builder.source import SourceFile


def deck_key(name: str) -> str:
    """The name as Anki compares it: each `::` part NFC-normalised and case-folded."""
    return "::".join(unicodedata.normalize("NFC", part).casefold() for part in name.split("::"))


@dataclass(frozen=True)
class DeckNames:
    """One package's names: its deck.toml `name` and the `deck:` of each note file that puts notes in a subdeck."""

    config: SourceFile
    name: str
    subdecks: tuple[tuple[SourceFile, str], ...]


@dataclass(frozen=True)
class _Claim:
    """A deck a package fills, and who names it: a note file's `deck:`, or deck.toml when `file` is None."""

    package: int
    name: str
    file: SourceFile | None
    subdeck: str = ""

    def location(self, config: SourceFile) -> tuple[Location, int]:
        """Where the name is written: the `deck:` value in the file's front matter, or deck.toml's `name`."""
        if self.file is None:
            return Embedded(config, config.text, 1, 1).key_location("name", "=", value=True)
        front = parse_file(self.file).front_matter
        if front is None:
            return Location(self.file.path), 1
        return Embedded(self.file, front.text, front.first_line, 1).key_location("deck", ":", value=True)


def _claims(index: int, deck: DeckNames) -> list[_Claim]:
    claims = [_Claim(index, deck.name, None)]
    for file, subdeck in deck.subdecks:
        parts = subdeck.split("::")
        # Shortest first: a clash is reported once per file, at the highest level where it starts.
        for depth in range(1, len(parts) + 1):
            claims.append(_Claim(index, "::".join([deck.name, *parts[:depth]]), file, subdeck))
    return claims


def check_deck_names(decks: Sequence[DeckNames], diagnostics: Diagnostics) -> None:
    """Report every deck name that Anki would take for another's (E013 in deck.toml, E022 at a file's `deck:`)."""
    first: dict[str, _Claim] = {}
    reported: set[tuple[int, str]] = set()
    for index, deck in enumerate(decks):
        for claim in _claims(index, deck):
            seen = first.setdefault(deck_key(claim.name), claim)
            if seen is claim or (seen.package == claim.package and seen.name == claim.name):
                continue
            who = (index, claim.file.path if claim.file is not None else deck.config.path)
            if who not in reported:
                reported.add(who)
                _report(claim, seen, decks, diagnostics)


def _difference(name: str, other: str) -> str:
    if name == other:
        return ""
    if unicodedata.normalize("NFC", name) == unicodedata.normalize("NFC", other):
        kind = "only in how an accented letter is encoded (one character, or a letter and a combining accent)"
    elif name.casefold() == other.casefold():
        kind = "only in case"
    else:
        kind = "only in case and in how accented letters are encoded"
    return f": the names differ {kind}, which Anki ignores"


def _retype(name: str, other: str) -> str:
    # Two encodings of one letter look the same in an editor: only typing it again makes them one.
    return "" if name.casefold() == other.casefold() else " (type its accented letters again)"


def _report(claim: _Claim, seen: _Claim, decks: Sequence[DeckNames], diagnostics: Diagnostics) -> None:
    location, length = claim.location(decks[claim.package].config)
    there, _ = seen.location(decks[seen.package].config)
    where = f"made by `deck: {seen.subdeck}` in {there}" if seen.file is not None else f"named in {there}"
    verb = "is also" if seen.name == claim.name else "Anki takes for"
    found = f"deck `{claim.name}`, which {verb} the deck `{seen.name}` {where}{_difference(claim.name, seen.name)}"
    if seen.package == claim.package:
        # Only subdecks of one package can clash: deck.toml's name is the shortest of them.
        diagnostics.error(
            location,
            "E022",
            f"`deck: {claim.subdeck}` makes {found}. Anki keeps one spelling per deck: on import it would rename "
            "one of them (adding `_`) or put both into one; "
            f"expected one spelling per subdeck. Write it exactly as in that file{_retype(claim.name, seen.name)}",
            length,
        )
        return
    merged = (
        "On import Anki would put the cards of both packages into one deck; expected every deck of the build "
        "to be a deck of its own"
    )
    if claim.file is None:
        diagnostics.error(location, "E013", f"the name makes {found}. {merged}. Rename one of the two decks", length)
        return
    diagnostics.error(
        location,
        "E022",
        f"`deck: {claim.subdeck}` makes {found}. {merged}. Name another subdeck, or rename one of the two decks",
        length,
    )
