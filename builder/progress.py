"""Progress: a count of finished items → a one-line bar on a terminal, nothing in CI logs or pipes."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

#: Below this many items a build is quick enough that a bar would only flicker.
MIN_ITEMS = 200


def interactive(stream: TextIO) -> bool:
    """A person is watching: a terminal, and not a CI job (which sets CI=true)."""
    return stream.isatty() and os.environ.get("CI", "").lower() not in ("1", "true", "yes")


class Progress:
    """`with Progress("rendering", n) as bar: bar.advance()`: redraws at most ten times a second."""

    def __init__(
        self,
        label: str,
        total: int,
        stream: TextIO | None = None,
        *,
        enabled: bool | None = None,
        min_items: int = MIN_ITEMS,
        keep: bool = False,
    ) -> None:
        """`enabled` overrides the terminal check; `keep` leaves the finished bar on screen instead of clearing it."""
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        wanted = interactive(self.stream) if enabled is None else enabled
        self.enabled = wanted and total >= min_items
        self.keep = keep
        self._drawn = 0.0

    def __enter__(self) -> Progress:
        return self

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._drawn >= 0.1 or self.done >= self.total:
            self._drawn = now
            width = 30
            filled = width * self.done // max(1, self.total)
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r{self.label:<10} [{bar}] {self.done}/{self.total}")
            self.stream.flush()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            # Either keep the finished bar, or clear the line so diagnostics start on a clean one.
            self.stream.write("\n" if self.keep else "\r" + " " * 60 + "\r")
            self.stream.flush()
