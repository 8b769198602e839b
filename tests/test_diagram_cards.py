"""Diagram notes end to end: SVG media in Anki, native Image Occlusion, safe SVGs, errors, Chromium rendering."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from html import unescape
from pathlib import Path

import pytest
from anki.collection import Collection

from builder.cli import main
from builder.diagrams.occlusion import Mask
from builder.diagrams.sanitize import check_svg_safe
from builder.ids import note_guid
from builder.preview import write_preview
from tests.conftest import FIXTURES, build_deck, import_package
from tests.diagrams.diagram_testkit import contains, label_anchors
from tests.test_preview import _colours, _dark_share, _run_browser

DECK_ID = 1700000000002
ROOT = FIXTURES / "diagrams"


@pytest.fixture(scope="module")
def diagram_apkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        mp.setenv("BUILDER_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        assert build_deck(ROOT / "source", ROOT / "media", out) == 0
    return out / "figures-1.0.0.apkg"


@pytest.fixture
def imported(collection: Collection, diagram_apkg: Path) -> Collection:
    result = import_package(collection, diagram_apkg)
    assert len(result.log.new) == 4 and not result.log.conflicting
    return collection


def _nid(col: Collection, note_id: str) -> int:
    guid = note_guid(DECK_ID, note_id)
    (nid,) = [n for n in col.find_notes("") if col.get_note(n).guid == guid]
    return nid


def test_every_engine_ships_an_svg_image(imported: Collection) -> None:
    media = Path(imported.media.dir())
    for note_id in ("pipeline-dot", "chat-mermaid", "rag-d2"):
        (cid,) = imported.card_ids_of_note(_nid(imported, note_id))
        answer = imported.get_card(cid).answer()
        match = re.search(r'<img class="diagram" src="(diagram-[0-9a-f]{16}\.svg)"', answer)
        assert match, answer
        svg = (media / match.group(1)).read_text()
        assert svg.startswith("<svg") or "<svg" in svg[:200]
    check = imported.media.check()
    assert list(check.missing) == [] and list(check.unused) == []


def _alt(html: str) -> str:
    found = re.search(r'<img [^>]*alt="([^"]*)"', html)
    assert found, html
    return unescape(found.group(1))


def test_diagram_images_say_what_they_show(imported: Collection) -> None:
    """Screen readers read the alt text: the heading and the labels by default, the author's words if given."""
    answers = {
        note_id: imported.get_card(imported.card_ids_of_note(_nid(imported, note_id))[0]).answer()
        for note_id in ("pipeline-dot", "chat-mermaid", "rag-d2")
    }
    assert (
        _alt(answers["pipeline-dot"]) == "Diagram: How does text become an answer? Labels: text; tokens; model; answer."
    )
    chat = _alt(answers["chat-mermaid"])
    assert chat.startswith("Diagram: Who talks to whom in a chat turn? Labels: User; UI; Model;"), chat
    assert "question; tokens; answer" in chat
    assert _alt(answers["rag-d2"]) == (
        "A question goes to a retriever, which searches the store and gives the model context."
    )


def test_occlusion_alt_text_never_names_a_hidden_label(imported: Collection) -> None:
    note = imported.get_note(_nid(imported, "loop-occlusion"))
    alt = _alt(note["Image"])
    assert alt == "Diagram: Label the generation loop. Labels: Output; 3 hidden labels."
    for cid in imported.card_ids_of_note(note.id):
        question = imported.get_card(cid).question()
        assert not any(word in question for word in ("Tokenizer", "Model", "Sampler"))


def test_occlusion_note_is_native_image_occlusion(imported: Collection) -> None:
    nid = _nid(imported, "loop-occlusion")
    note = imported.get_note(nid)
    assert note.note_type()["originalStockKind"] == 6  # type: ignore[index]
    assert note.note_type()["name"] == "Diagram Fixture · Image Occlusion"  # type: ignore[index]
    response = imported.get_image_occlusion_note(nid)
    assert response.WhichOneof("value") == "note", response
    io = response.note
    assert io.header == "Label the generation loop"
    assert "once per token" in io.back_extra
    assert len(imported.card_ids_of_note(nid)) == 2, "two cloze numbers, two cards"

    # The masks cover the marked labels, and only those, in the SVG Anki shows.
    src = re.search(r'src="([^"]+\.svg)"', note["Image"])
    assert src
    svg = (Path(imported.media.dir()) / src.group(1)).read_text()
    points = label_anchors(svg)
    masks = [
        Mask(int(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4)), float(m.group(5)))
        for m in re.finditer(
            r"\{\{c(\d+)::image-occlusion:rect:left=([\d.]+):top=([\d.]+):width=([\d.]+):height=([\d.]+)",
            note["Occlusion"],
        )
    ]
    assert sorted(m.ordinal for m in masks) == [1, 2, 2]
    assert any(m.ordinal == 1 and contains(m, points["Tokenizer"]) for m in masks)
    assert any(m.ordinal == 2 and contains(m, points["Model"]) for m in masks)
    assert any(m.ordinal == 2 and contains(m, points["Sampler"]) for m in masks)
    assert not any(contains(m, points["Output"]) for m in masks)


def test_every_svg_in_the_package_is_safe(diagram_apkg: Path) -> None:
    with zipfile.ZipFile(diagram_apkg) as archive:
        names = json.loads(archive.read("media"))
        svgs = [archive.read(index).decode() for index, name in names.items() if name.endswith(".svg")]
    assert len(svgs) == 4
    for svg in svgs:
        assert check_svg_safe(svg) == []


def test_cold_and_warm_cache_give_the_same_bytes(
    diagram_apkg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BUILDER_CACHE_DIR", str(tmp_path / "cache"))
    for run in ("cold", "warm"):
        assert build_deck(ROOT / "source", ROOT / "media", tmp_path / run) == 0
    assert build_deck(ROOT / "source", ROOT / "media", tmp_path / "none", "--no-cache") == 0
    outputs = {(tmp_path / run / diagram_apkg.name).read_bytes() for run in ("cold", "warm", "none")}
    assert outputs == {diagram_apkg.read_bytes()}


def test_syntax_error_points_at_the_fence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(ROOT, tmp_path / "deck")
    notes = tmp_path / "deck" / "source" / "figures" / "notes.md"
    notes.write_text(notes.read_text().replace("text -> tokens -> model -> answer;", "text -> -> ;"))
    monkeypatch.chdir(tmp_path / "deck")
    monkeypatch.setenv("BUILDER_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["build"]) == 1
    err = capsys.readouterr().err
    assert re.match(r"source/figures/notes\.md:1[0-3]:\d+: error\[D001\]: ", err), err
    assert "Traceback" not in err
    assert not (tmp_path / "deck" / "dist").exists()


def test_diagram_card_in_chromium_light_and_night(diagram_apkg: Path, tmp_path: Path) -> None:
    page = write_preview([diagram_apkg], tmp_path / "preview").resolve().as_uri()
    window = "--window-size=900,1200"
    out = _run_browser(
        {
            "dom": ["--dump-dom", f"{page}?q=rag"],
            "light": [f"--screenshot={tmp_path / 'light.png'}", window, f"{page}?q=pipeline"],
            "night": [f"--screenshot={tmp_path / 'night.png'}", window, f"{page}?q=pipeline#night"],
        },
        tmp_path,
    )
    loaded = re.search(r'data-images-loaded="(\d+)/(\d+)"', out["dom"])
    assert loaded and loaded.group(1) == loaded.group(2) and int(loaded.group(1)) >= 4
    light, night = _colours(tmp_path / "light.png"), _colours(tmp_path / "night.png")
    for colours in (light, night):
        assert len(colours) > 50
        assert 1 - colours.most_common(1)[0][1] / colours.total() > 0.05
    assert _dark_share(light) < 0.3 and _dark_share(night) > 0.6


_IO_FIELD = re.compile(r"\{\{c(\d+)::image-occlusion:rect:left=([\d.]+):top=([\d.]+):width=([\d.]+):height=([\d.]+)")
_BOX = re.compile(
    r'class="pv-mask pv-mask-(\w+)" data-ordinal="(\d+)" '
    r'style="left:([\d.]+%);top:([\d.]+%);width:([\d.]+%);height:([\d.]+%)"'
)


def test_preview_draws_occlusion_masks_where_anki_does(
    imported: Collection, diagram_apkg: Path, tmp_path: Path
) -> None:
    note = imported.get_note(_nid(imported, "loop-occlusion"))
    expected = sorted((int(m[0]), *(f"{float(x):.2%}" for x in m[1:])) for m in _IO_FIELD.findall(note["Occlusion"]))
    assert len(expected) == 3
    page = write_preview([diagram_apkg], tmp_path / "preview")
    items = re.findall(
        r'<article class="pv-item"[^>]*data-id="loop-occlusion"[^>]*'
        r'data-template="Image Occlusion (\d+)">(.*?)</article>',
        page.read_text(encoding="utf-8"),
        re.S,
    )
    assert sorted(int(card) for card, _ in items) == [1, 2]
    for card, item in items:
        front, back = item.split('<div class="pv-side">Back</div>')
        for face, shown in ((front, "active"), (back, "highlight")):
            boxes = [(kind, int(o), left, top, w, h) for kind, o, left, top, w, h in _BOX.findall(face)]
            # Every mask of the note, on both sides, at the fractions of the image Anki uses.
            assert sorted(box[1:] for box in boxes) == expected
            # The card's own number is the one asked (front) or revealed (back); the others stay covered.
            assert {kind for kind, o, *_ in boxes if o == int(card)} == {shown}
            assert {kind for kind, o, *_ in boxes if o != int(card)} == {"inactive"}

    # Chromium paints them over the image, in Anki's colours for the asked and the covered masks.
    shot = tmp_path / "io.png"
    url = f"{page.resolve().as_uri()}?q=%22generation%20loop%22"
    _run_browser({"shot": [f"--screenshot={shot}", "--window-size=900,1200", url]}, tmp_path)
    colours = _colours(shot)
    assert colours[(255, 142, 142)] > 300, "the asked mask"
    assert colours[(255, 235, 162)] > 300, "the covered masks"
