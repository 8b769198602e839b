"""Rendering tokens to HTML with markdown-it-py's own rules, in fewer steps.

markdown-it-py's RendererHTML looks each token's rule up twice, renders every tag through `renderToken`,
which concatenates the tag piece by piece and builds a list of the token's attributes even when there are
none (most tags). These do the same, in the same order, with one lookup and no work for empty attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MethodType

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict


def _render(self: RendererHTML, tokens: Sequence[Token], options: OptionsDict, env: EnvType) -> str:
    rules = self.rules
    render_token = self.renderToken
    out: list[str] = []
    for i, token in enumerate(tokens):
        if token.type == "inline":
            if token.children:
                out.append(self.renderInline(token.children, options, env))
            continue
        rule = rules.get(token.type)
        out.append(rule(tokens, i, options, env) if rule is not None else render_token(tokens, i, options, env))
    return "".join(out)


def _render_inline(self: RendererHTML, tokens: Sequence[Token], options: OptionsDict, env: EnvType) -> str:
    rules = self.rules
    render_token = self.renderToken
    out: list[str] = []
    for i, token in enumerate(tokens):
        rule = rules.get(token.type)
        out.append(rule(tokens, i, options, env) if rule is not None else render_token(tokens, i, options, env))
    return "".join(out)


def _render_token(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    """RendererHTML.renderToken, step for step."""
    token = tokens[idx]
    if token.hidden:
        return ""
    nesting = token.nesting
    parts = []
    if token.block and nesting != -1 and idx and tokens[idx - 1].hidden:
        parts.append("\n")
    parts.append("</" if nesting == -1 else "<")
    parts.append(token.tag)
    if token.attrs:
        parts.append(self.renderAttrs(token))
    if nesting == 0 and options["xhtmlOut"]:
        parts.append(" /")
    need_lf = False
    if token.block:
        need_lf = True
        if nesting == 1 and idx + 1 < len(tokens):
            following = tokens[idx + 1]
            # A tag around inline content, or an empty pair like `<li></li>`, stays on one line.
            inline = following.type == "inline" or following.hidden
            need_lf = not (inline or (following.nesting == -1 and following.tag == token.tag))
    parts.append(">\n" if need_lf else ">")
    return "".join(parts)


def install_render(md: MarkdownIt) -> None:
    renderer = md.renderer
    if type(renderer) is not RendererHTML:
        return  # someone else's renderer: its methods are its own
    renderer.render = MethodType(_render, renderer)  # type: ignore[method-assign]
    renderer.renderInline = MethodType(_render_inline, renderer)  # type: ignore[method-assign]
    renderer.renderToken = MethodType(_render_token, renderer)  # type: ignore[method-assign]
