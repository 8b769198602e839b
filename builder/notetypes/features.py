"""Stylesheet parts for Markdown a deck may never use (callouts, highlights): included only when a field does.

Every notetype carries the whole stylesheet to every card, and a changed stylesheet makes Anki update every
notetype on import. A deck that uses neither keeps exactly the stylesheet it had.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Feature:
    #: The stylesheet part in this package.
    css_file: str
    #: Text only a field that uses the feature contains (what builder.mdrules renders).
    marker: str


FEATURES: tuple[Feature, ...] = (
    Feature("callout.css", 'class="df-callout"'),
    Feature("highlight.css", "<mark>"),
)


def features_used(fields: Iterable[str]) -> frozenset[str]:
    """The stylesheet parts the fields need, by file name."""
    used: set[str] = set()
    for html in fields:
        used.update(f.css_file for f in FEATURES if f.marker in html)
    return frozenset(used)


@cache
def feature_css(files: frozenset[str]) -> str:
    """The parts for `files`, in the order of FEATURES (so the same deck gives the same bytes)."""
    parts = [
        resources.files("builder.notetypes").joinpath(f.css_file).read_text(encoding="utf-8")
        for f in FEATURES
        if f.css_file in files
    ]
    return "".join(f"\n{part}" for part in parts)
