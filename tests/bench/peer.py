"""The peer: ankdown 0.7.1 from PyPI, run on the benchmark's notes converted to ankdown's own format.

ankdown reads every `.md` file under a folder. In a file, a line that is `%` alone separates the fields of
a card (front, back, then a third field ankdown calls Tags: copied raw, not rendered and not Anki tags) and
a line that is `---` alone ends the card; the deck is the name of the folder the file is in. Fields are
Markdown rendered by misaka (fenced code and math only) and, with `--highlight`, code goes through Pygments.

The conversion (`convert_file`, a pure function of one note file of ours):

- front = the note's heading text, back = its body, unchanged Markdown; third field = the file's and the
  note's tags, space-separated, as ankdown's own README writes them;
- a cloze deletion `{{c1::answer::hint}}` becomes its plain answer: ankdown has no cloze notetype, so a
  cloze note is one basic card whose back is the whole text;
- a reverse note is one card: ankdown's one notetype has no reverse template;
- a file's `deck:` subdeck becomes the folder `<deck name>::<subdeck>`, so ankdown files the cards under
  the same subdecks as the builder.

What ankdown does not do, so the builder does more on the same notes: it renders no tables (misaka's table
extension is off in ankdown, so a table stays a paragraph of pipes), writes one card per note (the builder
writes 2 for a reverse note and one per deletion for a cloze, 1.5 cards per note over this corpus), checks and
lints nothing, and keeps no note ids (its GUIDs are file name + position). It is run with `--highlight`, so
code is highlighted with Pygments as the builder does.
"""

from __future__ import annotations

import re
import sqlite3
import sysconfig
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path

import yaml

from tests.bench.measure import Run, run

#: What `nox -s bench` installs (pinned with misaka, houdini.py and docopt in constraints.txt).
VERSION = "0.7.1"
#: ankdown's separators: alone on a line, after stripping whitespace.
_SEPARATORS = {"%", "---"}
_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}")
_FENCE = re.compile(r"^(```|~~~)")


def _front_matter(text: str) -> tuple[dict[str, object], str]:
    if not text.startswith("---\n"):
        return {}, text
    head, _, rest = text[4:].partition("\n---\n")
    return yaml.safe_load(head) or {}, rest


def _tags(meta: dict[str, object]) -> list[str]:
    tags = meta.get("tags") or []
    assert isinstance(tags, list)
    return [str(tag) for tag in tags]


def _notes(body: str) -> list[tuple[str, dict[str, object], str]]:
    """(heading, metadata, body) of every level-2 heading; fences are skipped over, level-1 headings dropped."""
    notes: list[tuple[str, dict[str, object], list[str]]] = []
    fenced = False
    lines = iter(body.splitlines())
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            comment = next(lines)
            assert comment.startswith("<!--"), f"the note {line!r} has no id comment"
            while "-->" not in comment:
                comment += "\n" + next(lines)
            meta = yaml.safe_load(comment.removeprefix("<!--").partition("-->")[0].strip())
            notes.append((line[3:].strip(), meta, []))
        elif notes:
            notes[-1][2].append(line)
        elif line.strip() and not line.startswith("# "):
            raise ValueError(f"text before the first note: {line!r}")
    return [(heading, meta, "\n".join(body).strip()) for heading, meta, body in notes]


def _field(text: str) -> str:
    for line in text.splitlines():
        if line.strip() in _SEPARATORS:
            raise ValueError(f"{line!r} alone on a line would split an ankdown card")
    return text


def convert_file(text: str, deck: str) -> tuple[str, str]:
    """One note file of ours and its deck's name → (ankdown's deck, i.e. folder, name; the ankdown file)."""
    file_meta, body = _front_matter(text)
    subdeck = file_meta.get("deck")
    folder = f"{deck}::{subdeck}" if subdeck else deck
    cards = []
    for heading, meta, answer in _notes(body):
        tags = " ".join(_tags(file_meta) + _tags(meta))
        back = _CLOZE.sub(r"\1", answer)
        cards.append(f"{_field(heading)}\n\n%\n\n{_field(back)}\n\n%\n\n{_field(tags)}\n")
    return folder, "\n---\n\n".join(cards)


def write_peer_corpus(deck_folder: Path, out: Path) -> int:
    """Convert every note file of our deck folder into ankdown files under `out`; return the note count."""
    deck = tomllib.loads((deck_folder / "deck.toml").read_text(encoding="utf-8"))["name"]
    notes = 0
    for path in sorted(deck_folder.rglob("*.md")):
        folder, text = convert_file(path.read_text(encoding="utf-8"), deck)
        (out / folder).mkdir(parents=True, exist_ok=True)
        (out / folder / path.name).write_text(text, encoding="utf-8")
        # Two field separators per card, and no field holds one (`_field` makes sure).
        notes += text.count("\n%\n") // 2
    return notes


def command(folder: Path, package: Path) -> list[str]:
    """ankdown's own command line, as its README runs it, from this environment's scripts."""
    script = Path(sysconfig.get_path("scripts")) / "ankdown"
    try:
        installed = metadata.version("ankdown")
    except metadata.PackageNotFoundError:
        installed = None
    if installed != VERSION or not script.is_file():
        raise RuntimeError(
            f"the peer, ankdown {VERSION}, is not installed in this environment (found {installed or 'none'}, "
            f"script {script}): run the benchmark with `nox -s bench`, which installs it"
        )
    return [str(script), "-r", str(folder), "-p", str(package), "--highlight"]


def note_count(package: Path) -> int:
    """The notes in an .apkg: the peer's run counts only if it wrote every note."""
    with zipfile.ZipFile(package) as archive, tempfile.TemporaryDirectory() as tmp:
        database = Path(archive.extract("collection.anki2", tmp))
        connection = sqlite3.connect(database)
        try:
            (count,) = connection.execute("SELECT count(*) FROM notes").fetchone()
        finally:
            connection.close()
    return int(count)


def peer_runner(root: Path, env: Mapping[str, str], slug: str = "bench") -> Callable[[], Run]:
    """Convert the deck under `root/source/<slug>` once; return a function that runs ankdown on it, as a whole
    process producing its .apkg, and fails loudly unless the package holds every note."""
    folder, package = root / "peer", root / "peer.apkg"
    written = write_peer_corpus(root / "source" / slug, folder)
    argv = command(folder, package)

    def once() -> Run:
        package.unlink(missing_ok=True)
        result = run(argv, env, root)
        found = note_count(package)
        if found != written:
            raise RuntimeError(f"ankdown wrote {found} notes of {written} into {package}")
        return result

    return once
