"""How deep `[`/`{` nest in a TOML (or flow-style YAML) text, found before a recursive parser can overflow."""

from __future__ import annotations

import re

_FLOW = re.compile(r"\\.|[\"'\n#\[\]{}]")


def nesting_point(text: str, limit: int) -> int | None:
    """The offset of the first `[` or `{` nested more than `limit` deep outside quotes and comments, or None.

    A linear pre-check for TOML, whose standard parser recurses once per level and would raise
    RecursionError; strings and comments are skipped line by line, which is how both formats write them.
    """
    depth = 0
    quote: str | None = None
    comment = False
    for match in _FLOW.finditer(text):
        token = match.group()
        if token == "\n":
            quote, comment = None, False
        elif comment:
            continue
        elif quote is not None:
            if token == quote:
                quote = None
        elif token in "\"'":
            quote = token
        elif token == "#":
            comment = True
        elif token in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif token in "]}":
            depth = max(0, depth - 1)
    return None
