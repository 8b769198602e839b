"""Caches never change what a build writes: cold, warm and no cache give the same bytes; stale or broken
entries are rebuilt; concurrent builds share a cache; an unchanged build is skipped, a changed one is not."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from builder.cli import main
from tests.bench.corpus import touch_one_file, write_corpus
from tests.conftest import EPOCH, FIXTURES, REPO

APKG = "starter-0.3.0.apkg"
MANIFEST = "starter-0.3.0.json"


def _build(root: Path, out: str, *extra: str) -> int:
    return main(["build", "--source", str(root / "source"), "--media", str(root / "media"), "--out",
                 str(root / out), *extra])  # fmt: skip


def _outputs(folder: Path) -> tuple[bytes, bytes]:
    return (folder / APKG).read_bytes(), (folder / MANIFEST).read_bytes()


def _entries(cache: Path) -> dict[Path, int]:
    """Every note-cache entry and when it was last written."""
    return {p: p.stat().st_mtime_ns for p in (cache / "notes").rglob("*.pickle")}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("BUILDER_CACHE_DIR", str(folder))
    return folder


def test_cold_warm_and_no_cache_builds_write_the_same_bytes(starter: Path, cache: Path) -> None:
    assert _build(starter, "cold") == 0
    written = _entries(cache)
    assert len(written) == 2, "one entry per note file"
    # Another output folder: the up-to-date check does not apply, every file comes from the note cache.
    assert _build(starter, "warm") == 0
    assert _entries(cache) == written, "a warm build reads entries and writes none"
    assert _build(starter, "none", "--no-cache") == 0
    assert _build(starter, "serial", "--no-cache", "--jobs", "1") == 0
    cold = _outputs(starter / "cold")
    for other in ("warm", "none", "serial"):
        assert _outputs(starter / other) == cold, other


@pytest.mark.parametrize("damage", [b"", b"garbage", b"deckforge-note-cache-v1 0000\n\x80\x05junk"])
def test_broken_cache_entries_are_compiled_again(starter: Path, cache: Path, damage: bytes) -> None:
    assert _build(starter, "first") == 0
    for entry in _entries(cache):
        entry.write_bytes(damage)
    assert _build(starter, "second") == 0
    assert _outputs(starter / "second") == _outputs(starter / "first")
    assert all(entry.read_bytes() != damage for entry in _entries(cache)), "broken entries are replaced"


def test_a_changed_image_is_not_served_from_the_cache(starter: Path, cache: Path) -> None:
    assert _build(starter, "before") == 0
    image = starter / "media" / "pipeline.png"
    image.write_bytes(image.read_bytes() + b"\0")  # new content, same file name
    assert _build(starter, "after") == 0
    with zipfile.ZipFile(starter / "before" / APKG) as old, zipfile.ZipFile(starter / "after" / APKG) as new:
        old_names = set(old.read("media").decode().split('"'))
        new_names = set(new.read("media").decode().split('"'))
    assert {n for n in old_names if n.startswith("pipeline-")} != {n for n in new_names if n.startswith("pipeline-")}
    assert _outputs(starter / "after")[1] != _outputs(starter / "before")[1], "the note's hash follows its image"


def test_concurrent_cold_builds_share_one_cache(tmp_path: Path) -> None:
    root = write_corpus(tmp_path / "deck", 600)
    env = {**os.environ, "BUILDER_CACHE_DIR": str(tmp_path / "cache"), "SOURCE_DATE_EPOCH": EPOCH,
           "PYTHONPATH": str(REPO)}  # fmt: skip
    builds = [
        subprocess.Popen(
            [sys.executable, "-m", "builder", "build", "--out", f"out{i}"],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(3)
    ]
    for build in builds:
        _, err = build.communicate(timeout=300)
        assert build.returncode == 0, err.decode()
    packages = {(root / f"out{i}" / "bench-1.0.0.apkg").read_bytes() for i in range(3)}
    assert len(packages) == 1


def test_an_unchanged_build_is_skipped_and_a_changed_one_is_not(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_corpus(tmp_path / "deck", 300)
    shutil.copytree(FIXTURES / "starter" / "media", root / "media", dirs_exist_ok=True)
    note = root / "source" / "bench" / "part-0000.md"
    # A warning, so the replayed report can be compared with the real one.
    note.write_text(note.read_text() + "\n## Same front\n<!-- id: dup-a -->\n\nA.\n\n## Same front\n"
                    "<!-- id: dup-b -->\n\nB.\n", encoding="utf-8")  # fmt: skip
    assert _build(root, "dist") == 0
    first = capsys.readouterr()
    assert "built" in first.out and "warning[L004]" in first.err
    package = root / "dist" / "bench-1.0.0.apkg"
    before = package.stat().st_mtime_ns

    assert _build(root, "dist") == 0
    again = capsys.readouterr()
    assert again.out == first.out.replace("\n", " (up to date)\n")
    assert again.err == first.err, "warnings are reported again"
    assert package.stat().st_mtime_ns == before, "nothing is written"

    touch_one_file(root)
    assert _build(root, "dist") == 0
    assert "up to date" not in capsys.readouterr().out
    edited = package.read_bytes()

    package.write_bytes(b"tampered")
    assert _build(root, "dist") == 0
    assert "up to date" not in capsys.readouterr().out
    assert package.read_bytes() == edited, "a damaged output is rebuilt, to the same bytes"

    (root / "media" / "pipeline.png").write_bytes(b"new image")
    assert _build(root, "dist") == 0
    assert "up to date" not in capsys.readouterr().out, "media are inputs too"
