"""What the runner asks the driver add-on to do, and the window sizes and modes every shot is taken in.

The runner writes a `Job` as JSON into the throwaway base folder; the add-on inside Anki reads it (its path is
in `$DECKFORGE_SCREENSHOT_JOB`), takes the shots and writes its raw measurements beside it (`raw.json`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

#: Environment variable naming the job file; the add-on does nothing without it.
JOB_ENV = "DECKFORGE_SCREENSHOT_JOB"


@dataclass(frozen=True)
class Size:
    name: str
    width: int
    height: int


#: Main-window sizes: a laptop-sized desktop window, and a phone-like portrait one (AnkiDroid's card width).
SIZES: tuple[Size, ...] = (Size("desktop", 1280, 900), Size("phone", 400, 800))
#: Anki's two themes, as the file names and facts call them.
MODES: tuple[str, ...] = ("light", "night")
SIDES: tuple[str, ...] = ("question", "answer")


@dataclass(frozen=True)
class Job:
    packages: tuple[str, ...]
    out_dir: str
    raw_path: str
    #: Notes to shoot besides the automatic choice (note ids or stable ids; first card, both sides).
    extra_notes: tuple[str, ...] = ()
    modes: tuple[str, ...] = MODES
    sizes: tuple[Size, ...] = SIZES
    #: Milliseconds a card may take to render before the shot counts as failed.
    render_timeout_ms: int = 15_000
    #: Extra settle time after the page reports it is ready, for the compositor to paint the last frame.
    settle_ms: int = 120
    kinds: tuple[str, ...] = field(default=())  # empty: every kind in plan.KINDS

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True), encoding="utf-8")

    @staticmethod
    def read(path: Path) -> Job:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Job(
            packages=tuple(data["packages"]),
            out_dir=data["out_dir"],
            raw_path=data["raw_path"],
            extra_notes=tuple(str(n) for n in data["extra_notes"]),
            modes=tuple(data["modes"]),
            sizes=tuple(Size(**s) for s in data["sizes"]),
            render_timeout_ms=int(data["render_timeout_ms"]),
            settle_ms=int(data["settle_ms"]),
            kinds=tuple(data["kinds"]),
        )


def shot_name(mode: str, size: str, label: str, side: str | None) -> str:
    """A shot's file stem: `night-phone-diagram-d2-answer`, `light-desktop-deck-list`."""
    return "-".join(part for part in (mode, size, label, side) if part)
