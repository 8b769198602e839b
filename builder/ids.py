"""Identity: stable Anki GUIDs and hashes derived from the deck id and note id, never from content."""

from __future__ import annotations

import hashlib

# Anki's own GUID alphabet (base91 without characters that break its text export).
_BASE91 = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"


def note_guid(deck_id: int, note_id: str) -> str:
    """The GUID Anki matches notes by on import: it must survive every edit of the note's text."""
    number = int.from_bytes(hashlib.sha256(f"{deck_id}:{note_id}".encode()).digest()[:8], "big")
    digits = []
    while number:
        number, rest = divmod(number, len(_BASE91))
        digits.append(_BASE91[rest])
    return "".join(reversed(digits)) or _BASE91[0]


def stable_int(*parts: object, bits: int = 52) -> int:
    """A positive integer id from its parts; 52 bits stays exact in JavaScript, which Anki's UI uses."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    value = int.from_bytes(digest[:8], "big") >> (64 - bits)
    # 0 is no id and 1 is Anki's Default deck: both move up (a one in 2^51 chance, but never a Default deck).
    return value if value > 1 else value + 2


def content_hash(*parts: str) -> str:
    """sha256 over the parts, each followed by a NUL."""
    return hashlib.sha256("".join(f"{part}\x00" for part in parts).encode()).hexdigest()
