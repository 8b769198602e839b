"""Bounded YAML: metadata text → the value PyYAML's safe loader gives, in time and memory bounded by the text.

Metadata is a flat mapping of strings and lists, so the loader refuses what only an attack needs, each with
the character index where it starts:

- aliases (`*name`): ten lines of nested aliases stand for 10^9 strings, which any later walk over the value
  (a message quoting it, a validator) expands;
- nesting deeper than MAX_DEPTH: PyYAML composes recursively, and libyaml's composer crashes the interpreter
  (a segmentation fault) at about 100,000 levels;
- integers longer than MAX_INT_DIGITS (Python's int() refuses 4,300 digits with a ValueError) and dates that
  do not exist (`2024-02-30`), which PyYAML's constructors raise as ValueError instead of a YAML error.

libyaml's parser (ten times faster) reads short texts without aliases; everything else, and every text that
fails, goes through the pure-Python parser, whose composer counts its depth.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import Node, ScalarNode

MAX_DEPTH = 16
MAX_INT_DIGITS = 40
#: Metadata longer than this is not metadata (a pasted file, a generated blob): refused before parsing.
MAX_TEXT = 64 * 1024
#: libyaml nests at most this many levels in a text this short (well below where its recursion crashes).
_FAST_LIMIT = 4096


class YamlRefused(Exception):
    """Valid YAML that metadata does not accept; `index` is the offset of the offending character."""

    def __init__(self, index: int, problem: str, advice: str) -> None:
        super().__init__(problem)
        self.index = index
        self.problem = problem
        self.advice = advice


def _int(constructor: yaml.SafeLoader, node: Node) -> Any:
    assert isinstance(node, ScalarNode)
    digits = sum(ch.isdigit() for ch in node.value)
    if digits > MAX_INT_DIGITS:
        raise YamlRefused(
            node.start_mark.index,
            f"found an integer of {digits:,} digits",
            "expected a short value. Quote it if it is text, or shorten it",
        )
    return SafeConstructor.construct_yaml_int(constructor, node)


def _timestamp(constructor: yaml.SafeLoader, node: Node) -> Any:
    assert isinstance(node, ScalarNode)
    try:
        return SafeConstructor.construct_yaml_timestamp(constructor, node)
    except ValueError as exc:
        raise YamlRefused(
            node.start_mark.index,
            f"found the date `{node.value[:40]}`, which does not exist ({exc})",
            "expected a real date. Quote it if it is text",
        ) from None


class _Bounded(yaml.SafeLoader):
    """The pure-Python safe loader with a depth count and without aliases."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise YamlRefused(
                event.start_mark.index,
                "found a YAML alias (`*name`)",
                "expected plain values: aliases are not supported in metadata. Write the value out",
            )
        if self._depth >= MAX_DEPTH:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise YamlRefused(
                event.start_mark.index,
                f"found values nested more than {MAX_DEPTH} levels deep",
                "expected `key: value` lines whose values are text or a list of text",
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


#: libyaml's parser when PyYAML was built with it.
_CLoader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Fast(_CLoader):  # type: ignore[misc]
    pass


for _loader in (_Bounded, _Fast):
    _loader.add_constructor("tag:yaml.org,2002:int", _int)
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def load_bounded(text: str) -> object:
    """`yaml.safe_load(text)`, or YamlRefused, or the YAMLError of the pure-Python loader (marks by index)."""
    if len(text) > MAX_TEXT:
        raise YamlRefused(
            0, f"found {len(text):,} characters of YAML", f"expected metadata under {MAX_TEXT:,} characters"
        )
    if len(text) <= _FAST_LIMIT and "*" not in text and "&" not in text:
        try:
            return yaml.load(text, Loader=_Fast)
        except (yaml.YAMLError, YamlRefused):
            pass  # parsed again below: the pure loader's messages and marks do not depend on the build
    return yaml.load(text, Loader=_Bounded)
