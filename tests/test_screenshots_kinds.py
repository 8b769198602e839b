"""The note kinds of issue 17 in the real Anki desktop app: type-in answers, Image Occlusion on an image, audio,
and Obsidian's callouts and highlights, photographed by the harness (tests/anki_app) from the fixture deck
fixtures/notekinds, light and night, desktop and phone, question and answer.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.anki_app.job import MODES, SIDES, SIZES
from tests.conftest import FIXTURES, REPO, build_deck

HARNESS_TIMEOUT = 300
KINDS = ("type-in", "image-occlusion-photo", "audio", "basic")


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory, _session_cache: Path) -> dict[str, dict[str, Any]]:
    out = tmp_path_factory.mktemp("kinds")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
        mp.setenv("BUILDER_CACHE_DIR", str(_session_cache))
        deck = FIXTURES / "notekinds"
        assert build_deck(deck / "source", deck / "media", out, "--strict") == 0
    folder = out / "screenshots"
    command = [sys.executable, "-m", "tests.anki_app", str(out / "kinds-1.0.0.apkg"), "--out", str(folder)]
    done = subprocess.run(
        [*command, "--timeout", "240"], cwd=REPO, capture_output=True, text=True, timeout=HARNESS_TIMEOUT, check=False
    )
    assert done.returncode == 0, f"the harness failed:\n{done.stdout}\n{done.stderr}"
    facts: dict[str, dict[str, Any]] = json.loads((folder / "facts.json").read_text(encoding="utf-8"))["shots"]
    return facts


def _each(shots: dict[str, dict[str, Any]], kind: str, side: str) -> Iterator[dict[str, Any]]:
    found = [s for s in shots.values() if s["kind"] == kind and s["side"] == side]
    assert len(found) == len(MODES) * len(SIZES), (kind, side, [s["file"] for s in found])
    yield from found


def test_every_kind_is_shot_cleanly(shots: dict[str, dict[str, Any]]) -> None:
    expected = {f"{m}-{z.name}-{k}-{s}" for m in MODES for z in SIZES for k in KINDS for s in SIDES}
    assert expected <= set(shots), sorted(expected - set(shots))
    for name, shot in shots.items():
        assert shot["other_windows"] == [], f"{name}: a dialog was open: {shot['other_windows']}"
        assert shot["js_errors"] == [], name
        if shot["kind"] != "deck-list":
            assert shot["reviewer_state"] == shot["side"], name
            assert ("nightMode" in shot["body_classes"].split()) == (shot["mode"] == "night"), name


def test_type_in_box_on_the_front_and_anki_compares_on_the_back(shots: dict[str, dict[str, Any]]) -> None:
    for shot in _each(shots, "type-in", "question"):
        box = shot["typeans"]
        assert box is not None and box["tag"] == "input", shot["file"]
        # The box spans the card's column, whatever the window.
        assert box["box"]["width"] > 0.8 * min(shot["viewport"][0], 800) - 40, (shot["file"], box["box"])
        assert "Textract" not in shot["text"], "the answer is not on the question"
    for shot in _each(shots, "type-in", "answer"):
        # The driver typed the answer with its first letter's case flipped: one wrong letter, one missed.
        assert shot["typed"] == "textract"
        compared = shot["typeans"]
        assert compared is not None and compared["tag"] == "code", shot["file"]
        assert (compared["bad"], compared["missed"]) == (1, 1) and compared["good"] >= 1, compared
        assert "Textract goes beyond OCR" in shot["text"], "the explanation follows the comparison"


def test_occlusion_on_a_photo_masks_it_and_keeps_its_colours(shots: dict[str, dict[str, Any]]) -> None:
    for side in SIDES:
        for shot in _each(shots, "image-occlusion-photo", side):
            (image,) = shot["images"]
            assert image["visible"] and image["rendered"][0] > 0.5 * min(shot["viewport"][0], 800), image
            # A photo is not a diagram: never inverted at night.
            assert "diagram" not in image["classes"] and image["filter"] in ("", "none"), image
            canvas = shot["layout"]["occlusion_canvas"]
            assert canvas and canvas["width"] >= 0.95 * image["rendered"][0], (shot["file"], canvas)
            label_shown = "Amazon API Gateway" in shot["text"]
            assert label_shown == (side == "answer"), (shot["file"], shot["text"])
            assert "AWS Lambda" not in shot["text"], "another card's label stays hidden"


def test_audio_plays_on_the_answer_with_a_replay_button(shots: dict[str, dict[str, Any]]) -> None:
    for shot in _each(shots, "audio", "question"):
        assert shot["played"] == [] and shot["sound_buttons"] == 0, shot["file"]
    for shot in _each(shots, "audio", "answer"):
        assert shot["sound_buttons"] == 1, shot["file"]
        (played,) = shot["played"]
        assert played.startswith("tone-") and played.endswith(".wav"), played


def test_obsidian_callout_and_highlight(shots: dict[str, dict[str, Any]]) -> None:
    for shot in _each(shots, "basic", "answer"):
        assert "Exam cue" in shot["text"] and "[!tip]" not in shot["text"] and "==" not in shot["text"], shot["text"]
