"""The YAML shortcut for plain note metadata must agree with PyYAML wherever it answers."""

from __future__ import annotations

import itertools

import pytest
import yaml

from builder.simpleyaml import load_plain

VALUES = [
    "bedrock-pricing", "reverse", "a", "yes", "No", "ON", "off", "true", "False", "null", "y", "n", "~",
    "2001-12-14", "0x1f", "1e3", "12", "-1", ".inf", "a:b", "a: b", "a #c", "'q'", '"q"', "A-Big", "x_y",
    "[]", "[a]", "[a, b]", "[a,b]", "[topic::rag, service::bedrock]", "[on]", "[Yes, a]", "[a:]", "[a: b]",
    "[a, [b]]", "[a,]", "[ a , b ]", "[1, a]", "[tag.with.dots, path/like]", "[a::b::c]", "[a:::b]", "{a: b}",
    "&anchor x", "*ref", "!tag x", "|", ">", "a\tb", "",
    "Storage", "Domain 1 Fundamentals", "AWS::Bedrock", "A::B C", "Yes", "NULL", "a  b", "a ", "a :b", "a: ",
    "a -b", "Big - Small", "v1.0 notes", "A/B", "x:", "x::", "a ::b", "Off", "e", "E1", "a:1", "a # c", "a' b",
]  # fmt: skip
KEYS = ["id", "type", "tags", "ignore", "Id", "my_key", "a-b"]


def _cases() -> list[str]:
    single = [f"{key}: {value}" for key, value in itertools.product(KEYS, VALUES)]
    pairs = [f"id: x-{i}\n{line}" for i, line in enumerate(single[:: len(KEYS)])]
    odd = ["", "\n", "id: a\nid: b", "id: a \n", "  id: a", "id:a", "id: a\n  - b", "# c\nid: a", "id: a\n\ntype: b"]
    return single + pairs + odd


@pytest.mark.parametrize("text", _cases())
def test_shortcut_agrees_with_yaml(text: str) -> None:
    fast = load_plain(text)
    if fast is not None:
        assert fast == yaml.safe_load(text)


def test_shortcut_covers_the_usual_metadata() -> None:
    usual = ["id: bedrock-pricing", "id: temperature\ntype: reverse\ntags: [topic::inference-parameters] ",
             "id: x1\nignore: [long-answer, L005]", "deck: Storage\ntags: [topic::storage]",
             "deck: Domain 1 Fundamentals of AI"]  # fmt: skip
    for text in usual:
        assert load_plain(text) == yaml.safe_load(text)
