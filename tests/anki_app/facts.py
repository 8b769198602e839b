"""Turn the driver's raw measurements into `facts.json`: per shot, what a learner would notice, in numbers.

Per shot: every <img> with its natural and rendered size and scale; for SVG diagrams the smallest label in CSS
px as drawn (the SVG's smallest font size, from `svgfacts`, times the rendered scale); whether the page is
taller than the window and where the answer starts against the fold; brightness of the card area; and every
console message. Plus the deck tree (each deck's collapsed flags) and what was imported.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tests.anki_app.svgfacts import SvgFacts, engine_of, measure_svg

FACTS_VERSION = 1


def _round(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


@cache
def _svg(media_dir: Path, src: str) -> SvgFacts | None:
    """The facts of a diagram in the collection's media folder; None for anything that is not an SVG there."""
    src = unquote(src)  # Anki percent-encodes media names in the card's HTML
    path = media_dir / src
    if not src or "/" in src or "\\" in src or not src.lower().endswith(".svg") or not path.is_file():
        return None
    return measure_svg(path.read_text(encoding="utf-8", errors="replace"))


def image_facts(image: dict[str, Any], svg: SvgFacts | None) -> dict[str, Any]:
    natural_w, natural_h = image["natural"]
    box = image["box"]
    # With an SVG the exact natural width is the file's (the DOM rounds naturalWidth to whole px).
    base_w = svg.natural_width if svg is not None else natural_w
    scale = box["width"] / base_w if base_w else 0.0
    facts: dict[str, Any] = {
        "src": image["src"],
        "alt": image["alt"],
        "classes": image["classes"],
        "natural": [natural_w, natural_h],
        "rendered": [_round(box["width"], 1), _round(box["height"], 1)],
        "top": _round(box["top"], 1),
        "scale": _round(scale),
        "visible": box["width"] > 0 and box["height"] > 0,
        "loaded": bool(image["complete"]) and natural_w > 0,
        "filter": image["filter"],
        "engine": engine_of(None, image["alt"], image["classes"]) if svg is None else svg.engine,
        "smallest_label": None,
    }
    if svg is not None and svg.smallest is not None:
        facts["smallest_label"] = {
            "text": svg.smallest.text,
            "svg_px": svg.smallest.px,
            "px": _round(svg.smallest.px * scale, 2),
        }
    return facts


def shot_facts(raw: dict[str, Any], media_dir: Path) -> dict[str, Any]:
    page = raw["page"]
    images = [image_facts(image, _svg(media_dir, image["src"])) for image in page["images"]]
    labels = [i["smallest_label"]["px"] for i in images if i["visible"] and i["smallest_label"]]
    viewport_w, viewport_h = page["viewport"]
    answer_top = page["answer_top"] if raw.get("side") == "answer" else None
    facts = {key: value for key, value in raw.items() if key not in ("page", "console")}
    facts.update(
        {
            "images": images,
            "smallest_label_px": min(labels) if labels else None,
            "viewport": [viewport_w, viewport_h],
            "body_classes": page["body_classes"],
            "text": page["qa_text"],
            "layout": {
                "content_height": page["content_height"],
                "overflows": page["content_height"] > viewport_h + 1,
                "scroll_y": _round(page["scroll_y"], 1),
                # Document coordinates: how far down the answer starts, and how far below the fold (negative: above).
                "answer_top": None if answer_top is None else _round(answer_top, 1),
                "answer_below_fold_px": None if answer_top is None else _round(answer_top - viewport_h, 1),
                # What the learner sees first: Anki scrolls to the answer rule, if there is one.
                "answer_in_view": None
                if answer_top is None
                else page["scroll_y"] - 1 <= answer_top < page["scroll_y"] + viewport_h,
                "occlusion_canvas": page["occlusion_canvas"]
                and {k: _round(v, 1) for k, v in page["occlusion_canvas"].items()},
            },
            "deck_rows": page["deck_rows"],
            "typeans": page.get("typeans"),
            "sound_buttons": len(page.get("sound_buttons", [])),
            "console": raw["console"],
            "js_errors": [m for m in raw["console"] if m["level"] == "error"],
        }
    )
    return facts


def build(raw: dict[str, Any], media_dir: Path) -> dict[str, Any]:
    return {
        "version": FACTS_VERSION,
        "anki": raw["versions"],
        "imports": raw["imports"],
        "decks": raw["decks"],
        "targets": raw["targets"],
        "missing_kinds": raw["missing_kinds"],
        "shots": {name: shot_facts(shot, media_dir) for name, shot in sorted(raw["shots"].items())},
    }


def write(facts: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(facts, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
