"""Stage timing: `with timer.stage("compile"):` blocks → wall seconds per stage, for `--timings FILE`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Timer:
    #: Seconds per stage, in the order the stages first ran.
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def to_json(self) -> str:
        return json.dumps({name: round(value, 6) for name, value in self.seconds.items()}, indent=2) + "\n"
