"""Real decks made with the real Anki backend, for the importer's tests: stock notetypes and renamed copies of them.

Everything goes through Anki's own API (new collection, stock notetypes, its Image Occlusion API, its exporter
and its scheduler), so the packages are what a maintainer's Anki writes and the reviews are what a learner's
Anki records.
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from anki.collection import Collection, ExportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.import_export_pb2 import (
    IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER as IF_NEWER,
)
from anki.import_export_pb2 import ExportLimit, ImportAnkiPackageOptions, ImportResponse
from anki.scheduler_pb2 import CardAnswer

DECK = "Spanish Essentials"


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real, solid-colour PNG (Anki's Image Occlusion reads the image's size)."""
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


#: A tiny MP3 frame header: Anki does not decode sounds on import, it only ships the file.
MP3 = base64.b64decode("//uQxAAAAAAAAAAAAAAAAAAAAAAASW5mbwAAAA8AAAACAAACcQ==")


@dataclass(frozen=True)
class MadeDeck:
    apkg_current: Path
    apkg_legacy: Path
    notes: int
    cards: int


def _copy_with_fields(col: Collection, stock: str, name: str, extra: list[str]) -> int:
    """A renamed copy of a stock notetype with extra fields, as a maintainer makes one in Manage Note Types."""
    notetype = col.models.copy(col.models.by_name(stock), add=False)
    notetype["name"] = name
    for field_name in extra:
        col.models.add_field(notetype, col.models.new_field(field_name))
    if stock == "Basic":
        template = notetype["tmpls"][0]
        template["afmt"] += "\n{{#Example}}<div class=example>{{Example}}</div>{{/Example}}\n{{Audio}}"
    notetype["css"] += "\n.example { font-style: italic; color: #555; }\n"
    if stock == "Basic":
        notetype["css"] += '@font-face { font-family: accent; src: url("_accent.woff2"); }\n'
    return int(col.models.add_dict(notetype).id)


def _note(col: Collection, notetype: str, deck: str, fields: dict[str, str], tags: list[str]) -> int:
    note = col.new_note(col.models.by_name(notetype))
    for key, value in fields.items():
        note[key] = value
    note.tags = tags
    col.add_note(note, col.decks.id(deck))
    return int(note.id)


def fill_collection(col: Collection, media: Path) -> None:
    """About 15 notes of every shape the importer must bring across, in a nested deck tree."""
    media.mkdir(parents=True, exist_ok=True)
    (media / "casa.png").write_bytes(png(40, 30, (200, 80, 40)))
    (media / "map of spain.png").write_bytes(png(120, 90, (40, 120, 200)))
    (media / "hola.mp3").write_bytes(MP3)
    (media / "_accent.woff2").write_bytes(b"wOF2 not really a font")
    for name in ("casa.png", "map of spain.png", "hola.mp3", "_accent.woff2"):
        col.media.add_file(str(media / name))
    _copy_with_fields(col, "Basic", "Vocabulary", ["Example", "Audio", "Notes"])
    _copy_with_fields(col, "Cloze", "Cloze with Source", ["Source notes"])
    top, verbs, irregular, nouns = DECK, f"{DECK}::Verbs", f"{DECK}::Verbs::Irregular", f"{DECK}::Nouns & Things"
    _note(col, "Basic", top, {"Front": "<b>hola</b>", "Back": 'hello<br><img src="casa.png">'}, ["lang::es"])
    _note(
        col,
        "Basic",
        top,
        {
            "Front": "Which <i>articles</i> are there?",
            "Back": "<ul><li><b>el</b> (masculine)</li><li><b>la</b> (feminine)</li></ul><div>Plural: los, las</div>",
        },
        ["lang::es::grammar", "articles"],
    )
    _note(
        col,
        "Basic",
        top,
        {
            "Front": "Conjugate <u>ser</u> (present)",
            "Back": "<table><tr><th>person</th><th>form</th></tr><tr><td>yo</td><td>soy</td></tr>"
            '<tr><td>tú</td><td><span style="color: rgb(255, 0, 0);">eres</span></td></tr></table>',
        },
        ["lang::es::grammar"],
    )
    _note(
        col,
        "Basic",
        top,
        {
            "Front": "How do you print <code>hola</code> in Python?",
            "Back": '<pre><code class="language-python">print("hola")  # 4 &lt; 5</code></pre>'
            'See <a href="https://docs.python.org/3/">the docs</a>.',
        },
        ["code"],
    )
    _note(col, "Basic", top, {"Front": "Area of a circle", "Back": "\\(A = \\pi r^2\\) and \\[C = 2\\pi r\\]"}, [])
    _note(col, "Basic (and reversed card)", verbs, {"Front": "tener", "Back": "to have"}, ["lang::es::verbs"])
    _note(col, "Basic (and reversed card)", verbs, {"Front": "hablar", "Back": "to speak"}, ["lang::es::verbs"])
    _note(col, "Basic", irregular, {"Front": "ir (yo)", "Back": "voy<div><br></div><div>irregular!</div>"}, [])
    _note(col, "Cloze", top, {"Text": "{{c1::Madrid}} is the capital of {{c2::Spain::country}}"}, ["geo"])
    _note(
        col,
        "Cloze",
        top,
        {
            "Text": "The steps:<ol><li>{{c1::listen}}</li><li>{{c2::repeat}}</li></ol>",
            "Back Extra": "A <b>method</b> for \\(n\\) words",
        },
        ["method"],
    )
    _note(
        col,
        "Vocabulary",
        nouns,
        {
            "Front": "la casa",
            "Back": "the house",
            "Example": "Mi casa es tu casa.",
            "Audio": "[sound:hola.mp3]",
            "Notes": "<i>feminine</i>, like most nouns ending in -a",
        },
        ["lang::es::nouns"],
    )
    _note(col, "Vocabulary", nouns, {"Front": "el perro", "Back": "the dog", "Example": "", "Notes": ""}, [])
    _note(
        col,
        "Cloze with Source",
        nouns,
        {"Text": "Spain has {{c1::17}} autonomous communities", "Source notes": "INE, 2024"},
        ["geo"],
    )
    io = col.models.by_name("Image Occlusion")
    occlusions = (
        "{{c1::image-occlusion:rect:left=.1:top=.1:width=.3:height=.2:oi=1}}"
        "{{c2::image-occlusion:ellipse:left=.5:top=.5:rx=.1:ry=.1:oi=1}}"
    )
    col.add_image_occlusion_note(io["id"], str(media / "map of spain.png"), occlusions, "Regions", "North, south", [])
    io_note = max(col.find_notes('note:"Image Occlusion"'))
    col.set_deck(col.card_ids_of_note(io_note), col.decks.id(top))


def export_deck(col: Collection, deck_id: int, path: Path, *, legacy: bool = False) -> Path:
    """The deck exported with Anki's own exporter, media included, scheduling left out (as a maintainer shares it)."""
    col.export_anki_package(
        out_path=str(path),
        options=ExportAnkiPackageOptions(with_scheduling=False, with_media=True, legacy=legacy),
        limit=ExportLimit(deck_id=deck_id),
    )
    return path


def make_deck(folder: Path) -> MadeDeck:
    """A maintainer's collection with the deck, exported with Anki's exporter in the current and legacy formats."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "maintainer").mkdir(exist_ok=True)
    col = Collection(str(folder / "maintainer" / "collection.anki2"))
    try:
        fill_collection(col, folder / "files")
        out = {
            legacy: export_deck(
                col, col.decks.id(DECK), folder / f"spanish-{'legacy' if legacy else 'current'}.apkg", legacy=legacy
            )
            for legacy in (False, True)
        }
        return MadeDeck(out[False], out[True], col.note_count(), col.card_count())
    finally:
        col.close()


def default_import(col: Collection, apkg: Path) -> ImportResponse:
    """Anki's import with the options its import dialog starts with."""
    request = ImportAnkiPackageRequest(
        package_path=str(apkg),
        options=ImportAnkiPackageOptions(
            merge_notetypes=False,
            update_notes=IF_NEWER,
            update_notetypes=IF_NEWER,
            with_scheduling=False,
            with_deck_configs=False,
        ),
    )
    return col.import_anki_package(request)


def review_everything(col: Collection, deck: str = DECK) -> int:
    """Answer every card once with Anki's scheduler (Easy, so each gets a review interval); returns how many."""
    for did in (d.id for d in col.decks.all_names_and_ids()):
        config = col.decks.config_dict_for_deck_id(did)
        config["new"]["perDay"] = 9999
        col.decks.update_config(config)
    deck_id = col.decks.id_for_name(deck)
    assert deck_id is not None, f"no deck {deck}"
    col.decks.select(deck_id)
    answered = 0
    for _ in range(1000):
        queued = col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            break
        top = queued.cards[0]
        card = col.get_card(top.card.id)
        card.start_timer()
        col.sched.answer_card(col.sched.build_answer(card=card, states=top.states, rating=CardAnswer.EASY))
        answered += 1
    return answered
