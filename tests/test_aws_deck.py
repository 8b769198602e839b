"""The AWS Certified AI Practitioner deck: builds, imports cleanly into Anki, and its cards stay small.

ANSWER_LIMIT: a basic or reverse answer may have at most 160 characters of visible text. That is about 25
words, three lines on a phone: enough for one fact stated precisely, too little for a list or a paragraph. The
minimum information principle (one fact per card) is what keeps reviews fast and forgetting rare; anything
longer belongs on several cards or in a cloze.
"""

from __future__ import annotations

import re
from collections import Counter
from html import unescape
from pathlib import Path

import pytest
from anki.collection import Collection

from builder.diagrams.legibility import DESKTOP, MIN_LABEL_PX, PHONE, Placement, rendering, svg_facts
from tests.conftest import REPO, build_deck, import_package

ANSWER_LIMIT = 160
DECK = "AWS Certified AI Practitioner"
DOMAINS = (
    "1 Fundamentals of AI and ML",
    "2 Fundamentals of Generative AI",
    "3 Applications of Foundation Models",
    "4 Guidelines for Responsible AI",
    "5 Security, Compliance and Governance",
)


def _visible(html: str) -> str:
    text = re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Collection:
    out = tmp_path_factory.mktemp("dist")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        assert build_deck(REPO / "source", REPO / "media", out) == 0
    (apkg,) = out.glob("aws-ai-practitioner-*.apkg")
    folder = tmp_path_factory.mktemp("anki")
    col = Collection(str(folder / "collection.anki2"))
    result = import_package(col, apkg)
    assert not result.log.conflicting and not result.log.duplicate and not result.log.first_field_match
    assert len(result.log.new) == col.note_count()
    return col


def _notes_by_type(col: Collection) -> Counter[str]:
    return Counter(col.get_note(nid).note_type()["name"] for nid in col.find_notes(""))  # type: ignore[index]


def test_size_and_mix_of_notes(aws: Collection) -> None:
    kinds = _notes_by_type(aws)
    assert aws.note_count() >= 250
    assert kinds[f"{DECK} · Cloze"] >= 50
    assert kinds[f"{DECK} · Reverse"] >= 30


def test_domains_are_subdecks(aws: Collection) -> None:
    names = {d.name for d in aws.decks.all_names_and_ids()}
    for domain in DOMAINS:
        assert f"{DECK}::{domain}" in names
    # Tombstones of removed notes sit in the top deck on purpose (their subdeck may be gone); every real card
    # belongs to a domain.
    for cid in aws.find_cards("-tag:aws-ai-practitioner::removed"):
        deck = aws.decks.name(aws.get_card(cid).did)
        assert any(deck.startswith(f"{DECK}::{domain}") for domain in DOMAINS), deck
    assert aws.find_cards("tag:aws-ai-practitioner::removed")


def test_every_note_is_tagged_by_service_or_topic(aws: Collection) -> None:
    for nid in aws.find_notes("-tag:aws-ai-practitioner::removed"):
        tags = aws.get_note(nid).tags
        assert any(t.startswith(("service::", "topic::")) for t in tags), aws.get_note(nid).fields[0]


def test_no_two_notes_share_a_front(aws: Collection) -> None:
    fronts: Counter[str] = Counter()
    for nid in aws.find_notes(""):
        note = aws.get_note(nid)
        if "Header" in note:
            front = note["Header"]
        elif "Text" in note:
            front = re.sub(r"\{\{c\d+::(.*?)(?:::.*?)?\}\}", r"\1", note["Text"].split("</div>", 1)[0])
        else:
            front = note["Front"]
        fronts[_visible(front).lower()] += 1
    assert [front for front, n in fronts.items() if n > 1] == []


def test_answers_stay_short(aws: Collection) -> None:
    too_long = []
    for nid in aws.find_notes(f'"note:{DECK} · Basic" OR "note:{DECK} · Reverse"'):
        back = _visible(aws.get_note(nid)["Back"])
        if len(back) > ANSWER_LIMIT:
            too_long.append((len(back), back))
    assert too_long == []


def test_every_card_renders(aws: Collection) -> None:
    for cid in aws.find_cards(""):
        card = aws.get_card(cid)
        for html in (card.question(), card.answer()):
            body = re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL)
            assert not re.search(r"\{\{c\d+::", body), body
            assert "**" not in body and "```" not in body and "](" not in body, body
        if card.note().note_type()["name"] == f"{DECK} · Cloze":  # type: ignore[index]
            # The hidden text shows as [...] or, for a deletion with a hint, as [hint].
            assert re.search(r'<span class="cloze"[^>]*>\[[^\]<]+\]</span>', card.question()), card.question()
    check = aws.media.check()
    assert list(check.missing) == [] and list(check.unused) == []


def test_coverage_map_names_real_notes(aws: Collection) -> None:
    """docs/content-coverage.md is how a reviewer checks seed facts; every id it cites must exist."""
    text = (REPO / "docs" / "content-coverage.md").read_text()
    cited = set(re.findall(r"`([a-z0-9-]{3,64})`", text))
    ids: set[str] = set()
    for md in (REPO / "source" / "aws-ai-practitioner").rglob("*.md"):
        ids.update(re.findall(r"<!-- id: ([a-z0-9-]+)", md.read_text()))
    assert len(ids) == len(aws.find_notes("-tag:aws-ai-practitioner::removed"))
    missing = sorted(cited - ids)
    assert missing == []


def test_diagram_notes_across_all_engines(aws: Collection) -> None:
    sources = "\n".join(p.read_text() for p in (REPO / "source" / "aws-ai-practitioner").rglob("*.md"))
    fences = re.findall(r"^```(mermaid|d2|dot|graphviz)\b", sources, re.MULTILINE)
    assert len(fences) >= 8
    assert {"mermaid", "d2"} <= set(fences) and {"dot", "graphviz"} & set(fences)
    occlusion = aws.find_notes(f'"note:{DECK} · Image Occlusion"')
    assert len(occlusion) >= 2
    for nid in occlusion:
        assert aws.get_image_occlusion_note(nid).WhichOneof("value") == "note"
    for name in ("diagram-llm-generation-loop", "diagram-rag-pipeline-occlusion", "diagram-rlhf-pipeline-occlusion"):
        assert f"<!-- id: {name}" in sources


_IMG = re.compile(r"<img\b[^>]*>")
_GENERIC_ALT = re.compile(r"^(\w+ )?(diagram|image|picture|figure|graph|chart|img)s?\.?$", re.IGNORECASE)


def test_every_image_says_what_it_shows(aws: Collection) -> None:
    """Screen readers read an image's alt text: it names what the picture is about, never just "dot diagram"."""
    images = 0
    for nid in aws.find_notes(""):
        note = aws.get_note(nid)
        occlusion = note.note_type()["name"].endswith("Image Occlusion")  # type: ignore[index]
        for field in note.fields:
            for tag in _IMG.findall(field):
                images += 1
                found = re.search(r'\balt="([^"]*)"', tag)
                assert found, tag
                alt = unescape(found.group(1))
                assert len(alt) >= 30 and not _GENERIC_ALT.match(alt), alt
                assert "{{" not in alt, alt
                if occlusion:
                    assert re.search(r"\d+ hidden labels?\.$", alt), alt
    assert images >= 14


def test_every_diagram_reads_on_a_phone(aws: Collection) -> None:
    """Sized the way Anki sizes images, no diagram's smallest label is under 11 px on a phone or a desktop."""
    media = Path(aws.media.dir())
    seen = 0
    for nid in aws.find_notes(""):
        note = aws.get_note(nid)
        placement = (
            Placement.OCCLUSION
            if note.note_type()["name"].endswith("Image Occlusion")  # type: ignore[index]
            else Placement.CARD
        )
        for name in re.findall(r'src="(diagram-[0-9a-f]{16}\.svg)"', " ".join(note.fields)):
            facts = svg_facts((media / name).read_text())
            for viewport in (PHONE, DESKTOP):
                shot = rendering(facts, viewport, placement)
                assert shot.smallest_px is not None and shot.smallest_px >= MIN_LABEL_PX, (
                    note.fields[0][:60],
                    viewport.name,
                    shot,
                )
            seen += 1
    assert seen >= 14


def test_every_svg_in_the_deck_is_safe(aws: Collection) -> None:
    from builder.diagrams.sanitize import check_svg_safe

    svgs = sorted(Path(aws.media.dir()).glob("*.svg"))
    assert len(svgs) >= 8
    for svg in svgs:
        assert check_svg_safe(svg.read_text()) == [], svg.name
