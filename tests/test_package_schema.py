"""The package keeps genanki's schema without importing genanki (builder/ankischema.py): the copies must be
genanki's own, or every package would be written on a schema no Anki client was tested with."""

from __future__ import annotations

import subprocess
import sys

import genanki
from genanki.apkg_col import APKG_COL
from genanki.apkg_schema import APKG_SCHEMA

from builder.ankischema import apkg_col, apkg_schema, deck_entry


def test_schema_and_col_row_are_genankis() -> None:
    assert apkg_schema() == APKG_SCHEMA
    assert apkg_col() == APKG_COL


def test_deck_entry_is_genankis() -> None:
    for deck_id, name, description in ((2059400110, "AWS", "Version 1.0.0"), (7, "A::B", "")):
        assert deck_entry(deck_id, name, description) == genanki.Deck(deck_id, name, description).to_json()


def test_a_build_does_not_import_genanki() -> None:
    """The point of the copies: packaging runs without genanki's start-up cost (PyYAML, asyncio, ssl)."""
    code = (
        "import sys, builder.build, builder.package as p; p._split_schema(); "
        "print('genanki' in sys.modules, 'yaml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
