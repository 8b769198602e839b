"""Build options: what the command line (or a test) asks of a build, in one frozen value."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from builder.timing import Timer


def available_cores() -> int:
    """Cores this process may run on (a container's or taskset's limit, not the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Options:
    source: Path = Path("source")
    media: Path = Path("media")
    out: Path = Path("dist")
    #: Linter warnings count as errors.
    strict: bool = False
    #: Keep compiled note files and rendered diagrams in $BUILDER_CACHE_DIR (default .cache/builder).
    use_cache: bool = True
    #: Seconds a single diagram may take before the build stops it.
    diagram_timeout: float = 60.0
    #: Processes that compile note files and render diagrams.
    jobs: int = field(default_factory=available_cores)
    #: Collects wall time per stage; `--timings FILE` writes it out.
    timer: Timer = field(default_factory=Timer, compare=False)
