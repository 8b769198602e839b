"""Which characters a markdown-it rule can start at, as declared by the block and inline tables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Rule = Callable[..., Any]


def declared(
    rule: Rule, by_function: Mapping[Any, frozenset[str]], by_name: Mapping[tuple[str, str], frozenset[str]]
) -> frozenset[str] | None:
    """The rule's trigger characters: by the function itself, or by module and name for a rule a plugin makes
    inside a function (a new object every time); None for a rule nobody declared, which is asked everywhere."""
    found = by_function.get(rule)
    if found is not None:
        return found
    return by_name.get((getattr(rule, "__module__", ""), getattr(rule, "__name__", "")))
