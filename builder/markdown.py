"""The one Markdown dialect of the project: a configured markdown-it-py parser shared by parse and render."""

from __future__ import annotations

from functools import cache

from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.front_matter import front_matter_plugin


@cache
def parser() -> MarkdownIt:
    """CommonMark plus tables, strikethrough, front matter and `$`/`$$` math.

    Raw HTML stays enabled because Anki fields are HTML and authors use the odd `<sub>` or `<br>`; the
    validator rejects scripts. Typographer and linkify stay off so the text a learner sees is the text
    the author typed.
    """
    md = MarkdownIt("commonmark", {"html": True, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(front_matter_plugin)
    # allow_space=False and allow_digits=False keep "$5 and $10" as prices instead of math.
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False, double_inline=True)
    return md
