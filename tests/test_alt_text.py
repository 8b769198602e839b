"""Alt text of diagram images: what a screen reader reads, and what a card shows when the image fails to load."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

from anki.collection import Collection

from builder.alttext import MAX_LENGTH, diagram_alt, heading_text
from builder.diagrams.fence import parse_fence_info
from tests.conftest import build_deck, import_package
from tests.test_docs_examples import _examples


def test_default_is_the_heading_and_the_labels() -> None:
    assert diagram_alt("How does text become an answer?", ["text", "tokens", "answer"]) == (
        "Diagram: How does text become an answer? Labels: text; tokens; answer."
    )
    assert diagram_alt("The RAG loop.", ["Embed"]) == "Diagram: The RAG loop. Labels: Embed."
    # A heading that already names the kind of picture is not prefixed again.
    assert diagram_alt("Flowchart: how do epochs work?", ["no"]) == "Flowchart: how do epochs work? Labels: no."
    assert diagram_alt("Diagram: how does an agent work?", []) == "Diagram: how does an agent work?"


def test_hidden_labels_are_counted_never_named() -> None:
    alt = diagram_alt("Label the loop", ["Tokenizer", "Model", "Output", "model"], hidden=["Model", " Tokenizer "])
    assert alt == "Diagram: Label the loop. Labels: Output; 3 hidden labels."
    assert "Tokenizer" not in alt and "odel" not in alt


def test_long_label_lists_are_cut_at_a_label() -> None:
    labels = [f"step number {i}" for i in range(100)]
    alt = diagram_alt("How does it go?", labels)
    assert len(alt) <= MAX_LENGTH + 5
    assert alt.endswith("; ….") and "step number 3;" in alt
    assert all(part.startswith("step number") for part in alt.split("Labels: ")[1].split("; ")[:-1])


def test_the_author_wins() -> None:
    assert diagram_alt("Heading", ["a"], hidden=["a"], author="Three nested rings.") == "Three nested rings."


def test_heading_text_is_plain_and_keeps_clozes_hidden() -> None:
    assert heading_text("How does `top_p` change **sampling**?") == "How does top_p change sampling?"
    assert heading_text("{{c1::Amazon Bedrock}} serves {{c2::FMs::what?}}") == "[...] serves [what?]"


def test_fence_info_settings() -> None:
    info, problems = parse_fence_info('mermaid   alt="A   to\tB" ')
    assert (info.lang, info.alt, problems) == ("mermaid", "A to B", [])
    info, problems = parse_fence_info("D2 alt='single quotes'")
    assert (info.lang, info.alt, problems) == ("d2", "single quotes", [])
    info, problems = parse_fence_info('dot alt="{{c1::x}}" size=3 titel="x"')
    assert info.alt is None
    assert [p.offset for p in problems] == [4, 20, 27]
    assert "cloze" in problems[0].message and "Quote the value" in problems[1].message
    assert "unknown diagram setting `titel`" in problems[2].message


def test_the_documented_alt_example_reaches_the_card(tmp_path: Path, collection: Collection) -> None:
    """docs/authoring.md's alt text example, built and imported: its card's image carries the author's words."""
    (example,) = [body for body in _examples("markdown") if ' alt="' in body]
    written = re.search(r'^```\w+ alt="([^"]+)"$', example, re.MULTILINE)
    assert written
    deck = tmp_path / "source" / "example"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text(_examples("toml")[0])
    (deck / "example.md").write_text(example)
    (tmp_path / "media").mkdir()
    assert build_deck(tmp_path / "source", tmp_path / "media", tmp_path / "dist") == 0
    (apkg,) = (tmp_path / "dist").glob("*.apkg")
    import_package(collection, apkg)
    (cid,) = collection.find_cards("")
    answer = collection.get_card(cid).answer()
    alt = re.search(r'<img class="diagram" [^>]*alt="([^"]*)"', answer)
    assert alt and unescape(alt.group(1)) == written.group(1)
