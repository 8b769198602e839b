"""What a learner meets after import: no collapsed parents, every editable field on a card, sources, cues."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

from anki.collection import Collection

from tests.conftest import FIXTURES, build_deck, import_package

DECK_TOML = 'name = "{name}"\nid = {id}\nversion = "1.0.0"\n'
NOTES = """---
deck: Domain::Topic
---

## What does Amazon Macie find in S3?
<!-- id: macie-finds
source: https://docs.aws.amazon.com/macie/latest/user/what-is-macie.html -->

Sensitive data such as personally identifiable information.

## Amazon Macie
<!-- id: macie-reverse
type: reverse
source: [https://docs.aws.amazon.com/macie/latest/user/what-is-macie.html, https://aws.amazon.com/macie/] -->

The service that discovers sensitive data in Amazon S3.

## Sensitive data discovery
<!-- id: macie-cloze -->

Macie finds {{c1::sensitive data}} in S3.
"""
CODE = """
## Which call sorts a copy?
<!-- id: sorted-copy -->

```python
ordered = sorted(items)
```
"""


def _deck(root: Path, name: str, deck_id: int, notes: str) -> Path:
    folder = root / "source" / name.lower().replace(" ", "-")
    folder.mkdir(parents=True)
    (folder / "deck.toml").write_text(DECK_TOML.format(name=name, id=deck_id))
    (folder / "notes.md").write_text(notes)
    (root / "media").mkdir(exist_ok=True)
    return root


def _import(root: Path, collection: Collection) -> None:
    assert build_deck(root / "source", root / "media", root / "dist") == 0
    for apkg in sorted((root / "dist").glob("*.apkg")):
        import_package(collection, apkg)


def _card(collection: Collection, note_id_text: str, ordinal: int = 0):  # type: ignore[no-untyped-def]
    (nid,) = collection.find_notes(f'"{note_id_text}"')
    return collection.get_note(nid).cards()[ordinal]


def test_no_deck_arrives_collapsed(tmp_path: Path, collection: Collection) -> None:
    _import(_deck(tmp_path, "Learner Deck", 1700000000501, NOTES), collection)
    decks = {d.name: collection.decks.get(d.id) for d in collection.decks.all_names_and_ids()}
    assert {"Learner Deck", "Learner Deck::Domain", "Learner Deck::Domain::Topic"} <= decks.keys()
    for name in ("Learner Deck", "Learner Deck::Domain", "Learner Deck::Domain::Topic"):
        deck = decks[name]
        assert deck is not None and not deck["collapsed"] and not deck["browserCollapsed"], name


def test_sources_show_small_on_the_back_only(tmp_path: Path, collection: Collection) -> None:
    _import(_deck(tmp_path, "Learner Deck", 1700000000501, NOTES), collection)
    card = _card(collection, "What does Amazon Macie find")
    assert "what-is-macie.html" not in card.question()
    back = card.answer()
    assert re.search(r'class="df-card df-source">Source: <a href="https://docs\.aws\.amazon\.com/macie/', back), back
    assert "docs.aws.amazon.com › macie › what-is-macie</a>" in back
    two = _card(collection, "The service that discovers", 1).answer()
    assert two.count("<a href=") == 2 and "aws.amazon.com › macie</a>" in two


def test_every_field_a_learner_edits_shows_on_a_card(tmp_path: Path, collection: Collection) -> None:
    _import(_deck(tmp_path, "Learner Deck", 1700000000501, NOTES), collection)
    for model in (m for m in collection.models.all() if m["name"].startswith("Learner Deck · ")):
        templates = " ".join(t["qfmt"] + t["afmt"] for t in model["tmpls"])
        for field in model["flds"]:
            name = field["name"]
            shown = f"{{{{{name}}}}}" in templates or f"{{{{cloze:{name}}}}}" in templates
            assert shown, f"{model['name']}: field {name} is on no card"
    cloze = collection.get_note(collection.find_notes('"Macie finds"')[0])
    assert list(cloze.keys()) == ["Text", "Back Extra", "Source"]
    cloze["Back Extra"] = "My own mnemonic"
    collection.update_note(cloze)
    assert "My own mnemonic" in cloze.cards()[0].answer()


def test_backward_card_says_a_term_is_asked(tmp_path: Path, collection: Collection) -> None:
    _import(_deck(tmp_path, "Learner Deck", 1700000000501, NOTES), collection)
    forward, backward = collection.get_note(collection.find_notes('"The service that discovers"')[0]).cards()
    assert "Name the term" in backward.question() and "Name the term" not in forward.question()


def test_each_deck_owns_its_notetypes(tmp_path: Path, collection: Collection) -> None:
    _deck(tmp_path, "First Deck", 1700000000601, NOTES)
    _deck(tmp_path, "Second Deck", 1700000000602, NOTES.replace("macie-", "other-"))
    _import(tmp_path, collection)
    names = sorted(m.name for m in collection.models.all_names_and_ids() if "·" in m.name)
    assert names == [f"{d} · {k}" for d in ("First Deck", "Second Deck") for k in ("Basic", "Cloze", "Reverse")]


def test_code_colours_ship_only_for_code_the_deck_shows(tmp_path: Path, collection: Collection) -> None:
    _deck(tmp_path / "plain", "Plain Deck", 1700000000701, NOTES)
    _import(tmp_path / "plain", collection)
    _deck(tmp_path / "code", "Code Deck", 1700000000702, CODE)
    _import(tmp_path / "code", collection)
    css = {m["name"]: m["css"] for m in collection.models.all()}
    assert ".highlight .k " not in css["Plain Deck · Basic"] and "linenos" not in css["Plain Deck · Basic"]
    code = css["Code Deck · Basic"]
    used = set(
        re.findall(r'<span class="([a-z0-9]+)"', collection.get_note(collection.find_notes("sorted")[0])["Back"])
    )
    rules = set(re.findall(r"\.highlight \.([a-zA-Z0-9]+) ", code))
    assert used and used <= rules, "every token the card shows has its colour"
    assert rules <= used, "no colour for tokens no card shows"


ANKI_MARKUP = r"""
## How does `[sound:clip.mp3]` play?
<!-- id: anki-markup-as-text -->

The tag `[sound:a.mp3]`, written \[sound:file.mp3\] in text, or in <span title="[sound:q.mp3]">HTML</span>.
LaTeX `[latex]x^2[/latex]`, \[LaTeX]y\[/LaTeX], `[$]y[/$]`, `[$$]z[/$$]`; speech `[anki:tts lang=en_US]hi[/anki:tts]`;
a box `[[type:Front]]` and `[anki:play:q:0]`.

```
[sound:fenced.mp3]
```

| \[sound:cell.mp3] | b |
|---|---|
| c | d |

### \[sound:heading.mp3]

Played: [sound:hello.mp3]
"""


def test_anki_markup_written_as_text_is_shown_as_text(tmp_path: Path, collection: Collection) -> None:
    """Anki reads `[sound:`, `[anki:`, `[latex]` and `[[type:` anywhere in a card's HTML: as text they stay text."""
    root = _deck(tmp_path, "Markup Deck", 1700000000801, ANKI_MARKUP)
    shutil.copy(FIXTURES / "notekinds" / "media" / "hello.mp3", root / "media" / "hello.mp3")
    _import(root, collection)
    (nid,) = collection.find_notes("")
    card = collection.get_note(nid).cards()[0]
    question, answer = card.question(), card.answer()
    # The one sound the note plays, and no other button, LaTeX image or typing box.
    assert "[anki:play:" not in question
    assert re.findall(r"\[anki:play:[qa]:\d+\]", answer) == ["[anki:play:a:0]"]
    tags = card.answer_av_tags()
    assert len(tags) == 1 and tags[0].filename.startswith("hello")  # type: ignore[union-attr]
    assert "latex-" not in answer and "[[type:" not in answer
    shown = html.unescape(re.sub(r"<[^>]*>", "", answer))
    for text in (
        "How does [sound:clip.mp3] play?",
        "The tag [sound:a.mp3], written [sound:file.mp3] in text",
        "LaTeX [latex]x^2[/latex], [LaTeX]y[/LaTeX], [$]y[/$], [$$]z[/$$]; speech [anki:tts lang=en_US]hi[/anki:tts];",
        "a box [[type:Front]] and [anki:play:q:0].",
        "[sound:fenced.mp3]",
        "[sound:cell.mp3]",
        "[sound:heading.mp3]",
    ):
        assert text in shown
    assert 'title="[sound:q.mp3]"' in html.unescape(answer)
