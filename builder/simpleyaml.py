"""Plain metadata without a YAML parser: `key: value` and `key: [a, b]` lines → the dict YAML would give, or None.

Almost every note's metadata is one of `id: some-id`, `type: reverse` or `tags: [topic::x]` (and a file's
front matter `deck: Some Name`), and a YAML parser
per note costs more than parsing the note's Markdown. This recognises only the plainest form of those lines
and answers None for anything else (quotes, comments, indentation, numbers, dates, YAML's yes/no/on/off/null,
duplicate keys), which then goes through the YAML loader as before. Where it answers, the answer equals
`yaml.safe_load` (tests/test_simpleyaml.py checks that on a grid of tricky inputs).
"""

from __future__ import annotations

import re

_LINE = re.compile(r"([a-z][a-z_]*): (.*)")
#: A plain one-line scalar: words of letters, digits and `_./-`, one space or `:`/`::` between them (a deck
#: name in front matter: `deck: Storage`, `deck: Domain 1 Fundamentals`, `deck: AWS::Bedrock`).
_SCALAR = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*(?:(?: |::?)[A-Za-z0-9_./-]+)*")
_ITEM = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*(?:::?[A-Za-z0-9_./-]+)*")
#: Plain words YAML 1.1 reads as booleans or null rather than strings.
_SPECIAL = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _plain(text: str, pattern: re.Pattern[str]) -> bool:
    return pattern.fullmatch(text) is not None and text.lower() not in _SPECIAL


def load_plain(text: str) -> dict[str, str | list[str]] | None:
    data: dict[str, str | list[str]] = {}
    for raw in text.split("\n"):
        line = raw.rstrip(" ")
        if not line:
            continue
        match = _LINE.fullmatch(line)
        if match is None or match.group(1) in data:
            return None
        key, value = match.groups()
        if value.startswith("[") and value.endswith("]"):
            inner = value[1:-1].strip()
            items = [item.strip() for item in inner.split(",")] if inner else []
            if not all(_plain(item, _ITEM) for item in items):
                return None
            data[key] = items
        elif _plain(value, _SCALAR):
            data[key] = value
        else:
            return None
    return data or None
