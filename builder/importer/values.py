"""Typed values out of a package's JSON and SQL rows: each one checked against what Anki itself would accept.

A package is foreign input: a JSON list where Anki writes an object, `1e999` where it writes a font size, a BLOB
where it keeps a GUID. Each accessor returns the type the rest of the importer works with, or raises `Malformed`
saying what was found and what Anki writes there, so no later stage sees an unchecked value. The rules follow
Anki's own readers (rslib's schema-11 serde structs and its SQL row readers): a value Anki refuses is refused, and
one Anki replaces by a default (its `default_on_invalid` fields) gets that default.
"""

from __future__ import annotations

import json

from builder.importer.model import Malformed

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT16_MAX, UINT32_MAX = 2**16 - 1, 2**32 - 1


def shown(value: object) -> str:
    """A value as a message shows it: SQL types named the way SQLite names them, long values cut."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"a BLOB ({value[:24].hex(' ')}{' ...' if len(value) > 24 else ''})"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError):
        text = repr(value)
    return f"`{text[:60]}{'...' if len(text) > 60 else ''}`"


def document(data: str | bytes, what: str) -> object:
    """Parsed JSON; nesting too deep for Python's parser is refused like any other broken JSON."""
    try:
        return json.loads(data)
    except RecursionError:
        raise Malformed(f"{what} nests too deeply to be read; expected the JSON Anki writes") from None
    except ValueError as exc:  # also UnicodeDecodeError, and numbers past Python's digit limit
        raise Malformed(f"{what} is not JSON ({exc})") from None


def mapping(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise Malformed(f"{what} is {shown(value)[:40]}; expected a JSON object")
    return value


def sequence(value: object, what: str) -> list[object]:
    if not isinstance(value, list):
        raise Malformed(f"{what} is {shown(value)[:40]}; expected a JSON array")
    return value


def whole(value: object, what: str, low: int = INT64_MIN, high: int = INT64_MAX, *, numeric_text: bool = False) -> int:
    """An integer in [low, high]; `numeric_text` also takes `"123"`, as Anki does for notetype and deck ids."""
    if numeric_text and isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 30:
        value = int(value)
    # JSON numbers Anki reads as integers may be written as 20.0; bools are numbers to Python, not to Anki.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Malformed(f"{what} is {shown(value)}; expected a whole number from {low:,} to {high:,}")
    return value


def lenient(value: object, low: int, high: int) -> int | None:
    """An optional integer Anki drops (reads as unset) when it is invalid: `default_on_invalid` in rslib."""
    try:
        return whole(value, "", low, high)
    except Malformed:
        return None


def text(value: object, what: str) -> str:
    """A string: Anki's readers refuse NULL, numbers and BLOBs where they expect text (`InvalidColumnType`)."""
    if not isinstance(value, str):
        raise Malformed(f"{what} is {shown(value)}; expected text, as Anki stores it (Anki itself cannot read this)")
    return value


def flag(value: object) -> bool:
    """A boolean written as true/false, 0/1 or "true"/"1": Anki's `deserialize_bool_from_anything`."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    if isinstance(value, bool | int | float):
        return bool(value)
    return False
