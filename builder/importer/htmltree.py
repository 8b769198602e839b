"""Passes over a parsed field's element tree that must stay linear in its size (a hostile field has tens of
thousands of elements): Anki's line `<div>`s made into breaks, and how deep elements nest."""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag
from bs4.element import PageElement

#: Elements that start a block of their own: a line `<div>` holding one is not a line.
BLOCKS = frozenset(
    {
        "p", "div", "ul", "ol", "li", "table", "pre", "blockquote", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        "center", "section", "article", "header", "footer", "aside", "main", "nav", "figure", "figcaption",
        "dl", "dt", "dd",
    }
)  # fmt: skip


def lines_to_breaks(soup: BeautifulSoup) -> None:
    """Anki's editor writes each line as a `<div>`: make those `<br>`-separated lines of the parent's text.

    Divs go innermost and last first, as one bs4 edit each once did; but every bs4 insert or unwrap looks
    its node up in the parent's list, so 30,000 sibling lines took minutes. Each parent's list is rebuilt in
    one pass instead, and the tree's links are set once at the end.
    """
    divs = soup.find_all("div")
    if not divs:
        return
    order = {id(tag): i for i, tag in enumerate(soup.find_all(True))}
    parents = {id(div.parent): div.parent for div in divs if div.parent is not None}
    rebuilt: dict[int, list[PageElement]] = {}

    def children(tag: Tag) -> list[PageElement]:
        return rebuilt.get(id(tag), tag.contents)

    for parent in sorted(parents.values(), key=lambda p: order.get(id(p), -1), reverse=True):
        old = children(parent)
        tail: list[PageElement] = []
        for i in range(len(old) - 1, -1, -1):
            node = old[i]
            if (
                not (isinstance(node, Tag) and node.name == "div")
                or node.get("class")
                or any(isinstance(c, Tag) and c.name in BLOCKS for c in children(node))
            ):
                tail.append(node)
                continue
            before = old[i - 1] if i > 0 else None
            if not node.get_text().strip() and node.find("img") is None:
                tail.append(soup.new_tag("br"))
            else:
                after = tail[-1] if tail else None
                if after is not None and not (isinstance(after, Tag) and after.name in BLOCKS):
                    tail.append(soup.new_tag("br"))
                tail.extend(reversed(children(node)))
            if before is not None and not (isinstance(before, Tag) and before.name in BLOCKS | {"br"}):
                tail.append(soup.new_tag("br"))
        rebuilt[id(parent)] = tail[::-1]
    _relink(soup, rebuilt)


def _relink(soup: BeautifulSoup, rebuilt: dict[int, list[PageElement]]) -> None:
    """Give the tree the rebuilt child lists, then every parent, sibling and document-order link anew."""
    previous: PageElement | None = None
    stack: list[PageElement] = [soup]
    while stack:
        node = stack.pop()
        node.previous_element = previous
        if previous is not None:
            previous.next_element = node
        previous = node
        if isinstance(node, Tag):
            if id(node) in rebuilt:
                node.contents = rebuilt[id(node)]
            kids = node.contents
            for index, child in enumerate(kids):
                child.parent = node
                child.previous_sibling = kids[index - 1] if index else None
                child.next_sibling = kids[index + 1] if index + 1 < len(kids) else None
            stack.extend(reversed(kids))
    if previous is not None:
        previous.next_element = None


def depth(soup: BeautifulSoup) -> int:
    """How deep elements nest, walked without recursion (the parser nests every unclosed `<p>` or `<b>`)."""
    deepest = 0
    stack: list[tuple[Tag, int]] = [(soup, 0)]
    while stack:
        tag, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in tag.contents if isinstance(child, Tag))
    return deepest
