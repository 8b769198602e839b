"""Hardening (issue 15, classes 5-8): hostile content stays out of Anki, Anki keeps what we named, edits reach
learners, and outputs are reproducible and replaced all together. Each reproduction of the fuzzing campaign
is a fixture under fixtures/hardening/ and ends in exit 0 with its content intact or a located error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cachefiles import read_entry, write_entry
from builder.diagnostics import Diagnostics
from builder.figures import Figures
from builder.fixids import fix_ids
from builder.media import MediaLibrary
from builder.models import Deck, DeckConfig, NoteKind, NoteSpec
from builder.outputs import STAGING_PREFIX, staged_outputs
from builder.package import write_apkg
from builder.parse import parse_file
from builder.render import finish_note, render_fields
from builder.source import SourceFile
from tests.anki_decks import png
from tests.conftest import EPOCH, FIXTURES, REPO, build_deck, import_package

CASES = FIXTURES / "hardening"
_LINE = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning)\[(?P<code>[A-Z]\d{3})\]: \S")


def _case(tmp_path: Path, name: str) -> Path:
    work = tmp_path / name
    shutil.copytree(CASES / name, work)
    (work / "media").mkdir(exist_ok=True)
    return work


def _run(work: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": EPOCH, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "builder", *args], cwd=work, env=full, capture_output=True, text=True, check=False
    )


def _diagnostics(stderr: str) -> set[tuple[str, int, int, str]]:
    """(path, line, col, code) of every diagnostic line; every line that is not one is a snippet or the summary."""
    found = set()
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match:
            found.add((match["path"], int(match["line"]), int(match["col"]), match["code"]))
    assert "Traceback" not in stderr
    return found


def _fields(collection: Collection) -> list[str]:
    return [field for nid in collection.find_notes("") for field in collection.get_note(nid).fields]


# -- class 5: script in the learner's Anki -------------------------------------------------------------------

#: Every vector of reproduction 08a and of OWASP's XSS filter evasion cheat sheet that an Anki field could carry.
HOSTILE = [
    '<p><img src="x.png"/onerror="alert(1)"></p>',
    "<div>\n<svg/onload=alert(2)>\n</div>",
    'Click <a href="jav&#x61;script:alert(3)">here</a>.',
    'Click <a href="javascript&colon;alert(4)">here</a>.',
    'Click <a href="java\nscript:alert(5)">here</a>.',
    '<iframe srcdoc="&lt;script&gt;alert(6)&lt;/script&gt;"></iframe>',
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg=="></object>',
    "<script>alert(8)</script>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<base href="https://evil.example/">',
    '<span style="width: expression(alert(11))">css expression</span>',
    '<span style="background: url(https://evil.example/t.png)">css url</span>',
    '<span style="background: \\75 rl(https://evil.example/t2.png)">escaped css url</span>',
    '<svg><use href="https://evil.example/s.svg#x"/></svg>',
    '<svg><a><animate attributeName="href" to="javascript:alert(15)"/><text>t</text></a></svg>',
    '<svg><a xlink:href="javascript:alert(16)"><text>x</text></a></svg>',
    '<a href="data:text/html,&lt;script&gt;alert(17)&lt;/script&gt;">data link</a>',
    '<img src="https://evil.example/track.png">',
    '<embed src="https://evil.example/e.swf">',
    '<form action="https://evil.example/"><input name="q"></form>',
    '<link rel="stylesheet" href="https://evil.example/s.css">',
    '<style>@import "https://evil.example/i.css";</style>',
    '<img src="../outside.png">',
    '<a href="vbscript:msgbox(23)">vb</a>',
    '<div onmouseover="alert(24)">hover</div>',
    '<body onload="alert(25)">',
    '<iframe src="evil.svg"></iframe>',
    '<img src="evil.svg">',
]
PROSE = (
    "An `onerror=` attribute and a javascript: URL run script; <code>&lt;script&gt;</code> is a tag, "
    "and so is <b>bold</b>. style=x onload=y"
)
_BAD = re.compile(
    r"<script|onerror|onload|onmouseover|javascript|vbscript|srcdoc|<iframe|<object|<embed|<meta|<base|<form|"
    r"<link|<style|<svg|<animate|expression\(|url\(|data:text|evil\.example|outside\.png",
    re.IGNORECASE,
)
EVIL_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)"><script>alert(2)</script>'
    '<image href="https://evil.example/t.png"/><rect width="5" height="5"/></svg>'
)


def _hostile_deck(root: Path) -> Path:
    deck = root / "source" / "hostile"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text('name = "Hostile"\nid = 1733059299001\nversion = "1.0.0"\n')
    notes = [f"## What is vector {i}?\n<!-- id: vector-{i:02d} -->\n\n{html}\n" for i, html in enumerate(HOSTILE)]
    notes.append(f"## What does prose say?\n<!-- id: harmless-prose -->\n\n{PROSE}\n")
    (deck / "notes.md").write_text("\n".join(notes))
    media = root / "media"
    media.mkdir()
    (media / "evil.svg").write_text(EVIL_SVG)
    (root / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n secret")
    return deck / "notes.md"


def test_every_script_vector_is_an_error_where_it_is_written(tmp_path: Path) -> None:
    notes = _hostile_deck(tmp_path)
    result = _run(tmp_path, "build", "--no-cache")
    assert result.returncode == 1
    found = _diagnostics(result.stderr)
    text = notes.read_text().splitlines()
    for index, html in enumerate(HOSTILE):
        first = html.split("\n")[0]
        line = next(n for n, t in enumerate(text, 1) if t == first and text[n - 4] == f"## What is vector {index}?")
        span = range(line, line + html.count("\n") + 1)
        codes = {code for path, at, _, code in found if path.endswith("notes.md") and at in span}
        assert codes & {"E060", "E061", "E062", "E071", "E072", "E073", "E074", "E075"}, (index, html, codes)
    assert not (tmp_path / "dist").exists(), "nothing may be written when a note cannot ship"


def test_prose_about_scripts_reaches_the_card(tmp_path: Path, collection: Collection) -> None:
    deck = tmp_path / "source" / "prose"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text('name = "Prose"\nid = 1733059299002\nversion = "1.0.0"\n')
    (deck / "notes.md").write_text(f"## What does prose say?\n<!-- id: harmless-prose -->\n\n{PROSE}\n")
    (tmp_path / "media").mkdir()
    result = _run(tmp_path, "build", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    import_package(collection, tmp_path / "dist" / "prose-1.0.0.apkg")
    (back,) = [f for f in _fields(collection) if "onerror" in f]
    for words in ("<code>onerror=</code>", "javascript: URL", "<code>&lt;script&gt;</code>", "<b>bold</b>", "onload=y"):
        assert words in back


def test_the_sanitiser_alone_keeps_every_vector_out_of_anki(tmp_path: Path, collection: Collection) -> None:
    """Defence in depth: the fields rendered without validation, packaged and imported, carry nothing active."""
    notes = _hostile_deck(tmp_path)
    source = SourceFile.from_text("notes.md", notes.read_text())
    library = MediaLibrary(tmp_path / "media")
    config = DeckConfig(name="Hostile", id=1733059299001, version="1.0.0")
    rendered, media = [], {}
    for index, raw in enumerate(parse_file(source).notes):
        spec = NoteSpec(
            note_id=f"note-{index:02d}", kind=NoteKind.BASIC, subdeck=None, tags=(), location=raw.source.location(0),
            cloze_numbers=(), lint_ignore=(), note_index=index,
        )  # fmt: skip
        fields = render_fields(raw, NoteKind.BASIC, library, Figures())
        media.update((m.name, m) for m in fields.media)
        rendered.append(finish_note(spec, fields, config.id, config.name))
    deck = Deck(slug="hostile", config=config, notes=tuple(rendered), media=tuple(media.values()))
    apkg = tmp_path / "hostile.apkg"
    write_apkg(deck, apkg, int(EPOCH), {}, {})
    import_package(collection, apkg)
    fields = _fields(collection)
    assert len(fields) == sum(len(note.fields) for note in rendered)
    for field in fields:
        if "onerror=</code>" in field:
            continue  # the harmless prose note, checked below
        assert not _BAD.search(field), field
    assert any(PROSE.split(";")[0].replace("`onerror=`", "<code>onerror=</code>") in f for f in fields)
    media_dir = Path(collection.media.dir())
    for file in media_dir.iterdir():
        assert b"script" not in file.read_bytes() and b"evil" not in file.read_bytes()


def test_reproduction_08a_every_bypass_is_reported(tmp_path: Path) -> None:
    work = _case(tmp_path, "08a-e070-bypasses")
    result = _run(work, "build", "--source", "source", "--media", "media", "--out", "dist")
    assert result.returncode == 1
    found = {(line, col, code) for _, line, col, code in _diagnostics(result.stderr)}
    expected = {(4, 17, "E072"), (10, 1, "E071"), (16, 10, "E073"), (21, 10, "E073"), (26, 10, "E073")}
    assert expected <= found
    assert {(32, 1, "E071"), (37, 1, "E071")} <= found
    assert not (work / "dist").exists()


def test_reproduction_09_media_svg_with_script_is_refused(tmp_path: Path) -> None:
    work = _case(tmp_path, "09-media-svg-not-sanitised")
    result = _run(work, "build", "--source", "source", "--media", "media", "--out", "dist")
    assert result.returncode == 1
    found = {(line, col, code) for _, line, col, code in _diagnostics(result.stderr)}
    assert found == {(4, 6, "E071"), (9, 1, "E071")}


def test_a_clean_media_svg_ships_sanitised(tmp_path: Path, collection: Collection) -> None:
    work = _case(tmp_path, "09-media-svg-not-sanitised")
    (work / "media" / "evil.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><!-- editor note -->'
        '<rect width="5" height="5" fill="red"/></svg>'
    )
    (work / "source" / "fuzz" / "a.md").write_text("## What is X?\n<!-- id: x-one -->\n\n![x](evil.svg)\n")
    result = _run(work, "build", "--source", "source", "--media", "media", "--out", "dist")
    assert result.returncode == 0, result.stderr
    import_package(collection, work / "dist" / "fuzz-1.0.0.apkg")
    (name,) = [p.name for p in Path(collection.media.dir()).iterdir()]
    svg = (Path(collection.media.dir()) / name).read_text()
    assert 'fill="red"' in svg and "editor note" not in svg
    assert any(f'src="{name}"' in field for field in _fields(collection))


def test_reproduction_10_symlinks_out_of_media_are_refused(tmp_path: Path) -> None:
    work = _case(tmp_path, "10-media-symlink-escapes")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "hostname.png").write_bytes(b"secret")
    (work / "media" / "evil.png").symlink_to("/etc/passwd")
    (work / "media" / "up").symlink_to(outside)
    result = _run(work, "build", "--source", "source", "--media", "media", "--out", "dist")
    assert result.returncode == 1
    found = {(line, col, code) for _, line, col, code in _diagnostics(result.stderr)}
    assert found == {(4, 6, "E061"), (9, 6, "E061")}


def test_reproduction_26_diagram_includes_are_refused_without_probing(tmp_path: Path) -> None:
    work = _case(tmp_path, "26-d2-import-reads-local-files")
    secret = tmp_path / "secret.d2"
    secret.write_text('leak: "SECRET-CONTENT-123"\n')
    notes = work / "source" / "fuzz" / "a.md"
    outputs = []
    for target in (secret.with_suffix(""), tmp_path / "missing"):
        notes.write_text(f"## What is X?\n<!-- id: x-one -->\n\n```d2\n...@{target}\n```\n")
        result = _run(work, "build", "--source", "source", "--media", "media", "--out", "dist", "--no-cache")
        assert result.returncode == 1
        assert {(line, code) for _, line, _, code in _diagnostics(result.stderr)} == {(5, "E134")}
        assert "SECRET" not in result.stderr
        outputs.append(result.stderr.replace(str(target), "PATH"))
    assert outputs[0] == outputs[1], "the message must not tell whether the path exists"


@pytest.mark.parametrize(
    ("fence", "line"),
    [
        ('```dot\ndigraph G { a [image="/etc/hostname"]; }\n```', 5),
        ('```dot\ndigraph G { a [label=<<IMG SRC="/etc/hostname"/>>]; }\n```', 5),
        ("```plantuml\n@startuml\n!include /etc/hostname\nA -> B\n@enduml\n```", 6),
        ("```d2\nx: @secret\n```", 5),
    ],
)
def test_every_engine_include_is_refused(tmp_path: Path, fence: str, line: int) -> None:
    work = _case(tmp_path, "26-d2-import-reads-local-files")
    (work / "source" / "fuzz" / "a.md").write_text(f"## What is X?\n<!-- id: x-one -->\n\n{fence}\n")
    result = _run(work, "check", "--source", "source", "--media", "media", "--no-cache")
    assert result.returncode == 1
    assert {(at, code) for _, at, _, code in _diagnostics(result.stderr)} == {(line, "E134")}


@pytest.mark.parametrize(
    ("fence", "line", "col"),
    [
        ("```d2\nc: Secret {shape: image; icon: {target}}\n```", 5, 26),
        ("```d2\nc: {shape: image\nicon: ../{name}}\n```", 6, 1),
        ("```d2\nc.ic\\on: {target}\n```", 5, 3),
        ('```d2\nx: @"{target}"\n```', 5, 4),
        ("```d2\n...@'{target}'\n```", 5, 1),
        ('```d2\na: |`x | y`|\nb: @ "{target}"\n```', 6, 4),
        ('```dot\ndigraph G {\n  a [label="", "image"="{target}"];\n}\n```', 6, 16),
        ('```dot\ndigraph G {\n  a [label="", image/**/="{target}"];\n}\n```', 6, 16),
        ('```dot\ndigraph G {\n  a [label="", "im" + "age"\n  = "{target}"];\n}\n```', 6, 16),
        ('```dot\ndigraph G {\n  a [label=<<table><tr><td>< img src="{target}"/></td></tr></table>>];\n}\n```', 6, 28),
    ],
)
def test_diagram_file_reads_hidden_by_quoting_are_refused_without_probing(
    tmp_path: Path, fence: str, line: int, col: int
) -> None:
    work = _case(tmp_path, "26-d2-import-reads-local-files")
    # A real PNG, which D2 would embed into the SVG and Graphviz would size the node by.
    (tmp_path / "secret.png").write_bytes(png(7, 5, (200, 0, 0)))
    notes = work / "source" / "fuzz" / "a.md"
    outputs = []
    for name in ("secret.png", "missing.png"):
        # Relative paths resolve from the build's working directory, `work`.
        text = fence.replace("{target}", str(tmp_path / name)).replace("{name}", name)
        notes.write_text(f"## What is X?\n<!-- id: x-one -->\n\n{text}\n")
        result = _run(work, "build", "--source", "source", "--media", "media", "--out", "dist", "--no-cache")
        assert result.returncode == 1, result.stderr
        assert _diagnostics(result.stderr) == {("source/fuzz/a.md", line, col, "E134")}
        assert not (work / "dist").exists()
        outputs.append(result.stderr.replace(str(tmp_path / name), "PATH").replace(name, "NAME"))
    assert outputs[0] == outputs[1], "the message must not tell whether the path exists"


# -- class 6: Anki rewrites what we named ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "id = true", 'id = "5"', "id = 5.0", "id = 1", "id = 9007199254740993", 'name = "Default"',
        'name = "default::Sub"', 'name = "A::::B"', 'name = "A :: B"', 'name = "A\\u0007B"', 'name = " A"',
        'name = "A:::B"', 'name = "A::"',
    ],
)  # fmt: skip
def test_reproduction_16_ids_and_names_anki_would_rewrite_are_refused(tmp_path: Path, line: str) -> None:
    work = _case(tmp_path, "16-deck-id-1-is-anki-default")
    toml = {"name": 'name = "Fuzz"', "id": "id = 42", "version": 'version = "1.0.0"'}
    toml[line.split()[0]] = line
    (work / "source" / "fuzz" / "deck.toml").write_text("\n".join(toml.values()) + "\n")
    result = _run(work, "build", "--source", "source", "--media", "media", "--out", "dist")
    assert result.returncode == 1
    row = list(toml).index(line.split()[0]) + 1
    assert {(path, at, code) for path, at, _, code in _diagnostics(result.stderr)} == {
        ("source/fuzz/deck.toml", row, "E013")
    }


@pytest.mark.parametrize("subdeck", ["A::::B", "A :: B", "::A", "A\tB"])
def test_subdeck_paths_anki_would_rewrite_are_refused(tmp_path: Path, subdeck: str) -> None:
    work = _case(tmp_path, "16-deck-id-1-is-anki-default")
    (work / "source" / "fuzz" / "deck.toml").write_text('name = "Fuzz"\nid = 42\nversion = "1.0.0"\n')
    (work / "source" / "fuzz" / "a.md").write_text(
        f"---\ndeck: {json.dumps(subdeck)}\n---\n## What is X?\n<!-- id: x-one -->\n\nAnswer.\n"
    )
    result = _run(work, "check", "--source", "source", "--media", "media")
    assert result.returncode == 1
    assert {code for *_, code in _diagnostics(result.stderr)} == {"E022"}


def test_accepted_names_arrive_as_named(tmp_path: Path, collection: Collection) -> None:
    work = _case(tmp_path, "16-deck-id-1-is-anki-default")
    (work / "source" / "fuzz" / "deck.toml").write_text('name = "Fuzz Deck::Part 1"\nid = 42\nversion = "1.0.0"\n')
    (work / "source" / "fuzz" / "a.md").write_text(
        "---\ndeck: Sub deck\n---\n## What is X?\n<!-- id: x-one -->\n\nA.\n"
    )
    result = _run(work, "build", "--source", "source", "--media", "media", "--out", "dist")
    assert result.returncode == 0, result.stderr
    import_package(collection, work / "dist" / "fuzz-1.0.0.apkg")
    (card,) = collection.find_cards("")
    assert collection.decks.name(collection.get_card(card).did) == "Fuzz Deck::Part 1::Sub deck"


def _decks(root: Path, decks: dict[str, tuple[str, dict[str, str | None]]]) -> None:
    """Deck folders by slug: each with its deck.toml name and its note files' `deck:` (None for none)."""
    for number, (slug, (name, files)) in enumerate(sorted(decks.items()), 42):
        folder = root / "source" / slug
        folder.mkdir(parents=True)
        (folder / "deck.toml").write_text(f'name = "{name}"\nid = {number}\nversion = "1.0.0"\n', encoding="utf-8")
        for file, subdeck in files.items():
            front = f"---\ndeck: {subdeck}\n---\n" if subdeck is not None else ""
            note = f"## What is {file}?\n<!-- id: {slug}-{file} -->\n\nAnswer.\n"
            (folder / f"{file}.md").write_text(front + note, encoding="utf-8")
    (root / "media").mkdir()


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        ("Sub", "SUB", "differ only in case"),
        ("Caf\u00e9", "Cafe\u0301", "differ only in how an accented letter is encoded"),
        ("sub::Part", "Sub", "differ only in case"),
    ],
)
def test_subdecks_one_to_anki_are_refused(tmp_path: Path, first: str, second: str, why: str) -> None:
    _decks(tmp_path, {"d": ("Fuzz", {"a": first, "b": second})})
    result = _run(tmp_path, "build", "--no-cache")
    assert result.returncode == 1
    assert _diagnostics(result.stderr) == {("source/d/b.md", 2, 7, "E022")}
    assert f"error[E022]: `deck: {second}` makes deck `Fuzz::{second}`, which Anki takes for the deck" in result.stderr
    assert f"made by `deck: {first}` in source/d/a.md:2:7: the names {why}" in result.stderr
    assert not (tmp_path / "dist").exists()


def test_deck_names_one_to_anki_are_refused(tmp_path: Path) -> None:
    _decks(tmp_path, {"d": ("Fuzz", {"a": None}), "e": ("FUZZ", {"b": None})})
    result = _run(tmp_path, "check", "--no-cache")
    assert result.returncode == 1
    assert _diagnostics(result.stderr) == {("source/e/deck.toml", 1, 8, "E013")}
    assert "the name makes deck `FUZZ`, which Anki takes for the deck `Fuzz` named in source/d/deck.toml:1:8" in (
        result.stderr
    )


def test_a_deck_name_equal_to_another_decks_subdeck_is_refused(tmp_path: Path) -> None:
    _decks(tmp_path, {"d": ("Fuzz", {"a": "Sub"}), "e": ("Fuzz::SUB", {"b": "Part"}), "f": ("Fuzz", {"c": None})})
    result = _run(tmp_path, "check", "--no-cache")
    assert result.returncode == 1
    assert _diagnostics(result.stderr) == {("source/e/deck.toml", 1, 8, "E013"), ("source/f/deck.toml", 1, 8, "E013")}
    assert "deck `Fuzz::SUB`, which Anki takes for the deck `Fuzz::Sub` made by `deck: Sub` in source/d/a.md:2:7" in (
        result.stderr
    )
    assert "deck `Fuzz`, which is also the deck `Fuzz` named in source/d/deck.toml:1:8" in result.stderr


def test_decks_may_share_the_levels_above_them(tmp_path: Path, collection: Collection) -> None:
    _decks(
        tmp_path,
        {
            "es": ("Languages::Spanish", {"a": None, "b": "Verbs", "c": "Verbs::Irregular"}),
            "fr": ("Languages::French", {"a": "Verbs"}),
            "top": ("Languages", {"a": None}),
        },
    )
    result = _run(tmp_path, "build", "--no-cache")
    assert result.returncode == 0, result.stderr
    for package in sorted((tmp_path / "dist").glob("*.apkg")):
        import_package(collection, package)
    names = sorted(collection.decks.name(collection.get_card(card).did) for card in collection.find_cards(""))
    assert names == [
        "Languages",
        "Languages::French::Verbs",
        "Languages::Spanish",
        "Languages::Spanish::Verbs",
        "Languages::Spanish::Verbs::Irregular",
    ]


def test_one_note_file_by_two_paths_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "source"
    for slug, deck_id in (("a", 42), ("b", 43)):
        (source / slug).mkdir(parents=True)
        (source / slug / "deck.toml").write_text(f'name = "{slug.upper()}"\nid = {deck_id}\nversion = "1.0.0"\n')
    (source / "a" / "x.md").write_text("## What is X?\n<!-- id: x-one -->\n\nAnswer.\n")
    (source / "b" / "x.md").symlink_to("../a/x.md")
    os.link(source / "a" / "x.md", source / "a" / "y.md")
    (tmp_path / "elsewhere.md").write_text("## What is Y?\n<!-- id: y-one -->\n\nAnswer.\n")
    (source / "a" / "z.md").symlink_to(tmp_path / "elsewhere.md")
    (tmp_path / "media").mkdir()
    result = _run(tmp_path, "check", "--no-cache")
    assert result.returncode == 1
    found = {(path, code) for path, _, _, code in _diagnostics(result.stderr)}
    assert found == {("source/b/x.md", "E131"), ("source/a/y.md", "E131"), ("source/a/z.md", "E130")}
    # The snippet under a link's error would be the first line of whatever it points to.
    assert "What is Y?" not in result.stderr


def test_markdown_files_not_named_md_are_reported(tmp_path: Path) -> None:
    deck = tmp_path / "source" / "d"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text('name = "Fuzz"\nid = 42\nversion = "1.0.0"\n')
    note = "## What is {0}?\n<!-- id: {0}-note -->\n\nAnswer.\n"
    (deck / "notes.md").write_text(note.format("a"))
    for name in ("NOTES.MD", "b.Md", "c.markdown", "d.mdown", "e.mkd"):
        (deck / name).write_text(note.format(name[0].lower()))
    (deck / "read-me.txt").write_text("not a note file")
    (tmp_path / "media").mkdir()
    result = _run(tmp_path, "build", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert _diagnostics(result.stderr) == {
        (f"source/d/{name}", 1, 1, "E197") for name in ("NOTES.MD", "b.Md", "c.markdown", "d.mdown", "e.mkd")
    }
    assert "warning[E197]: found `NOTES.MD`, which the build does not read" in result.stderr
    assert "Rename it to `c.md`" in result.stderr
    assert "built dist/d-1.0.0.apkg (1 notes" in result.stdout
    strict = _run(tmp_path, "check", "--no-cache", "--strict")
    assert strict.returncode == 1


_NOTETYPE_TOML = """name = "V"
id = 1733059200201

[[fields]]
name = "Word"

[[fields]]
name = "Meaning"

[[templates]]
name = "Card 1"
"""


def _notetype_deck(root: Path) -> Path:
    """A deck whose one note uses the deck-defined notetype `v`; returns the notetype's folder."""
    deck = root / "source" / "d"
    card = deck / "notetypes" / "v" / "card-1"
    card.mkdir(parents=True)
    (deck / "deck.toml").write_text('name = "Fuzz"\nid = 42\nversion = "1.0.0"\n')
    (deck / "notes.md").write_text("---\nnotetype: v\n---\n## w\n<!-- id: note-one -->\n\nA\n")
    (card.parent / "notetype.toml").write_text(_NOTETYPE_TOML)
    (card / "front.html").write_text("{{Word}}")
    (card / "back.html").write_text("{{FrontSide}}<hr id=answer>{{Meaning}}")
    (card.parent / "style.css").write_text(".card { color: black; }")
    (root / "media").mkdir()
    return card.parent


def test_notetype_files_linked_out_of_the_source_are_refused(tmp_path: Path) -> None:
    folder = _notetype_deck(tmp_path)
    (tmp_path / "secret.txt").write_text("machine-secret-line")
    (folder / "style.css").unlink()
    (folder / "style.css").symlink_to(tmp_path / "secret.txt")
    (folder / "card-1" / "front.html").unlink()
    (folder / "card-1" / "front.html").symlink_to(tmp_path / "secret.txt")
    (folder / "card-1" / "back.html").unlink()
    (folder / "card-1" / "back.html").symlink_to(tmp_path / "nowhere.html")
    result = _run(tmp_path, "build", "--no-cache")
    assert result.returncode == 1
    found = {(path, line, col, code) for path, line, col, code in _diagnostics(result.stderr)}
    assert {
        ("source/d/notetypes/v/style.css", 1, 1, "E130"),
        ("source/d/notetypes/v/card-1/front.html", 1, 1, "E130"),
        ("source/d/notetypes/v/card-1/back.html", 1, 1, "E130"),
    } <= found
    assert "leads outside the source folder" in result.stderr and "leads nowhere" in result.stderr
    # Not even the error's snippet shows what the link points to.
    assert "machine-secret-line" not in result.stderr
    assert not (tmp_path / "dist").exists()


def test_notetype_toml_linked_out_of_the_source_is_refused(tmp_path: Path) -> None:
    folder = _notetype_deck(tmp_path)
    (tmp_path / "notetype.toml").write_text(_NOTETYPE_TOML)
    (folder / "notetype.toml").unlink()
    (folder / "notetype.toml").symlink_to(tmp_path / "notetype.toml")
    result = _run(tmp_path, "check", "--no-cache")
    assert result.returncode == 1
    assert ("source/d/notetypes/v/notetype.toml", 1, 1, "E130") in _diagnostics(result.stderr)


def test_notetype_files_linked_inside_the_source_are_read(tmp_path: Path) -> None:
    folder = _notetype_deck(tmp_path)
    shared = tmp_path / "source" / "shared.css"
    shared.write_text(".card { color: navy; }")
    (folder / "style.css").unlink()
    (folder / "style.css").symlink_to(shared)
    result = _run(tmp_path, "build", "--no-cache")
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "dist" / "d-1.0.0.apkg") as package:
        assert b"color: navy" in package.read("collection.anki2")


def test_a_release_manifest_linked_out_of_the_source_is_refused(tmp_path: Path) -> None:
    _notetype_deck(tmp_path)
    first = _run(tmp_path, "build", "--no-cache")
    assert first.returncode == 0, first.stderr
    releases = tmp_path / "source" / "d" / "releases"
    releases.mkdir()
    (releases / "0.9.0.json").symlink_to(tmp_path / "dist" / "d-1.0.0.json")
    (tmp_path / "dist" / "d-1.0.0.apkg").unlink()
    result = _run(tmp_path, "build", "--no-cache")
    assert result.returncode == 1
    assert _diagnostics(result.stderr) == {("source/d/releases/0.9.0.json", 1, 1, "E130")}
    assert not (tmp_path / "dist" / "d-1.0.0.apkg").exists()


# -- class 7: a stale edit -------------------------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": "@1600000000 +0000", "GIT_COMMITTER_DATE": "@1600000000 +0000"}
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, env=env, check=True, capture_output=True
    )


def test_an_uncommitted_edit_reaches_anki_and_is_not_a_release(tmp_path: Path, collection: Collection) -> None:
    work = tmp_path / "work"
    shutil.copytree(FIXTURES / "starter", work)
    _git(work, "init", "-q")
    _git(work, "add", "source", "media")
    _git(work, "commit", "-qm", "deck")
    no_epoch = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    clean = subprocess.run(
        [sys.executable, "-m", "builder", "build", "--no-cache"], cwd=work, env={**no_epoch, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert clean.returncode == 0 and "W130" not in clean.stderr, clean.stderr
    apkg = work / "dist" / "starter-0.3.0.apkg"
    import_package(collection, apkg)
    note_file = sorted((work / "source" / "starter").glob("*.md"))[0]
    note_file.write_text(note_file.read_text().rstrip("\n") + " EDITED\n")  # the last note's answer
    os.utime(note_file, (1700000500, 1700000500))
    outputs = []
    for _ in range(2):
        dirty = subprocess.run(
            [sys.executable, "-m", "builder", "build", "--no-cache"], cwd=work,
            env={**no_epoch, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert dirty.returncode == 0, dirty.stderr
        assert "warning[W130]: this is not a release build of starter" in dirty.stderr
        outputs.append(apkg.read_bytes())
    assert outputs[0] == outputs[1], "the same working tree builds the same bytes"
    import_package(collection, apkg)
    assert any("EDITED" in field for field in _fields(collection)), "the re-import must take the edit"
    release = subprocess.run(
        [sys.executable, "-m", "builder", "release", "--no-cache"], cwd=work,
        env={**no_epoch, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert release.returncode == 1
    assert "error[E133]" in release.stderr
    assert not (work / "dist" / "SHA256SUMS").exists()


# -- class 8: reproducibility and atomicity ---------------------------------------------------------------------


def test_reproduction_22_no_cache_builds_of_random_and_dated_diagrams_agree(tmp_path: Path) -> None:
    work = _case(tmp_path, "22-nondeterministic-diagrams")
    for out in ("dist1", "dist2"):
        result = _run(work, "build", "--source", "source", "--media", "media", "--out", out, "--no-cache")
        assert result.returncode == 0, result.stderr
    first, second = (work / d / "fuzz-1.0.0.apkg" for d in ("dist1", "dist2"))
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        svgs = [archive.read(str(i)).decode() for i in range(2)]
    assert not any('class="today"' in svg for svg in svgs), "no line at the build date"
    assert any("commit" in svg for svg in svgs)
    if shutil.which("faketime"):
        faked = subprocess.run(
            ["faketime", "2031-06-15 12:00:00", sys.executable, "-m", "builder", "build", "--source", "source",
             "--media", "media", "--out", "dist3", "--no-cache"],
            cwd=work, env={**os.environ, "PYTHONPATH": str(REPO), "SOURCE_DATE_EPOCH": EPOCH},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert faked.returncode == 0, faked.stderr
        assert (work / "dist3" / "fuzz-1.0.0.apkg").read_bytes() == first.read_bytes()


def test_reproduction_23_fix_ids_lands_right_and_is_idempotent(tmp_path: Path) -> None:
    work = _case(tmp_path, "23-fix-ids-corrupts-files")
    source = work / "source"
    before = {p.name: p.read_bytes() for p in (source / "fuzz").glob("*.md")}
    fix_ids(source, Diagnostics())
    once = {p.name: p.read_bytes() for p in (source / "fuzz").glob("*.md")}
    fix_ids(source, Diagnostics())
    assert {p.name: p.read_bytes() for p in (source / "fuzz").glob("*.md")} == once, "a second run changes nothing"
    a = once["a.md"].decode()
    assert "\u2028" in a and "\x0c" in a
    assert re.search(r"## What is B\?\n<!-- id: what-is-b-[0-9a-f]{4} -->\n", a)
    assert a.count("<!-- id:") == 2
    b = once["b.md"].decode()
    assert re.match(r"## Term A\u2028\(pasted\)\n<!-- id: term-a-pasted-[0-9a-f]{4}\ntype: reverse -->\n", b)
    assert once["c.md"] == before["c.md"], "an unclosed comment is left for check to report"
    result = _run(work, "check", "--source", "source", "--media", "media", "--no-cache")
    # No id problem is left: the form feed is a control character (E110), the unclosed comment is E031.
    assert _diagnostics(result.stderr) == {("source/fuzz/a.md", 4, 50, "E110"), ("source/fuzz/c.md", 2, 1, "E031")}


def test_reproduction_29_a_failing_deck_leaves_every_output_as_it_was(tmp_path: Path) -> None:
    work = _case(tmp_path, "29-dist-partly-written-on-failure")
    result = _run(work, "build", "--source", "source", "--media", "media", "--out", "dist")
    assert result.returncode == 1
    assert _diagnostics(result.stderr) == {("source/bbb/b.md", 4, 3, "E111")}
    assert not (work / "dist").exists()


def test_outputs_are_replaced_together_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    out.mkdir()
    (out / "a.apkg").write_text("old a")
    (out / "a.json").write_text("old a json")
    with pytest.raises(OSError), staged_outputs(out) as staging:
        staging.path("a.apkg").write_text("new a")
        staging.path("a.json").write_text("new a json")
        # A real failure while the second deck is written: its folder is a file.
        (staging.path("b.apkg").parent / "a.json" / "x").write_text("never")
    assert sorted(p.name for p in out.iterdir()) == ["a.apkg", "a.json"]
    assert (out / "a.apkg").read_text() == "old a"
    with staged_outputs(out) as staging:
        staging.path("a.apkg").write_text("new a")
        staging.path("a.json").write_text("new a json")
    assert (out / "a.apkg").read_text() == "new a" and (out / "a.json").read_text() == "new a json"
    assert sorted(p.name for p in out.iterdir()) == ["a.apkg", "a.json"]


def test_what_a_killed_build_left_is_finished_or_removed(starter: Path) -> None:
    out = starter / "dist"
    assert build_deck(starter / "source", starter / "media", out) == 0
    built = (out / "starter-0.3.0.apkg").read_bytes()
    # A build killed after its commit point: the next build moves the rest in.
    committed = out / f"{STAGING_PREFIX}killed1"
    (committed / "new").mkdir(parents=True)
    (committed / "new" / "starter-0.3.0.json").write_text("{}")
    (committed / "COMMIT").write_text(json.dumps(["starter-0.3.0.json"]))
    # One killed before it: removed. And a temporary file of an older builder.
    (out / f"{STAGING_PREFIX}killed2" / "new").mkdir(parents=True)
    (out / ".starter-0.3.0.apkg.abc123.tmp").write_bytes(b"half")
    assert build_deck(starter / "source", starter / "media", out) == 0
    assert sorted(p.name for p in out.iterdir()) == ["starter-0.3.0.apkg", "starter-0.3.0.json"]
    assert (out / "starter-0.3.0.apkg").read_bytes() == built
    assert json.loads((out / "starter-0.3.0.json").read_text())["notes"], "the rebuilt manifest, not the leftover"


def test_a_cache_entry_is_trusted_only_under_its_own_key(tmp_path: Path) -> None:
    first, second = tmp_path / "ab" / "ab12.pickle", tmp_path / "cd" / "cd34.pickle"
    write_entry(first, "magic", b"value for ab12")
    second.parent.mkdir()
    shutil.copy(first, second)
    assert read_entry(first, "magic") == b"value for ab12"
    assert read_entry(second, "magic") is None
