"""genanki's collection schema, its `col` row and its deck entry, without importing genanki.

The package keeps genanki's schema (the one every Anki client imports), but `import genanki` runs its
`__init__`, which loads PyYAML, chevron, asyncio and ssl: a tenth of a build's start-up, for two SQL
strings. Its two schema modules are plain constants, so they are executed on their own from genanki's
installed files; tests/test_package_schema.py checks all three against genanki itself.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any


@cache
def _constant(module: str, name: str) -> str:
    spec = importlib.util.find_spec("genanki")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("genanki is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / f"{module}.py"
    loaded = importlib.util.spec_from_file_location(f"builder._genanki_{module}", path)
    if loaded is None or loaded.loader is None:
        raise ModuleNotFoundError(f"cannot load {path}")
    namespace = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(namespace)
    value = getattr(namespace, name)
    assert isinstance(value, str)
    return value


def apkg_schema() -> str:
    """genanki.apkg_schema.APKG_SCHEMA: the tables and indexes of a schema-11 collection."""
    return _constant("apkg_schema", "APKG_SCHEMA")


def apkg_col() -> str:
    """genanki.apkg_col.APKG_COL: the INSERT of the collection's one `col` row."""
    return _constant("apkg_col", "APKG_COL")


def deck_entry(deck_id: int, name: str, description: str) -> dict[str, Any]:
    """What genanki.Deck(deck_id, name, description).to_json() returns."""
    return {
        "collapsed": False,
        "conf": 1,
        "desc": description,
        "dyn": 0,
        "extendNew": 0,
        "extendRev": 50,
        "id": deck_id,
        "lrnToday": [163, 2],
        "mod": 1425278051,
        "name": name,
        "newToday": [163, 2],
        "revToday": [163, 0],
        "timeToday": [163, 23598],
        "usn": -1,
    }
