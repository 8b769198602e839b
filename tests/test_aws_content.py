"""The AWS deck's content against the exam and the seeds: what a learner preparing for AIF-C01 relies on.

- Every task statement of the AIF-C01 exam guide v1.1 (published 2026-04-30) is mapped to notes in
  docs/content-coverage.md, and every id cited there exists.
- The domain subdecks hold the exam's weights (20/24/28/14/14 %, within 5 points) and the deck has at least
  550 notes; removed notes' tombstones do not count.
- No note shares a run of 10 words with a seed (the study notes the deck was written from), so every card is
  in our own words.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest
from anki.collection import Collection

from builder.ids import note_guid
from tests.conftest import REPO, build_deck, import_package

DECK = "AWS Certified AI Practitioner"
SLUG = "aws-ai-practitioner"
#: Each domain subdeck and its weight in the v1.1 guide (percent of scored content).
DOMAINS = {
    "1 Fundamentals of AI and ML": 20,
    "2 Fundamentals of Generative AI": 24,
    "3 Applications of Foundation Models": 28,
    "4 Guidelines for Responsible AI": 14,
    "5 Security, Compliance and Governance": 14,
}
SHARE_TOLERANCE = 5
MIN_NOTES = 550


def _numbered(task: str, objectives: int) -> list[str]:
    return [f"{task}.{n}" for n in range(1, objectives + 1)]


#: The v1.1 guide's task statements and how many objectives each lists, numbered in the guide's order
#: (task 1.2's sixth objective is 1.2.6). Read from the guide's domain pages on docs.aws.amazon.com
#: (ai-practitioner-01-domain1 … domain5); see docs/content-coverage.md.
TASK_STATEMENTS = [
    *_numbered("1.1", 5), *_numbered("1.2", 6), *_numbered("1.3", 6),
    *_numbered("2.1", 6), *_numbered("2.2", 4), *_numbered("2.3", 4),
    *_numbered("3.1", 6), *_numbered("3.2", 5), *_numbered("3.3", 3), *_numbered("3.4", 5),
    *_numbered("4.1", 7), *_numbered("4.2", 4),
    *_numbered("5.1", 5), *_numbered("5.2", 3),
]  # fmt: skip

COVERAGE = REPO / "docs" / "content-coverage.md"
SEEDS = REPO.parent / "shared" / "seeds"
RUN = 10
_ENTRY = re.compile(r"^- \*\*(\d+\.\d+\.\d+)\*\* (?P<text>.+?): (?P<ids>`[a-z0-9-]+`(?:, `[a-z0-9-]+`)*)\s*$")
_NOTE_ID = re.compile(r"<!-- id: ([a-z0-9-]+)")


def _source_ids() -> set[str]:
    ids: set[str] = set()
    for md in (REPO / "source" / SLUG).rglob("*.md"):
        ids.update(_NOTE_ID.findall(md.read_text()))
    return ids


def _task_statement_section() -> list[str]:
    text = COVERAGE.read_text()
    start = text.index("## Exam guide v1.1 task statements")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)].splitlines()


def test_every_task_statement_maps_to_existing_notes() -> None:
    entries: dict[str, list[str]] = {}
    malformed = []
    for line in _task_statement_section():
        if not line.startswith("- "):
            continue
        match = _ENTRY.match(line)
        if match is None:
            malformed.append(line)
            continue
        number = match.group(1)
        assert number not in entries, f"task statement {number} is listed twice"
        entries[number] = re.findall(r"`([a-z0-9-]+)`", match.group("ids"))
    assert malformed == [], "expected `- **1.1.1** statement: `note-id`, `note-id``"
    missing = [n for n in TASK_STATEMENTS if n not in entries]
    assert missing == [], f"task statements with no notes: {missing}"
    assert sorted(set(entries) - set(TASK_STATEMENTS)) == [], "numbers the v1.1 guide does not have"
    ids = _source_ids()
    unknown = {n: sorted(set(cited) - ids) for n, cited in entries.items() if set(cited) - ids}
    assert unknown == {}, "cited ids that are no note of the deck"


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Collection:
    out = tmp_path_factory.mktemp("dist")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        assert build_deck(REPO / "source", REPO / "media", out) == 0
    (apkg,) = out.glob(f"{SLUG}-*.apkg")
    col = Collection(str(tmp_path_factory.mktemp("anki") / "collection.anki2"))
    import_package(col, apkg)
    return col


def _notes_per_domain(col: Collection) -> Counter[str]:
    """Real notes per domain subdeck (a note belongs where its first card is), tombstones left out."""
    counts: Counter[str] = Counter()
    for nid in col.find_notes(f"-tag:{SLUG}::removed"):
        deck = col.decks.name(col.get_card(col.card_ids_of_note(nid)[0]).did)
        domain = next((d for d in DOMAINS if deck == f"{DECK}::{d}" or deck.startswith(f"{DECK}::{d}::")), None)
        assert domain is not None, f"note {nid} is in {deck}, outside the five domain subdecks"
        counts[domain] += 1
    return counts


def test_domain_shares_follow_the_exam_weights(aws: Collection) -> None:
    counts = _notes_per_domain(aws)
    total = sum(counts.values())
    shares = {d: round(100 * counts[d] / total, 1) for d in DOMAINS}
    off = {d: (shares[d], weight) for d, weight in DOMAINS.items() if abs(shares[d] - weight) > SHARE_TOLERANCE}
    assert off == {}, f"domain shares (share %, exam weight %) more than {SHARE_TOLERANCE} points off"


def test_at_least_550_real_notes(aws: Collection) -> None:
    assert sum(_notes_per_domain(aws).values()) >= MIN_NOTES


def normalised_words(text: str) -> list[str]:
    """Lowercase words ([a-z0-9]+) of the text a learner reads: cloze markup and HTML stripped."""
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", text, flags=re.DOTALL)
    text = re.sub(r"\{\{c\d+::|::[^{}]*\}\}|\}\}", " ", text)
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    return re.findall(r"[a-z0-9]+", text.lower())


def _runs(found: list[str]) -> set[tuple[str, ...]]:
    return {tuple(found[i : i + RUN]) for i in range(len(found) - RUN + 1)}


def test_normalisation_sees_through_markup() -> None:
    assert normalised_words("A <b>{{c1::Token}}</b> is&nbsp;a {{c2::unit::hint}} of text.") == [
        "a", "token", "is", "a", "unit", "of", "text",
    ]  # fmt: skip


def test_no_note_shares_ten_words_with_a_seed(aws: Collection) -> None:
    if not SEEDS.is_dir():
        pytest.skip(f"the seeds are not here ({SEEDS}: ../shared is absent from this checkout)")
    seeds = sorted(SEEDS.glob("*.txt"))
    assert seeds, f"no seed files in {SEEDS}"
    seed_runs: dict[tuple[str, ...], str] = {}
    for seed in seeds:
        for run in _runs(normalised_words(seed.read_text(errors="replace"))):
            seed_runs.setdefault(run, seed.name)
    deck_id = int(re.findall(r"^id = (\d+)$", (REPO / "source" / SLUG / "deck.toml").read_text(), re.M)[0])
    ids = {note_guid(deck_id, note_id): note_id for note_id in _source_ids()}
    copied = {}
    for nid in aws.find_notes(f"-tag:{SLUG}::removed"):
        note = aws.get_note(nid)
        # The Source field holds citation links, not card text; a separator keeps runs inside one field.
        words = [w for name, value in note.items() if name != "Source" for w in [*normalised_words(value), "|"]]
        shared = sorted(_runs(words) & seed_runs.keys())
        if shared:
            copied[ids[note.guid]] = f"{' '.join(shared[0])} ({seed_runs[shared[0]]}, {len(shared)} run(s))"
    assert copied == {}, "notes that copy a run of 10 words from a seed (note id: first shared run)"
