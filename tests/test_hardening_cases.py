"""Every reproduction of the hardening review (issue 15, input classes) ends well, in bounded time.

Each folder in fixtures/hardening is a case as the review filed it (`source/`, `media/`, `setup.sh`, `NOTES.txt`,
the original `command`) plus `expect.toml`: the runs to make and what each must give. A run ends in exit 0 with
the content on the cards (imported with the real Anki backend), in exit 1 with one-line `path:line:col:
error[CODE]` diagnostics starting with the expected ones, or in exit 2 (a usage error); never a traceback.
The builder runs as a separate process, as an author runs it, so its exit code and output are the real ones.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection

from tests.conftest import EPOCH, FIXTURES, REPO, import_package

CASES = sorted(p.name for p in (FIXTURES / "hardening").iterdir() if p.is_dir())
#: A diagnostic's headline: what editors, CI annotations and `grep` rely on.
HEADLINE = re.compile(r"^[^\s].*:\d+:\d+: (?:error|warning)\[[A-Z]\d{3}\]: \S.*$")
#: The other lines `--format text` prints: caret snippets and the closing count.
SNIPPET = re.compile(r"^ *\d* \| .*$|^ +\|$")
SUMMARY = re.compile(r"^\d+ errors?, \d+ warnings?$")


def _command(run: dict[str, Any], work: Path) -> list[str]:
    builder = [sys.executable, "-m", "builder", *run["args"], "--format", "text", "--jobs", "1"]
    mount = run.get("mount")
    if mount is None:
        return builder
    # A tmpfs over the output folder (read-only, or a few KiB), in a mount namespace of its own: nothing is
    # mocked, and nothing stays mounted after the run.
    target = work / "mnt"
    target.mkdir(exist_ok=True)
    script = f'mount -t tmpfs -o {mount} tmpfs "{target}" && exec "$@"'
    return ["unshare", "--mount", "--map-root-user", "sh", "-c", script, "sh", *builder]


def _check_output(run: dict[str, Any], code: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert code == run["exit"], err
    if "stderr" in run:
        assert run["stderr"] in err
    if code != 1:
        return
    lines = err.splitlines()
    headlines = [line for line in lines if HEADLINE.match(line)]
    for line in lines:
        assert HEADLINE.match(line) or SNIPPET.match(line) or SUMMARY.match(line), f"not a diagnostic line: {line!r}"
    expected = run["diagnostics"]
    assert [h.split(": ", 1)[0] + ": " + h.split(": ", 2)[1] for h in headlines[: len(expected)]] == expected, err


def _check_cards(work: Path, run: dict[str, Any], tmp_path: Path) -> None:
    packages = sorted((work / run["args"][run["args"].index("--out") + 1]).glob("*.apkg"))
    assert packages
    folder = tmp_path / "anki"
    folder.mkdir(exist_ok=True)
    collection = Collection(str(folder / "collection.anki2"))
    try:
        for package in packages:
            import_package(collection, package)
        text = " ".join(field for nid in collection.find_notes("") for field in collection.get_note(nid).fields)
    finally:
        collection.close()
    for wanted in run["cards_contain"]:
        assert wanted in text


@pytest.mark.parametrize("case", CASES)
def test_reproduction(case: str, tmp_path: Path) -> None:
    work = tmp_path / case
    shutil.copytree(FIXTURES / "hardening" / case, work, symlinks=True)
    (work / "media").mkdir(exist_ok=True)
    subprocess.run(["bash", "setup.sh"], cwd=work, check=True, timeout=30)
    spec = tomllib.loads((work / "expect.toml").read_text(encoding="utf-8"))
    for run in spec["run"]:
        env = {
            **os.environ,
            "SOURCE_DATE_EPOCH": EPOCH,
            "BUILDER_CACHE_DIR": str(tmp_path / "cache"),
            "PYTHONPATH": str(REPO),
            **run.get("env", {}),
        }
        env.pop("GITHUB_ACTIONS", None)
        result = subprocess.run(
            _command(run, work),
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=run.get("seconds", 60),
        )
        _check_output(run, result.returncode, result.stderr)
        if run["exit"] == 0 and "cards_contain" in run:
            _check_cards(work, run, tmp_path)
