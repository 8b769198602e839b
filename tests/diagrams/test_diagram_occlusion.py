"""Diagram occlusion: markers are stripped, masks cover the rendered labels, and Anki reads the cloze text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from diagram_testkit import contains, label_anchors

from builder.diagrams import ENGINES
from builder.diagrams.base import DiagramError
from builder.diagrams.occlusion import Mask, OcclusionLabel, find_label_boxes, mask_cloze, strip_markers
from builder.diagrams.sanitize import sanitize_svg

DOT = """digraph pipeline {
  rankdir=LR;
  tok [label="{{c1::Tokenizer}}"];
  emb [label="Embeddings", shape=box];
  sam [label="{{c2::Sampler}}", shape=box];
  two [label="{{c3::Two\\nLines}}"];
  tok -> emb -> sam -> two;
}
"""


def _render(lang: str, source: str) -> str:
    return sanitize_svg(ENGINES[lang].render(source, timeout=60), id_prefix="o")


def test_strip_markers_keeps_text_and_positions() -> None:
    source = 'a [label="{{c1::Tok}}"]\nb [label="{{c2::Sam::a hint}}"]; c [label="{{c1::Tok}}"]\n'
    clean, labels = strip_markers(source)
    assert clean == 'a [label="Tok"]\nb [label="Sam"]; c [label="Tok"]\n'
    assert [(lab.ordinal, lab.text, lab.line, lab.column) for lab in labels] == [
        (1, "Tok", 1, 11),
        (2, "Sam", 2, 11),
        (1, "Tok", 2, 44),
    ]
    assert all(clean[lab.start : lab.end] == lab.text for lab in labels)


def test_strip_markers_rejects_c0_and_empty_labels() -> None:
    with pytest.raises(DiagramError) as caught:
        strip_markers("x\n  {{c0::A}}")
    assert (caught.value.line, caught.value.column) == (2, 3)
    with pytest.raises(DiagramError):
        strip_markers("{{c1:: }}")


def test_graphviz_masks_cover_the_marked_labels() -> None:
    clean, labels = strip_markers(DOT)
    assert "{{" not in clean
    svg = _render("dot", clean)
    masks = find_label_boxes(svg, labels)
    anchors = label_anchors(svg)
    by_ordinal = {m.ordinal: m for m in masks}
    assert sorted(by_ordinal) == [1, 2, 3] and len(masks) == 3
    assert contains(by_ordinal[1], anchors["Tokenizer"])
    assert contains(by_ordinal[2], anchors["Sampler"])
    assert contains(by_ordinal[3], anchors["Two"]) and contains(by_ordinal[3], anchors["Lines"])
    for mask in masks:
        assert not contains(mask, anchors["Embeddings"])  # the unmarked node stays visible
        assert mask.left >= 0 and mask.left + mask.width <= 1 and mask.top >= 0 and mask.top + mask.height <= 1
    # The mask covers the label's whole width, not only its anchor: estimate ~0.5 em per glyph at 14 px.
    view_width = float(ET.fromstring(svg).attrib["viewBox"].split()[2])
    assert by_ordinal[1].width * view_width >= len("Tokenizer") * 14 * 0.5


def test_edge_labels_get_a_text_box() -> None:
    clean, labels = strip_markers('digraph { a -> b [label="{{c1::tokens}}"]; }')
    svg = _render("dot", clean)
    (mask,) = find_label_boxes(svg, labels)
    assert contains(mask, label_anchors(svg)["tokens"])
    assert mask.width < 0.9 and mask.height < 0.5  # not the whole picture


@pytest.mark.parametrize("lang", ["mermaid", "d2"])
def test_mermaid_and_d2_node_masks(lang: str) -> None:
    source = {
        "mermaid": "flowchart LR\n  A[{{c1::Tokenizer}}] --> B[Decoder] --> C[{{c2::Sampler}}]\n",
        "d2": "tok: {{c1::Tokenizer}}\ndec: Decoder\nsam: {{c2::Sampler}}\ntok -> dec -> sam\n",
    }[lang]
    clean, labels = strip_markers(source)
    svg = _render(lang, clean)
    masks = find_label_boxes(svg, labels)
    assert [m.ordinal for m in masks] == [1, 2]
    anchors = label_anchors(svg, nodes=lang == "mermaid")
    assert contains(masks[0], anchors["Tokenizer"]) and contains(masks[1], anchors["Sampler"])
    assert not any(contains(m, anchors["Decoder"]) for m in masks)
    first, second = masks
    apart_x = first.left + first.width < second.left or second.left + second.width < first.left
    apart_y = first.top + first.height < second.top or second.top + second.height < first.top
    assert apart_x or apart_y


def test_mermaid_label_wrapped_onto_several_rows_is_found() -> None:
    long = "A long label that Mermaid wraps onto several rows of text"
    clean, labels = strip_markers(f"flowchart LR\n  A[{{{{c1::{long}}}}}] --> B[Other]\n")
    svg = _render("mermaid", clean)
    assert svg.count("text-outer-tspan row") > 2  # really wrapped
    (mask,) = find_label_boxes(svg, labels)
    anchors = label_anchors(svg, nodes=True)
    assert contains(mask, anchors[long.replace(" ", "")]) and not contains(mask, anchors["Other"])


def test_missing_label_is_a_clear_error() -> None:
    svg = _render("dot", 'digraph { a [label="Tokenizer"]; }')
    label = OcclusionLabel(1, "Detokenizer", 4, 9, 0, 11)
    with pytest.raises(DiagramError, match="Detokenizer") as caught:
        find_label_boxes(svg, [label])
    assert caught.value.line == 4


def test_mask_cloze_matches_anki_format() -> None:
    masks = [
        Mask(2, 0.5, 0.2, 0.25, 0.1),
        Mask(1, 0.6, 0.4, 0.2, 0.1),
        Mask(1, 0.1, 0.4, 1.0, 0.03125),
        Mask(1, 0.0, 0.1, 0.33333, 0.1),
    ]
    assert mask_cloze(masks) == (
        "{{c1::image-occlusion:rect:left=.0000:top=.1:width=.3333:height=.1:oi=1}}<br>"
        "{{c1::image-occlusion:rect:left=.1:top=.4:width=1.:height=.0313:oi=1}}<br>"
        "{{c1::image-occlusion:rect:left=.6:top=.4:width=.2:height=.1:oi=1}}<br>"
        "{{c2::image-occlusion:rect:left=.5:top=.2:width=.25:height=.1:oi=1}}<br>"
    )
    assert mask_cloze(masks[:1], occlude_inactive=False) == (
        "{{c2::image-occlusion:rect:left=.5:top=.2:width=.25:height=.1}}<br>"
    )


def test_anki_parses_the_occlusion_field(tmp_path: Path) -> None:
    from anki.collection import Collection

    clean, labels = strip_markers(DOT)
    svg = _render("dot", clean)
    text = mask_cloze(find_label_boxes(svg, labels))
    image = tmp_path / "diagram.svg"
    image.write_text(svg, encoding="utf-8")
    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        col._backend.add_image_occlusion_notetype()
        notetype = next(m for m in col.models.all_names_and_ids() if "Occlusion" in m.name)
        col._backend.add_image_occlusion_note(
            image_path=str(image), occlusions=text, header="", back_extra="", tags=[], notetype_id=notetype.id
        )
        (note_id,) = col.find_notes("")
        parsed = col._backend.get_image_occlusion_note(note_id).note
        assert parsed.occlude_inactive
        occlusions = sorted(parsed.occlusions, key=lambda o: o.ordinal)
        assert [o.ordinal for o in occlusions] == [1, 2, 3]
        first = {p.name: p.value for p in occlusions[0].shapes[0].properties}
        assert occlusions[0].shapes[0].shape == "rect"
        assert set(first) == {"left", "top", "width", "height", "oi"}
        cards = col.get_note(note_id).cards()
        assert len(cards) == 3
        assert 'data-shape="rect"' in cards[0].question()
    finally:
        col.close()
