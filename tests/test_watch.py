"""`watch` rebuilds after every save, writes what `build` writes, survives broken input and stops cleanly."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cli import main
from tests.conftest import REPO, import_package

APKG = "starter-0.3.0.apkg"
MANIFEST = "starter-0.3.0.json"
BASICS = "source/starter/01-basics.md"


class Watcher:
    """A running `python -m builder watch`, its output read line by line as it comes."""

    def __init__(self, root: Path) -> None:
        argv = [sys.executable, "-m", "builder", "watch", "--source", "source", "--media", "media", "--out", "dist"]
        self.process = subprocess.Popen(
            [*argv, "--interval", "0.05"],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(REPO), "CI": "true"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        self._pumping = threading.Thread(target=self._pump, daemon=True)
        self._pumping.start()
        threading.Thread(target=self._drain, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        self.errors.extend(self.process.stderr)

    def next_build(self) -> list[str]:
        """Everything printed up to and including the next `watching ...` line."""
        out = []
        while True:
            line = self.lines.get(timeout=60)
            out.append(line)
            if line.startswith("watching "):
                return out

    def stop(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=30)
        # The process has ended, but its last lines may still be on their way through the pipe into the queue.
        self._pumping.join(timeout=30)
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        return code, "".join(rest)


@pytest.fixture
def watcher(starter: Path) -> Iterator[Watcher]:
    running = Watcher(starter)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
            running.process.wait()


def _cli(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """`python -m builder` run in `root`, as an author runs it (manifests name sources relative to it)."""
    command = [sys.executable, "-m", "builder", *argv, "--source", "source", "--media", "media"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "CI": "true"}
    return subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _fields(apkg: Path, tmp: Path, front_contains: str) -> list[str]:
    """The fields of the note whose front contains the text, as Anki imports them."""
    tmp.mkdir()
    col = Collection(str(tmp / "collection.anki2"))
    try:
        import_package(col, apkg)
        notes = [col.get_note(nid) for nid in col.find_notes("")]
        return [field for note in notes if front_contains in note.fields[0] for field in note.fields]
    finally:
        col.close()


def test_an_edit_is_rebuilt_to_the_bytes_a_fresh_build_writes(starter: Path, watcher: Watcher, tmp_path: Path) -> None:
    first = watcher.next_build()
    assert any(line.startswith(f"built dist/{APKG}") for line in first), first
    before = (starter / "dist" / APKG).read_bytes()

    _edit(starter / BASICS, "one note can make several cards", "a single note can make many cards")
    second = watcher.next_build()
    assert any(line.startswith(f"built dist/{APKG}") for line in second), second
    after = (starter / "dist" / APKG).read_bytes()
    assert after != before

    # What the learner gets is the edit, and exactly what a one-shot build without any cache writes.
    _cli(starter, "build", "--out", "fresh", "--no-cache")
    assert (starter / "fresh" / APKG).read_bytes() == after
    assert (starter / "fresh" / MANIFEST).read_bytes() == (starter / "dist" / MANIFEST).read_bytes()
    fields = _fields(starter / "dist" / APKG, tmp_path / "anki", "schedule?")
    assert any("a single note can make many cards" in field for field in fields), fields

    code, rest = watcher.stop()
    assert code == 0
    assert "stopped watching" in rest
    assert not any("Traceback" in line for line in watcher.errors), watcher.errors


def test_broken_input_is_reported_leaves_dist_alone_and_the_fix_is_picked_up(starter: Path, watcher: Watcher) -> None:
    watcher.next_build()
    good = (starter / "dist" / APKG).read_bytes()
    basics = starter / BASICS
    original = basics.read_text(encoding="utf-8")

    basics.write_text(original + "\n## A heading without an id or an answer\n", encoding="utf-8")
    failed = watcher.next_build()
    assert any(line.startswith("build failed") and "dist/ is unchanged" in line for line in failed), failed
    assert (starter / "dist" / APKG).read_bytes() == good

    _edit(basics, "Reviewing at growing intervals", "Reviewing at ever longer intervals")
    still_failed = watcher.next_build()
    assert any(line.startswith("build failed") for line in still_failed), "the broken note is still there"

    basics.write_text(original.replace("Reviewing at growing", "Reviewing at longer"), encoding="utf-8")
    fixed = watcher.next_build()
    assert any(line.startswith(f"built dist/{APKG}") for line in fixed), fixed
    assert (starter / "dist" / APKG).read_bytes() != good

    code, _ = watcher.stop()
    assert code == 0
    errors = "".join(watcher.errors)
    # Every problem of each failed build, in the usual format, and never a traceback.
    assert errors.count(f"{BASICS}:") >= 4, errors
    assert "error[E030]" in errors and "error[E041]" in errors
    assert "Traceback" not in errors


def test_a_build_after_watch_is_up_to_date(starter: Path, watcher: Watcher) -> None:
    watcher.next_build()
    _edit(starter / BASICS, "just before you would forget", "right before you would forget")
    watcher.next_build()
    assert watcher.stop()[0] == 0
    done = _cli(starter, "build", "--out", "dist")
    assert done.stdout == f"built dist/{APKG} (8 notes, 12 cards, 1 media) (up to date)\n", "watch records its builds"


def test_the_interval_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["watch", "--interval", "0"]) == 2
    assert "expected a number of seconds above 0" in capsys.readouterr().err
