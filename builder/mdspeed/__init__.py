"""Cheaper ways through markdown-it-py's own rules: the same rules, the same tokens, fewer calls.

markdown-it-py tries every rule of a chain, in order, at every inline position and every block line, and
almost every rule gives up at once because the character in front of it is not its own. These tokenizers
ask only the rules that can start at that character (each rule's trigger characters are declared here, next
to the rule) and ask every rule they know nothing about, as markdown-it-py would. The token streams are
identical, which tests/test_mdspeed.py checks against markdown-it-py's own tokenizers on every note file
of the repository, the benchmark corpus and generated input; the HTML rendered from them too.
"""

from __future__ import annotations

from markdown_it import MarkdownIt

from builder.mdspeed.block import install_block
from builder.mdspeed.inline import install_inline
from builder.mdspeed.render import install_render


def install(md: MarkdownIt) -> None:
    """Swap in the dispatching tokenizers and the leaner renderer; call after every rule is installed."""
    install_inline(md)
    install_block(md)
    install_render(md)
