"""The parser alone: markdown-it-py with the builder's rules and dispatch, on every core, nothing else.

`python -m tests.bench.parseonly SOURCE_DECK` parses every note file of the deck (token streams only: no
validation, rendering, linting or packaging) split over one forked process per core, as the builder's compile
stage splits files. The benchmark times it as a whole process next to the cold build and the peer: since
markdown-it-py stays the parser, no build of these notes can finish in less time than this.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from builder.markdown import parser


def parse_all(deck_folder: Path) -> int:
    """Parse every file, this process taking every `cores`-th file and a forked child each of the others."""
    files = sorted(deck_folder.rglob("*.md"))
    md = parser()
    cores = os.cpu_count() or 1
    children = []
    for share in range(1, min(cores, len(files))):
        pid = os.fork()
        if pid == 0:
            for path in files[share::cores]:
                md.parse(path.read_text(encoding="utf-8"), {})
            os._exit(0)
        children.append(pid)
    for path in files[0::cores]:
        md.parse(path.read_text(encoding="utf-8"), {})
    failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(parse_all(Path(sys.argv[1])))
