"""Same source, same bytes: builds in other folders, time zones, umasks, locales and hash seeds agree."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import FIXTURES, REPO

APKG = "dist/starter-0.3.0.apkg"


def _build(workdir: Path, env_extra: dict[str, str], umask: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(env_extra)
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        ["/bin/sh", "-c", f"umask {umask:03o} && exec {sys.executable} -m builder build"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def _copy_starter(target: Path) -> Path:
    shutil.copytree(FIXTURES / "starter", target)
    return target


def test_two_builds_in_different_environments_are_byte_identical(tmp_path: Path) -> None:
    first = _copy_starter(tmp_path / "a")
    second = _copy_starter(tmp_path / "deeper" / "b with space")
    one = _build(
        first,
        {"SOURCE_DATE_EPOCH": "1700000000", "TZ": "UTC", "PYTHONHASHSEED": "1", "LC_ALL": "C"},
        umask=0o022,
    )
    two = _build(
        second,
        {"SOURCE_DATE_EPOCH": "1700000000", "TZ": "Pacific/Kiritimati", "PYTHONHASHSEED": "4242", "LC_ALL": "C.UTF-8"},
        umask=0o077,
    )
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, two.stderr
    a, b = (first / APKG).read_bytes(), (second / APKG).read_bytes()
    assert a == b
    # The zip itself carries no build time, owner or umask.
    with zipfile.ZipFile(first / APKG) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["collection.anki2", "media", "0"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert (second / APKG).stat().st_mode & 0o777 == 0o644


def _git(cwd: Path, *args: str, date: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@example.com",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@example.com",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_time_comes_from_the_last_commit_touching_the_deck(tmp_path: Path) -> None:
    outputs = []
    for name in ("x", "y"):
        work = _copy_starter(tmp_path / name)
        _git(work, "init", "-q", date="@1600000000 +0000")
        _git(work, "add", "source", "media", date="@1600000000 +0000")
        _git(work, "commit", "-qm", "deck", date="@1600000000 +0000")
        # A later commit that does not touch the deck must not change its date.
        (work / "README").write_text("unrelated\n")
        _git(work, "add", "README", date="@1650000000 +0000")
        _git(work, "commit", "-qm", "docs", date="@1650000000 +0000")
        result = _build(work, {"TZ": "Asia/Tokyo"}, umask=0o022)
        assert result.returncode == 0, result.stderr
        outputs.append((work / APKG).read_bytes())
    assert outputs[0] == outputs[1]
    with zipfile.ZipFile(tmp_path / "x" / APKG) as archive:
        (tmp_path / "col.anki2").write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(tmp_path / "col.anki2") as db:
        mods = {row[0] for row in db.execute("SELECT mod FROM notes")}
    assert mods == {1600000000}


def test_shallow_clone_fails_loudly(tmp_path: Path) -> None:
    origin = _copy_starter(tmp_path / "origin")
    _git(origin, "init", "-q", date="@1600000000 +0000")
    _git(origin, "add", ".", date="@1600000000 +0000")
    _git(origin, "commit", "-qm", "one", date="@1600000000 +0000")
    (origin / "source" / "starter" / "03-more.md").write_text("## Another?\n<!-- id: another -->\n\nYes.\n")
    _git(origin, "add", ".", date="@1610000000 +0000")
    _git(origin, "commit", "-qm", "two", date="@1610000000 +0000")
    (origin / "README").write_text("x\n")
    _git(origin, "add", ".", date="@1620000000 +0000")
    _git(origin, "commit", "-qm", "three", date="@1620000000 +0000")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], check=True)
    result = _build(clone, {}, umask=0o022)
    assert result.returncode == 1
    assert "error[E090]" in result.stderr and "shallow" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (clone / APKG).exists()
