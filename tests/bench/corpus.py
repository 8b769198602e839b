"""Synthetic decks in our own format: a note count → a source folder of files with about 100 notes each.

The corpus is a pure function of the note count (no randomness), so every run measures the same input.
It mixes what real decks hold: basic, reverse and cloze notes; tables, fenced code, lists, emphasis, inline
code. Answers stay short so the linter stays quiet, as on a deck authors keep clean.
"""

from __future__ import annotations

from pathlib import Path

NOTES_PER_FILE = 100
DECK_ID = 1733059299001

_TOPICS = (
    "storage", "compute", "networking", "security", "databases", "analytics", "machine-learning",
    "monitoring", "messaging", "identity", "containers", "serverless",
)  # fmt: skip
_WORDS = (
    "bucket", "instance", "endpoint", "policy", "role", "table", "stream", "queue", "topic", "cluster",
    "function", "layer", "model", "index", "region", "zone", "snapshot", "gateway", "pipeline", "registry",
)  # fmt: skip
_LANGS = ("python", "json", "bash", "yaml", "sql")
_CODE = {
    "python": 'def handler(event, context):\n    items = sorted(event["{w}s"])\n    return {{"count": len(items)}}',
    "json": '{{\n  "Effect": "Allow",\n  "Action": "{w}:Get*",\n  "Resource": "*"\n}}',
    "bash": "aws {w} list --region eu-west-1 \\\n  --output table | grep -c active",
    "yaml": "Resources:\n  My{W}:\n    Type: AWS::{W}\n    Properties:\n      Name: demo",
    "sql": "SELECT id, name\nFROM {w}s\nWHERE created > now() - interval '7 days'\nORDER BY name;",
}


def _word(i: int, salt: int = 0) -> str:
    return _WORDS[(i * 7 + salt * 13) % len(_WORDS)]


def _basic(i: int) -> str:
    w, v = _word(i), _word(i, 1)
    shape = i % 5
    if shape == 0:
        body = f"It groups related `{v}` resources so one *policy* covers them **all** (note {i})."
    elif shape == 1:
        body = f"Three facts about {w} {i}:\n\n- it is regional\n- it scales with `{v}` count\n- it is billed hourly"
    elif shape == 2:
        lang = _LANGS[i % len(_LANGS)]
        code = _CODE[lang].format(w=w, W=w.capitalize())
        body = f"```{lang}\n{code}\n```\n\nRuns once per {v} ({i})."
    elif shape == 3:
        body = f"| Option | Use |\n|---|---|\n| `{w}-{i}` | small {v}s |\n| `{v}-{i}` | large {w}s |"
    else:
        body = f"1. Create the {w}\n2. Attach the {v}\n3. Verify with `describe-{w} {i}`"
    return f"## What does the {w} {i} do with a {v}?\n<!-- id: n{i:06d} -->\n\n{body}\n"


def _reverse(i: int) -> str:
    w, v = _word(i, 2), _word(i, 3)
    return (
        f"## {w.capitalize()} {v} {i}\n<!-- id: n{i:06d}\ntype: reverse\ntags: [kind::term] -->\n\n"
        f"The {w} that keeps one `{v}` per account, identified by number {i}.\n"
    )


def _cloze(i: int) -> str:
    w, v = _word(i, 4), _word(i, 5)
    if i % 2:
        body = (
            f"| Service | Job |\n|---|---|\n| {{{{c1::{w.capitalize()} {i}}}}} | stores data |\n"
            f"| {{{{c2::{v.capitalize()}::hint}}}} | serves requests |"
        )
    else:
        body = f"- {{{{c1::{w}}}}} comes first\n- then the {{{{c2::{v}}}}}\n- then *review* ({i})"
    # The title names neither deletion, or it would give the cards' answers away (linter rule L012).
    return f"## Which two resources, in order ({i})\n<!-- id: n{i:06d} -->\n\n{body}\n"


_KINDS = (_basic, _basic, _basic, _basic, _basic, _reverse, _reverse, _cloze, _cloze, _cloze)


def note(i: int) -> str:
    """The Markdown of note number `i`: half basic, a fifth reverse, three tenths cloze."""
    return _KINDS[i % len(_KINDS)](i)


def file_text(index: int, first: int, last: int) -> str:
    topic = _TOPICS[index % len(_TOPICS)]
    header = f"---\ndeck: {topic.capitalize()}\ntags: [topic::{topic}]\n---\n\n# File {index}\n\n"
    return header + "\n".join(note(i) for i in range(first, last))


def start_deck(root: Path, slug: str, name: str, description: str, deck_id: int = DECK_ID) -> Path:
    """`root/source/<slug>/` with its deck.toml, and an empty `root/media/`; returns the deck folder."""
    deck = root / "source" / slug
    deck.mkdir(parents=True, exist_ok=True)
    (root / "media").mkdir(exist_ok=True)
    (deck / "deck.toml").write_text(
        f'name = "{name}"\nid = {deck_id}\nversion = "1.0.0"\ndescription = "{description}"\n', encoding="utf-8"
    )
    return deck


def write_corpus(root: Path, notes: int, slug: str = "bench") -> Path:
    """Write `root/source/<slug>/` with `notes` notes and an empty `root/media/`; return `root`."""
    deck = start_deck(root, slug, f"Bench {notes}", "Synthetic benchmark deck.")
    for index, first in enumerate(range(0, notes, NOTES_PER_FILE)):
        last = min(first + NOTES_PER_FILE, notes)
        (deck / f"part-{index:04d}.md").write_text(file_text(index, first, last), encoding="utf-8")
    return root


def touch_one_file(root: Path, slug: str = "bench") -> Path:
    """The 'small edit' rebuild: change one answer in the middle file, as an author would."""
    files = sorted((root / "source" / slug).glob("part-*.md"))
    target = files[len(files) // 2]
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("groups related", "gathers related", 1), encoding="utf-8")
    return target
