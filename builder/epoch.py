"""Build time: a deck folder → the timestamp its package carries (SOURCE_DATE_EPOCH, else git, else fixed)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Outside git and without SOURCE_DATE_EPOCH: 2000-01-01T00:00:00Z, so builds stay reproducible.
FALLBACK_EPOCH = 946_684_800
#: 9999-12-31T23:59:59Z. Anki keeps times in 64-bit integers and note ids are the time in milliseconds, so a
#: later time overflows the collection; no real build is dated past it.
MAX_EPOCH = 253_402_300_799
_DIGITS = re.compile(r"[0-9]{1,12}")


@dataclass(frozen=True)
class Epoch:
    value: int
    #: Where the value came from, for the build log.
    origin: str


class EpochError(Exception):
    """The environment cannot give a trustworthy build time (bad SOURCE_DATE_EPOCH, shallow git history)."""


def _git(folder: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def source_date_epoch(folder: Path) -> Epoch:
    """SOURCE_DATE_EPOCH if set; else the time of the last commit that touched `folder`; else FALLBACK_EPOCH."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env is not None:
        # ASCII digits only: str.isdigit() also accepts `²` and other digits int() refuses.
        if _DIGITS.fullmatch(env.strip()) is None or int(env) > MAX_EPOCH:
            shown = repr(env) if len(env) <= 30 else repr(env[:27] + "...")
            raise EpochError(
                f"found SOURCE_DATE_EPOCH={shown}; expected a whole number of seconds since 1970 up to "
                f"{MAX_EPOCH} (the year 9999), e.g. 1700000000. Fix it, or unset it to use the time of the "
                "last commit that touched the deck"
            )
        return Epoch(int(env), "SOURCE_DATE_EPOCH")
    inside = _git(folder, "rev-parse", "--is-inside-work-tree")
    if inside != "true":
        return Epoch(FALLBACK_EPOCH, "fixed fallback (not a git checkout; set SOURCE_DATE_EPOCH)")
    if _git(folder, "rev-parse", "--is-shallow-repository") == "true":
        # In a shallow clone the oldest fetched commit seems to touch every file: the date would be wrong.
        raise EpochError(
            f"the git history of {folder.as_posix()} is shallow, so the date of its last change is unknown; "
            "fetch the full history (actions/checkout with fetch-depth: 0, or `git fetch --unshallow`) "
            "or set SOURCE_DATE_EPOCH"
        )
    stamp = _git(folder, "log", "-1", "--format=%ct", "--", ".")
    if not stamp or _DIGITS.fullmatch(stamp) is None or int(stamp) > MAX_EPOCH:
        return Epoch(FALLBACK_EPOCH, "fixed fallback (no commit touches the deck yet)")
    return Epoch(int(stamp), "last commit touching the deck")
