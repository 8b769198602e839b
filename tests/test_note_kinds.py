"""Type-in answers, Image Occlusion on an image, audio and video: built, then imported with the real Anki backend.

What a learner gets: Anki compares the typed answer, the masks are a native Image Occlusion note its mask
editor opens, sounds play from files in the collection's media, and re-importing or updating keeps the notes.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import struct
import wave
from pathlib import Path

import pytest
from anki.collection import Collection
from anki.sound import SoundOrVideoTag

from builder.cli import main
from builder.ids import note_guid
from builder.masks import Ellipse, Mask, Polygon, mask_cloze
from builder.media import MediaLibrary, MediaProblem
from builder.mediatypes import content_problem
from builder.preview import write_preview
from tests.conftest import FIXTURES, build_deck, import_package

DECK_ID = 1700000000017
DECK_TOML = f'name = "Kinds"\nid = {DECK_ID}\nversion = "1.0.0"\n'
NOTES = """---
tags: [kinds]
---

## Which service finds personal data such as PII in Amazon S3 buckets?
<!-- id: macie-typein
type: typein -->

Macie

Amazon Macie discovers sensitive data in S3 with machine learning and pattern matching.

## Which shell test checks both conditions?
<!-- id: shell-and
type: typein -->

`[ -f a ] && [ x < y ]`

## Name the services of this serverless API
<!-- id: serverless-labels -->

```occlusion
image: architecture.png
c1 rect    0.06 0.65 0.19 0.15  "Amazon API Gateway"
c2 ellipse 0.39 0.64 0.22 0.11  "AWS Lambda"
c3 rect    0.75 0.44 0.19 0.09  "Amazon S3"
c3 polygon 0.72,0.87 0.97,0.87 0.96,0.98 0.73,0.98  "Amazon DynamoDB"
```

API Gateway receives the request.

## Which part is hidden?
<!-- id: hide-one -->

```occlusion
image: pipeline.png
mode: hide-one
c1 rect 0.1 0.1 0.3 0.3
c2 rect 0.5 0.1 0.3 0.3
```

## How is the tone pitched?
<!-- id: tone-sound -->

[sound:hello.mp3] then ![[tone.wav]]

## What does the clip show?
<!-- id: clip-video -->

![[clip.mp4]]
"""
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(64)


def _tone(path: Path, hertz: int = 440) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        samples = (int(8000 * math.sin(2 * math.pi * hertz * i / 8000)) for i in range(800))
        out.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))


def _project(root: Path) -> Path:
    deck = root / "source" / "kinds"
    deck.mkdir(parents=True)
    (deck / "deck.toml").write_text(DECK_TOML)
    (deck / "kinds.md").write_text(NOTES)
    shutil.copytree(FIXTURES / "notekinds" / "media", root / "media")
    _tone(root / "media" / "tone.wav")
    (root / "media" / "clip.mp4").write_bytes(MP4)
    return root


def _build(root: Path) -> Path:
    assert build_deck(root / "source", root / "media", root / "dist", "--strict") == 0
    return root / "dist" / "kinds-1.0.0.apkg"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return _project(tmp_path / "project")


def _nid(col: Collection, note_id: str) -> int:
    guid = note_guid(DECK_ID, note_id)
    (nid,) = [n for n in col.find_notes("") if col.get_note(n).guid == guid]
    return nid


def _media_name(root: Path, name: str) -> str:
    data = (root / "media" / name).read_bytes()
    stem, suffix = name.rsplit(".", 1)
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:16]}.{suffix}"


def test_type_in_card_compares_the_typed_answer(project: Path, collection: Collection) -> None:
    import_package(collection, _build(project))
    note = collection.get_note(_nid(collection, "macie-typein"))
    notetype = note.note_type()
    assert notetype is not None
    assert notetype["name"] == "Kinds · Type-in"
    assert [f["name"] for f in notetype["flds"]] == ["Front", "Back", "Back Extra", "Source"]
    assert notetype["originalStockKind"] == 4, "Anki's own 'Basic (type in the answer)' kind"
    assert note["Back"] == "Macie"
    assert "machine learning" in note["Back Extra"]
    (card,) = note.cards()
    output = card.render_output()
    # The type filter leaves [[type:Back]] on both sides: the reviewer puts the input box on the question and the
    # comparison on the answer there.
    assert "[[type:Back]]" in output.question_text and "Which service finds personal data" in output.question_text
    assert "[[type:Back]]" in output.answer_text and "machine learning" in output.answer_text
    assert "Macie" not in output.question_text, "the answer is not on the question"
    good = collection.compare_answer(note["Back"], "Macie", True)
    assert good == "<code id=typeans><span class=typeGood>Macie</span></code>"
    wrong = collection.compare_answer(note["Back"], "Macy", True)
    assert "typeBad" in wrong and "typeGood" in wrong

    # A command with HTML metacharacters is stored escaped and compared as the learner types it.
    shell = collection.get_note(_nid(collection, "shell-and"))
    assert shell["Back"] == "[ -f a ] &amp;&amp; [ x &lt; y ]"
    typed = collection.compare_answer(shell["Back"], "[ -f a ] && [ x < y ]", True)
    assert typed == "<code id=typeans><span class=typeGood>[ -f a ] &amp;&amp; [ x &lt; y ]</span></code>"


def test_image_occlusion_on_an_image_is_a_native_note(project: Path, collection: Collection) -> None:
    import_package(collection, _build(project))
    nid = _nid(collection, "serverless-labels")
    note = collection.get_note(nid)
    image = _media_name(project, "architecture.png")
    assert note["Image"] == f'<img src="{image}">', "a photo or screenshot is not a diagram: no night inversion"
    assert note["Header"] == "Name the services of this serverless API"
    assert "API Gateway receives" in note["Back Extra"]

    # What Anki's mask editor loads when the learner opens the note to edit its masks.
    loaded = collection.get_image_occlusion_note(nid).note
    assert loaded.image_file_name == image
    assert loaded.image_data == (project / "media" / "architecture.png").read_bytes()
    assert loaded.occlude_inactive
    shapes = {
        o.ordinal: sorted((s.shape, tuple((p.name, p.value) for p in s.properties)) for s in o.shapes)
        for o in loaded.occlusions
    }
    assert shapes == {
        1: [("rect", (("left", ".06"), ("top", ".65"), ("width", ".19"), ("height", ".15"), ("oi", "1")))],
        2: [("ellipse", (("left", ".39"), ("top", ".64"), ("rx", ".11"), ("ry", ".055"), ("oi", "1")))],
        3: [
            ("polygon", (("left", ".72"), ("top", ".87"), ("points", ".72,.87 .97,.87 .96,.98 .73,.98"), ("oi", "1"))),
            ("rect", (("left", ".75"), ("top", ".44"), ("width", ".19"), ("height", ".09"), ("oi", "1"))),
        ],
    }

    cards = sorted(note.cards(), key=lambda c: c.ord)
    assert [c.ord for c in cards] == [0, 1, 2]
    labels = {1: "Amazon API Gateway", 2: "AWS Lambda", 3: "Amazon S3 · Amazon DynamoDB"}
    for card in cards:
        ordinal = card.ord + 1
        output = card.render_output()
        # The front hides the label with the masks; the back names the card's own label, the others stay hidden.
        assert f'<span class="cloze" data-ordinal="{ordinal}">{labels[ordinal]}</span>' in output.answer_text
        for other, label in labels.items():
            if other != ordinal:
                assert f'<span class="cloze-inactive" data-ordinal="{other}">{label}</span>' in output.answer_text
        assert f'<div class="cloze" data-ordinal="{ordinal}"' in output.question_text
        hidden = output.question_text.split('<div id="err">')[0]
        assert 'style="display: none"' in hidden and ">[...]</span>" in hidden

    other = collection.get_image_occlusion_note(_nid(collection, "hide-one")).note
    assert not other.occlude_inactive, "mode: hide-one shows the other masks' places"


def test_mask_serialisation_is_what_anki_writes() -> None:
    shapes = [
        Polygon(2, ((0.5, 0.5), (0.75, 0.5), (0.625, 0.8))),
        Ellipse(1, 0.1, 0.2, 0.3, 0.1),
        Mask(1, 0.05, 0.05, 0.1, 0.1),
    ]
    assert mask_cloze(shapes, labels=[(1, "a & b")]) == (
        "{{c1::image-occlusion:rect:left=.05:top=.05:width=.1:height=.1:oi=1}}<br>"
        "{{c1::image-occlusion:ellipse:left=.1:top=.2:rx=.15:ry=.05:oi=1}}<br>"
        "{{c2::image-occlusion:polygon:left=.5:top=.5:points=.5,.5 .75,.5 .625,.8:oi=1}}<br>"
        '<span class="df-io-label">{{c1::a &amp; b}}</span>'
    )


def test_audio_and_video_play_from_the_collections_media(project: Path, collection: Collection) -> None:
    import_package(collection, _build(project))
    note = collection.get_note(_nid(collection, "tone-sound"))
    mp3, wav = _media_name(project, "hello.mp3"), _media_name(project, "tone.wav")
    assert note["Back"] == f"<p>[sound:{mp3}] then [sound:{wav}]</p>"
    (card,) = note.cards()
    assert card.question_av_tags() == []
    assert card.answer_av_tags() == [SoundOrVideoTag(mp3), SoundOrVideoTag(wav)]
    media = Path(collection.media.dir())
    assert (media / mp3).read_bytes() == (project / "media" / "hello.mp3").read_bytes()
    assert (media / wav).read_bytes() == (project / "media" / "tone.wav").read_bytes()
    (clip,) = collection.get_note(_nid(collection, "clip-video")).cards()
    assert clip.answer_av_tags() == [SoundOrVideoTag(_media_name(project, "clip.mp4"))]
    assert collection.media.check().missing == []


def test_reimport_changes_nothing_and_an_edit_updates_in_place(
    project: Path, collection: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recorded as a release, so the next version keeps the mod time of every note it does not change.
    args = ["--source", str(project / "source"), "--media", str(project / "media"), "--out", str(project / "dist")]
    assert main(["record", *args]) == 0
    apkg = project / "dist" / "kinds-1.0.0.apkg"
    first = import_package(collection, apkg)
    assert len(first.log.new) == 6
    before = {nid: collection.get_note(nid).fields for nid in collection.find_notes("")}
    cards = collection.db.all("SELECT id, nid, ord, mod FROM cards ORDER BY id")

    again = import_package(collection, apkg)
    assert not again.log.new and not again.log.updated
    assert len(again.log.duplicate) == 6
    assert {nid: collection.get_note(nid).fields for nid in collection.find_notes("")} == before
    assert collection.db.all("SELECT id, nid, ord, mod FROM cards ORDER BY id") == cards

    # A new recording, a moved mask and a corrected answer: the same notes change, nothing is added.
    _tone(project / "media" / "hello.wav", hertz=660)
    notes = project / "source" / "kinds" / "kinds.md"
    text = notes.read_text().replace("[sound:hello.mp3]", "[sound:hello.wav]")
    text = text.replace("c2 ellipse 0.39 0.64", "c2 ellipse 0.38 0.63").replace("\nMacie\n", "\nMacie (Amazon)\n")
    notes.write_text(text)
    toml = project / "source" / "kinds" / "deck.toml"
    toml.write_text(toml.read_text().replace('"1.0.0"', '"1.0.1"'))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    assert build_deck(project / "source", project / "media", project / "dist") == 0
    updated = import_package(collection, project / "dist" / "kinds-1.0.1.apkg")
    assert not updated.log.new
    assert len(updated.log.updated) == 3
    assert collection.note_count() == 6
    assert collection.db.all("SELECT id, nid, ord FROM cards ORDER BY id") == [row[:3] for row in cards]
    assert collection.get_note(_nid(collection, "macie-typein"))["Back"] == "Macie (Amazon)"
    wav = _media_name(project, "hello.wav")
    assert f"[sound:{wav}]" in collection.get_note(_nid(collection, "tone-sound"))["Back"]
    assert (Path(collection.media.dir()) / wav).is_file()
    loaded = collection.get_image_occlusion_note(_nid(collection, "serverless-labels")).note
    ellipse = next(s for o in loaded.occlusions if o.ordinal == 2 for s in o.shapes)
    assert [(p.name, p.value) for p in ellipse.properties][:2] == [("left", ".38"), ("top", ".63")]


def test_same_source_same_bytes(project: Path, tmp_path: Path) -> None:
    first = _build(project).read_bytes()
    copy = _project(tmp_path / "copy")
    assert build_deck(copy / "source", copy / "media", copy / "dist", "--no-cache") == 0
    assert (copy / "dist" / "kinds-1.0.0.apkg").read_bytes() == first


def test_a_changed_image_reaches_a_cached_occlusion_note(project: Path) -> None:
    first = _build(project)
    before = first.read_bytes()
    shutil.copy(project / "media" / "pipeline.png", project / "media" / "architecture.png")
    assert _build(project).read_bytes() != before, "the occluded image is a dependency of its note file"


def test_preview_shows_the_type_in_box_the_masks_and_players(project: Path, tmp_path: Path) -> None:
    page = write_preview([_build(project)], tmp_path / "preview").read_text(encoding="utf-8")
    assert page.count('<input type="text" id="typeans"') == 2, "one box on the front of each type-in card"
    assert '<div class="pv-typeans"><code id=typeans><span class=typeGood>Macie</span></code></div>' in page
    ellipse = r'class="pv-mask pv-mask-active"[^>]*border-radius:50%[^>]*data-shape="ellipse"'
    polygon = r'class="pv-mask pv-mask-highlight"[^>]*clip-path:polygon[^>]*data-shape="polygon"'
    assert len(re.findall(ellipse, page)) == 1
    assert len(re.findall(polygon, page)) == 1
    assert re.search(r'<audio class="pv-player" controls preload="none" src="data:audio/mpeg;base64,', page)
    assert re.search(r'<audio class="pv-player" controls preload="none" src="data:audio/wav;base64,', page)
    assert re.search(r'<video class="pv-player" controls preload="none" src="data:video/mp4;base64,', page)
    assert "[anki:play:" not in page and "[[type:" not in page
    assert "media-src data:" in page


def test_media_must_be_what_its_name_says(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    _tone(media / "tone.wav")
    shutil.copy(FIXTURES / "notekinds" / "media" / "hello.mp3", media / "voice.ogg")
    (media / "empty.mp3").write_bytes(b"")
    (tmp_path / "outside.mp3").write_bytes((FIXTURES / "notekinds" / "media" / "hello.mp3").read_bytes())
    (media / "linked.mp3").symlink_to(tmp_path / "outside.mp3")
    library = MediaLibrary(media)
    assert isinstance(library.check("sound:tone.wav"), Path)
    problems = {src: library.check(f"sound:{src}") for src in ("voice.ogg", "empty.mp3", "linked.mp3")}
    assert all(isinstance(p, MediaProblem) for p in problems.values())
    assert [(p.code, p.message.split(";")[0]) for p in problems.values() if isinstance(p, MediaProblem)] == [
        ("E160", "found `voice.ogg`, but its content is not Ogg audio (it looks like MP3 audio)"),
        ("E160", "found `empty.mp3`, but its content is not MP3 audio (it is empty)"),
        ("E061", "sound path `linked.mp3` leads outside media/ through a symbolic link"),
    ]
    assert content_problem(".png", (FIXTURES / "notekinds" / "media" / "pipeline.png").read_bytes()[:64]) is None
    assert content_problem(".jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF") is None
    assert content_problem(".webm", b"\x1a\x45\xdf\xa3\x01") is None
    assert content_problem(".mov", MP4[:64]) is None
