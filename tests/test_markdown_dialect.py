"""The shared parser: its speed-ups change nothing a reader of its output or of its debug log would notice."""

from __future__ import annotations

import logging

import pytest
from markdown_it import MarkdownIt
from markdown_it.utils import OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from builder.markdown import _silence_rule_tracing, parser

SAMPLE = """---
tags: [a]
---

## A *question* with `code`, $x^2$ and <sub>html</sub>?
<!-- id: sample -->

| a | b |
|---|---|
| ~~c~~ | [link](https://example.com) |

1. one
2. two

> quote

```python
print("hi")
```
"""


def _stock() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    return md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)


def test_same_tokens_and_html_as_a_stock_parser() -> None:
    ours, stock = parser(), _stock()
    assert [t.as_dict() for t in ours.parse(SAMPLE)] == [t.as_dict() for t in stock.parse(SAMPLE)]
    # Our options drive the stock renderer (render.py puts its own rules on the shared parser's renderer).
    assert stock.renderer.render(ours.parse(SAMPLE), ours.options, {}) == stock.render(SAMPLE)


def test_options_still_answer_as_markdown_it_expects() -> None:
    options = parser().options
    assert isinstance(options, OptionsDict)
    assert options.maxNesting == options["maxNesting"] == 20
    assert options.html is True and options.get("html") is True
    assert options.get("tasklists", "absent") == "absent"


def test_a_logger_someone_debugs_keeps_its_output(caplog: pytest.LogCaptureFixture) -> None:
    name = "markdown_it.rules_block.heading"
    logger = logging.getLogger(name)
    saved = logger.__dict__.pop("debug", None)
    try:
        with caplog.at_level(logging.DEBUG, logger=name):
            _silence_rule_tracing()
            parser().parse("# title\n")
        assert any(r.name == name and r.getMessage().startswith("entering heading") for r in caplog.records)
    finally:
        if saved is not None:
            logger.debug = saved  # type: ignore[method-assign]
