"""A learner on the released AWS deck upgrades: 1.0.0 imported and fully reviewed, then this version imported.

Built from the two commits: 1.0.0 is rebuilt by the builder of the commit that recorded
`source/aws-ai-practitioner/releases/1.0.0.json` (from that commit's tree, with the build time the release
was recorded with), and must reproduce the recorded manifest; this version is built from the working tree
(from a copy saying 1.1.0 while the deck still says 1.0.0, before the version bump).
Both are imported into the real Anki backend with Anki's default import options (update notes and notetypes
"if newer", no scheduling imported). Then: new notes are exactly the notes added since 1.0.0, every updated
note is one that changed or was removed, unchanged notes are left alone, nothing conflicts or is imported
twice, no notetype is duplicated or forked, and every review and interval the learner had is kept.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from anki.collection import Collection, ImportAnkiPackageRequest
from anki.import_export_pb2 import ImportResponse

from builder.ids import note_guid
from tests.conftest import REPO, build_deck

SLUG = "aws-ai-practitioner"
RELEASE = f"source/{SLUG}/releases/1.0.0.json"
DECK = "AWS Certified AI Practitioner"
EASY = 4


def _git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def release_commit(repo: Path) -> str:
    """The commit that added the 1.0.0 manifest (the oldest one, should it have been re-added)."""
    commits = _git("log", "--diff-filter=A", "--format=%H", "--", RELEASE, cwd=repo).split()
    assert commits, f"{RELEASE} exists but no commit added it; commit it first"
    return commits[-1]


def build_release(repo: Path, commit: str, work: Path, epoch: int, cache: Path) -> Path:
    """Build the deck of `commit` with that commit's own builder; the manifest and package land in work/dist."""
    tree = work / "tree"
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit], cwd=repo, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    env = {**os.environ, "PYTHONPATH": str(tree), "SOURCE_DATE_EPOCH": str(epoch), "BUILDER_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "builder", "build", "--out", str(work / "dist"), "--jobs", "1"],
        cwd=tree, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return work / "dist"


def import_with_defaults(col: Collection, apkg: Path) -> ImportResponse:
    """Import as a learner does from the desktop app: Anki's own preset options."""
    options = col._backend.get_import_anki_package_presets()
    return col.import_anki_package(ImportAnkiPackageRequest(package_path=str(apkg), options=options))


def review_everything(col: Collection) -> int:
    """Answer every card once (Easy), as a learner who studied the whole deck; returns the cards answered."""
    deck_id = col.decks.id_for_name(DECK)
    assert deck_id is not None
    config = col.decks.config_dict_for_deck_id(deck_id)
    # 9999 is the most Anki's deck options accept; a larger value is refused and the default 20 stays.
    config["new"]["perDay"] = config["rev"]["perDay"] = 9999
    col.decks.update_config(config)
    assert col.decks.config_dict_for_deck_id(deck_id)["new"]["perDay"] == 9999
    col.decks.select(deck_id)
    answered = 0
    while (card := col.sched.getCard()) is not None:
        col.sched.answerCard(card, EASY)
        answered += 1
    return answered


def _scheduling(col: Collection) -> dict[int, tuple[object, ...]]:
    rows = col.db.all("SELECT id, nid, did, ivl, due, type, queue, reps, lapses, factor, left, odue FROM cards")
    return {row[0]: tuple(row) for row in rows}


def _manifest(path: Path) -> dict[str, dict[str, object]]:
    return {note["id"]: note for note in json.loads(path.read_text())["notes"]}


def next_version_source(repo: Path, work: Path) -> Path:
    """The source folder this version is built from: the working tree's, or a copy saying 1.1.0 when the deck
    still says 1.0.0 because its content work lands before the version bump. The version line is the only
    difference, so the copy builds what the release will be once the version is bumped; a build at 1.0.0
    itself would compare against no earlier release and stamp every note as changed."""
    toml = repo / "source" / SLUG / "deck.toml"
    text = toml.read_text()
    if 'version = "1.0.0"' not in text.splitlines():
        return repo / "source"
    copy = work / "source"
    shutil.copytree(repo / "source", copy)
    bumped = text.replace('version = "1.0.0"', 'version = "1.1.0"', 1)
    (copy / SLUG / "deck.toml").write_text(bumped)
    return copy


@pytest.fixture(scope="module")
def release_manifest() -> dict[str, dict[str, object]]:
    if not (REPO / RELEASE).is_file():
        pytest.skip("1.0.0 not recorded yet")
    return _manifest(REPO / RELEASE)


def test_upgrade_from_1_0_0_keeps_every_review(
    release_manifest: dict[str, dict[str, object]],
    tmp_path: Path,
    collection: Collection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upgrade_from_release(REPO, release_manifest, tmp_path, collection, monkeypatch)


def upgrade_from_release(
    repo: Path,
    old: dict[str, dict[str, object]],
    tmp_path: Path,
    col: Collection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A first release stamps every note with the build time it was recorded with; rebuild with that time.
    (epoch,) = {int(str(note["mod"])) for note in old.values() if not note.get("removed")}
    cache = Path(os.environ["BUILDER_CACHE_DIR"])
    old_dist = build_release(repo, release_commit(repo), tmp_path / "old", epoch, cache)
    rebuilt = _manifest(old_dist / f"{SLUG}-1.0.0.json")
    assert {k: (v["hash"], v["mod"]) for k, v in rebuilt.items()} == {
        k: (v["hash"], v["mod"]) for k, v in old.items()
    }, "the release commit no longer builds the recorded 1.0.0 package"

    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch + 86_400))
    new_dist = tmp_path / "new"
    assert build_deck(next_version_source(repo, tmp_path / "next"), repo / "media", new_dist) == 0
    (new_json,) = list(new_dist.glob(f"{SLUG}-*.json"))
    new = _manifest(new_json)
    version = json.loads(new_json.read_text())["version"]
    assert version != "1.0.0", "the build compares against 1.0.0 only from a later version"

    first = import_with_defaults(col, old_dist / f"{SLUG}-1.0.0.apkg")
    assert len(first.log.new) == len(old) and not first.log.conflicting and not first.log.duplicate
    answered = review_everything(col)
    assert answered == col.card_count(), "every card of 1.0.0 is studied"
    before_cards = _scheduling(col)
    assert all(row[5] == 2 and row[3] > 0 for row in before_cards.values()), "all cards are reviews with intervals"
    before_revlog = col.db.all("SELECT * FROM revlog ORDER BY id")
    assert len(before_revlog) == answered
    before_notetypes = sorted((m.id, m.name) for m in col.models.all_names_and_ids())
    before_decks = {d.id: d.name for d in col.decks.all_names_and_ids()}

    second = import_with_defaults(col, new_dist / f"{SLUG}-{version}.apkg")

    deck_id = int(str(json.loads(new_json.read_text())["deck_id"]))

    def guids(ids: set[str]) -> set[str]:
        return {note_guid(deck_id, note_id) for note_id in ids}

    def logged(entries: object) -> set[str]:
        return {col.get_note(entry.id.nid).guid for entry in entries}  # type: ignore[attr-defined]

    added = set(new) - set(old)
    changed = {k for k in set(new) & set(old) if new[k]["hash"] != old[k]["hash"]}
    removed = {k for k, note in new.items() if note.get("removed")}
    assert logged(second.log.new) == guids(added), "new notes are exactly the notes added since 1.0.0"
    assert logged(second.log.updated) <= guids(changed | removed), "only changed or removed notes are updated"
    # Anki logs a note it already has and leaves alone (the incoming one is not newer) as a "duplicate": that
    # must be every unchanged note, and nothing may be imported a second time beside the learner's copy.
    unchanged = (set(old) & set(new)) - changed - removed
    assert logged(second.log.duplicate) == guids(unchanged), "unchanged notes are left alone"
    assert list(second.log.conflicting) == [] and list(second.log.first_field_match) == []
    assert list(second.log.missing_notetype) == []
    assert col.note_count() == len(set(old) | set(new)), "one note per id: no copy beside the learner's note"

    # A later version may bring a notetype of a new kind (1.1.0 brings Type-in), but every notetype the learner
    # had keeps its id and name, and none appears twice (a forked copy would carry the same name).
    before_types = dict(before_notetypes)
    after_types = {m.id: m.name for m in col.models.all_names_and_ids()}
    assert {k: after_types.get(k) for k in before_types} == before_types, "every notetype is kept, by id and name"
    declared = {(int(str(v["id"])), name) for name, v in json.loads(new_json.read_text())["notetypes"].items()}
    added = {(k, v) for k, v in after_types.items() if k not in before_types}
    assert added <= declared, "only the new version's own new notetypes are added"
    assert len(set(after_types.values())) == len(after_types), "no notetype duplicated or forked"
    decks = {d.id: d.name for d in col.decks.all_names_and_ids()}
    assert {k: decks.get(k) for k in before_decks} == before_decks, "every deck the learner had is still there"
    assert len(set(decks.values())) == len(decks)

    after_cards = _scheduling(col)
    assert {cid: after_cards.get(cid) for cid in before_cards} == before_cards, "every card keeps its schedule"
    assert col.db.all("SELECT * FROM revlog ORDER BY id") == before_revlog, "every review is kept"
    tombstones = set(col.find_notes(f"tag:{SLUG}::removed"))
    assert {col.get_note(n).guid for n in tombstones} == guids(removed)

    # Anki never moves a learner's existing cards, so a note whose subdeck changed would strand its cards in
    # the old deck: every note must sit where the new version puts it.
    (tmp_path / "fresh").mkdir()
    fresh = Collection(str(tmp_path / "fresh" / "collection.anki2"))
    try:
        import_with_defaults(fresh, new_dist / f"{SLUG}-{version}.apkg")
        wanted = _decks_by_guid(fresh)
    finally:
        fresh.close()
    have = _decks_by_guid(col)
    moved = {
        k: (have[g], wanted[g]) for k in set(old) & set(new) - removed if have[g := note_guid(deck_id, k)] != wanted[g]
    }
    assert moved == {}, "notes whose subdeck changed: (the learner's decks, the decks of the new version)"


def _decks_by_guid(col: Collection) -> dict[str, list[str]]:
    """For each note (by GUID), the decks its cards are in."""
    decks: dict[str, set[str]] = {}
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        decks.setdefault(card.note().guid, set()).add(col.decks.name(card.did))
    return {guid: sorted(names) for guid, names in decks.items()}
