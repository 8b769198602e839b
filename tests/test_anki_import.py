"""The starter deck, built and imported with the real Anki backend: what a learner actually gets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from anki.cards import Card
from anki.collection import Collection

from builder.ids import note_guid
from tests.conftest import import_package

STARTER_DECK_ID = 1700000000001


def _body(html: str) -> str:
    """Card HTML without the stylesheet Anki inlines."""
    return re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL)


def _visible(html: str) -> str:
    """The text a learner sees: tags (and the answers Anki keeps in data-cloze attributes) removed."""
    return re.sub(r"<[^>]+>", "", _body(html))


def _note_cards(col: Collection, note_id: str) -> list[Card]:
    guid = note_guid(STARTER_DECK_ID, note_id)
    nids = [nid for nid in col.find_notes("") if col.get_note(nid).guid == guid]
    assert len(nids) == 1, f"note {note_id} not found once"
    cards = [col.get_card(cid) for cid in col.card_ids_of_note(nids[0])]
    return sorted(cards, key=lambda c: c.ord)


@pytest.fixture
def imported(collection: Collection, starter_apkg: Path) -> Collection:
    result = import_package(collection, starter_apkg)
    assert result.log.found_notes == 8
    assert len(result.log.new) == 8
    assert not result.log.conflicting and not result.log.duplicate
    return collection


def test_counts_decks_and_notetypes(imported: Collection) -> None:
    assert imported.note_count() == 8
    assert imported.card_count() == 12
    names = {d.name for d in imported.decks.all_names_and_ids()}
    assert {"Starter Deck", "Starter Deck::Basics", "Starter Deck::Clozes"} <= names
    assert not any("0.3.0" in name for name in names), "the version must never be part of a deck name"
    notetypes = {m.name for m in imported.models.all_names_and_ids()}
    assert {"Starter Deck · Basic", "Starter Deck · Reverse", "Starter Deck · Cloze"} <= notetypes
    assert not any(name.endswith("+") or "-" in name.split()[-1] for name in notetypes)
    description = imported.decks.by_name("Starter Deck")["desc"]
    assert "Version 0.3.0" in description


def test_tags_from_front_matter_and_note(imported: Collection) -> None:
    (card, _) = _note_cards(imported, "spaced-repetition")
    assert sorted(card.note().tags) == ["fixture", "topic::basics", "topic::memory"]
    (first, *_) = _note_cards(imported, "build-stages")
    assert sorted(first.note().tags) == ["fixture", "topic::pipeline"]
    assert imported.decks.name(first.did) == "Starter Deck::Clozes"


def test_basic_question_and_answer(imported: Collection) -> None:
    (card,) = _note_cards(imported, "anki-schedules")
    assert "What does <em>Anki</em> schedule?" in _body(card.question())
    answer = _body(card.answer())
    assert "<strong>Cards</strong>, not notes" in answer
    assert '<hr id="answer">' in answer


def test_reverse_makes_two_cards(imported: Collection) -> None:
    forward, backward = _note_cards(imported, "spaced-repetition")
    assert "Spaced repetition" in _body(forward.question())
    assert "Reviewing at growing intervals" not in _body(forward.question())
    assert "Reviewing at growing intervals" in _body(backward.question())
    assert "Spaced repetition" not in _body(backward.question())
    assert "Spaced repetition" in _body(backward.answer())


def test_cloze_cards_hide_one_number_each(imported: Collection) -> None:
    cards = _note_cards(imported, "build-stages")
    assert [c.ord for c in cards] == [0, 1, 2]
    first, second, third = (_body(c.question()) for c in cards)
    assert 'data-ordinal="1">[...]</span>' in first and "Validate" in first
    assert "Parse" not in _visible(cards[0].question())
    assert "Stages of the build" in first, "the heading is the cloze note's title"
    assert third.count('data-ordinal="3">[...]') == 2, "both c3 deletions hide on the c3 card"
    assert "Parse" in second and "Validate" not in _visible(cards[1].question())
    assert "Parse" in _body(cards[0].answer())


def test_cloze_in_table_code_and_hint(imported: Collection) -> None:
    first, second = _note_cards(imported, "cloze-table")
    q1 = _body(first.question())
    assert "<table>" in q1 and "<code>" in q1 and "[...]" in q1
    assert "dot" not in _visible(first.question())
    assert "[a mer-creature]" in _body(second.question())
    assert '<code><span class="cloze" data-ordinal="1">dot</span></code>' in _body(first.answer())


def test_cloze_in_title(imported: Collection) -> None:
    (card,) = _note_cards(imported, "cloze-title")
    question = _body(card.question())
    assert "[...]" in question and "GUID" not in _visible(card.question())
    assert "GUID" in _body(card.answer())
    # The title is part of Text, the field the card shows and the learner edits; there is no second copy.
    assert card.note().keys() == ["Text", "Back Extra", "Source"]
    assert _visible(card.note()["Text"]).startswith("The {{c1::GUID}} identifies a note across versions")


def test_code_is_highlighted(imported: Collection) -> None:
    (card,) = _note_cards(imported, "python-sorted")
    answer = _body(card.answer())
    assert '<div class="highlight" data-language="python">' in answer
    assert '<span class="nb">sorted</span>' in answer, answer
    assert '<span class="c1"># items is unchanged</span>' in answer
    assert ".nightMode .highlight" in card.answer(), "night-mode code colours ship in the stylesheet"


def test_math_goes_to_mathjax_delimiters(imported: Collection) -> None:
    (card,) = _note_cards(imported, "quadratic-formula")
    answer = _body(card.answer())
    assert r"\[x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}\]" in answer
    assert r"\(a^2 + b^2 = c^2\)" in answer
    assert "$5 stay text" in answer


def test_image_is_shipped_under_a_content_hash_name(imported: Collection) -> None:
    (card,) = _note_cards(imported, "pipeline-image")
    match = re.search(r'<img src="(pipeline-[0-9a-f]{16}\.png)" alt="The build pipeline">', _body(card.answer()))
    assert match, card.answer()
    assert (Path(imported.media.dir()) / match.group(1)).is_file()
    check = imported.media.check()
    assert list(check.missing) == []
    assert list(check.unused) == []


def test_no_raw_markdown_or_cloze_left(imported: Collection) -> None:
    for cid in imported.find_cards(""):
        card = imported.get_card(cid)
        for html in (_body(card.question()), _body(card.answer())):
            assert not re.search(r"\{\{c\d+::|::[^}]*\}\}", html), html
            assert "**" not in html and "```" not in html and "## " not in html, html
            assert "](" not in html and "<!--" not in html, html
