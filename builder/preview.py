"""Preview: built .apkg files (with their manifests) → one self-contained dist/preview/index.html of every card."""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape, unescape
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from builder.manifest import Manifest, ManifestError, ManifestNote, load
from builder.package import atomic_output
from builder.reviewer import draw_masks, players, type_answer

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.notes import Note

#: Media the page inlines as data: URIs; anything else keeps its (then broken) relative name.
MIME_TYPES = {
    ".gif": "image/gif",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".oga": "audio/ogg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".wav": "audio/wav",
    ".mkv": "video/x-matroska",
    ".mov": "video/quicktime",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
}

# A start tag with its attributes; quoted values may hold `>`. Text never matches: card HTML escapes its `<`.
_TAG = re.compile(r"""<[a-zA-Z][^\s/>]*(?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?>""")
_SRC = re.compile(r"""(\ssrc\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)

# The page's own script: night mode (#night or ?night starts in it), search (?q= fills it in), and the image
# check the tests read.
# Cards stay fully visible without it; the controls it drives are hidden until it runs.
_SCRIPT = r"""(function () {
  "use strict";
  var root = document.documentElement;
  var items = Array.prototype.slice.call(document.querySelectorAll(".pv-item"));
  var faces = document.querySelectorAll(".pv-face > .card");
  var button = document.getElementById("pv-mode");
  var search = document.getElementById("pv-search");
  var count = document.getElementById("pv-count");
  var texts = items.map(function (item) { return item.textContent; });
  function setNight(on) {
    // Anki marks night mode with both classes on the element that has class "card".
    root.classList.toggle("pv-night", on);
    for (var i = 0; i < faces.length; i++) {
      faces[i].classList.toggle("nightMode", on);
      faces[i].classList.toggle("night_mode", on);
    }
    button.textContent = on ? "Light mode" : "Night mode";
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }
  function pattern(text) {
    var source = text.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
    return new RegExp(source, "i");
  }
  function terms(query) {
    var found = [], re = /(?:(tag|deck):)?(?:"([^"]*)"?|(\S+))/gi, m;
    while ((m = re.exec(query)) !== null) {
      var value = m[2] !== undefined ? m[2] : m[3];
      if (value) { found.push({ field: (m[1] || "").toLowerCase(), re: pattern(value) }); }
    }
    return found;
  }
  function matches(item, text, term) {
    if (term.field === "tag") {
      return (item.dataset.tags || "").split(" ").some(function (tag) { return tag && term.re.test(tag); });
    }
    if (term.field === "deck") { return term.re.test(item.dataset.deck || ""); }
    return term.re.test(text);
  }
  function filter() {
    var wanted = terms(search.value), shown = 0;
    items.forEach(function (item, i) {
      var ok = wanted.every(function (term) { return matches(item, texts[i], term); });
      item.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + items.length + " cards";
  }
  var params = new URLSearchParams(location.search);
  function fromHash() { setNight(location.hash === "#night" || params.has("night")); }
  button.addEventListener("click", function () {
    var on = !root.classList.contains("pv-night");
    setNight(on);
    try {
      history.replaceState(null, "", on ? "#night" : location.pathname + location.search);
    } catch (e) { /* some browsers refuse history changes on file: pages; the toggle still works */ }
  });
  search.addEventListener("input", filter);
  window.addEventListener("hashchange", fromHash);
  document.getElementById("pv-controls").hidden = false;
  search.value = params.get("q") || "";
  fromHash();
  filter();
  window.addEventListener("load", function () {
    var images = document.images, loaded = 0;
    for (var i = 0; i < images.length; i++) {
      if (images[i].complete && images[i].naturalWidth > 0) { loaded += 1; }
    }
    document.body.dataset.imagesLoaded = loaded + "/" + images.length;
  });
})();
"""

# Only selectors with a pv- class: the card CSS styles bare elements (img, table, code, a), so the page
# chrome avoids them and cards look as they do in Anki.
_PAGE_CSS = """:root { color-scheme: light; --pv-bg: #eef1f4; --pv-panel: #ffffff; --pv-fg: #1f2328;
  --pv-muted: #57606a; --pv-line: #d0d7de; }
:root.pv-night { color-scheme: dark; --pv-bg: #0d1117; --pv-panel: #161b22; --pv-fg: #e6edf3;
  --pv-muted: #9da7b3; --pv-line: #30363d; }
body.pv-page { margin: 0; background: var(--pv-bg); color: var(--pv-fg);
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.pv-bar { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; align-items: center;
  gap: 0.5em 1em; padding: 0.6em 1em; background: var(--pv-panel); border-bottom: 1px solid var(--pv-line); }
.pv-title { margin: 0; font-size: 16px; }
.pv-decks { color: var(--pv-muted); }
.pv-controls { display: flex; flex: 1 1 24em; gap: 0.5em 1em; align-items: center; }
.pv-controls[hidden], .pv-item[hidden] { display: none; }
.pv-search { flex: 1 1 auto; min-width: 10em; font: inherit; padding: 0.35em 0.6em; color: inherit;
  background: var(--pv-bg); border: 1px solid var(--pv-line); border-radius: 6px; }
.pv-mode { font: inherit; padding: 0.35em 0.8em; color: inherit; background: var(--pv-bg);
  border: 1px solid var(--pv-line); border-radius: 6px; cursor: pointer; }
.pv-count { color: var(--pv-muted); white-space: nowrap; }
.pv-list { display: grid; gap: 1em; padding: 1em; }
.pv-item { background: var(--pv-panel); border: 1px solid var(--pv-line); border-radius: 8px; overflow: hidden; }
.pv-meta { display: flex; flex-wrap: wrap; gap: 0.2em 1em; margin: 0; padding: 0.45em 0.8em; font-size: 12px;
  color: var(--pv-muted); border-bottom: 1px solid var(--pv-line);
  font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
.pv-id { color: var(--pv-fg); font-weight: 600; }
.pv-removed { color: #cf222e; font-weight: 600; }
.pv-faces { display: grid; grid-template-columns: repeat(auto-fit, minmax(20em, 1fr)); }
.pv-face { display: flex; flex-direction: column; min-width: 0; border-top: 1px solid var(--pv-line);
  margin-top: -1px; }
.pv-face > .card { flex: 1 1 auto; }
.pv-face + .pv-face { border-left: 1px solid var(--pv-line); }
.pv-side { padding: 0.3em 0.8em 0; font-size: 11px; letter-spacing: 0.06em; text-transform: uppercase;
  color: var(--pv-muted); }
.pv-occlusion { position: relative; display: inline-block; max-width: 100%; }
.pv-occlusion > img { display: block; max-width: 100%; height: auto; }
.pv-mask { position: absolute; box-sizing: border-box; border: 1px solid #212121; }
.pv-mask-active { background: #ff8e8e; }
.pv-mask-inactive { background: #ffeba2; }
.pv-mask-highlight { background: transparent; border: 2px solid #ff8e8e; }
.pv-mask-highlight[data-shape="polygon"] { background: rgba(255, 142, 142, 0.35); }
.pv-player { display: block; max-width: 100%; margin: 0.3em 0; }
/* Anki's reviewer colours for the type-in comparison (its reviewer.scss), below the card's night-mode ones. */
:where(.pv-typeans) .typeGood { background: #afa; color: black; }
:where(.pv-typeans) .typeBad { background: #faa; color: black; }
:where(.pv-typeans) .typeMissed { background: #ccc; color: black; }
"""


class PreviewError(Exception):
    """The preview cannot be written; the message says what is missing and how to get it."""


@dataclass(frozen=True)
class _Card:
    deck: str
    note: ManifestNote | None
    guid: str
    ord: int
    template: str
    tags: tuple[str, ...]
    question: str
    answer: str

    def sort_key(self) -> tuple[str, str, int, int, str]:
        path, line = _source_parts(self.note.source if self.note else "")
        return (self.deck, path, line, self.ord, self.guid)


def _source_parts(source: str) -> tuple[str, int]:
    path, _, line = source.rpartition(":")
    return (path, int(line)) if line.isdigit() else (source, 0)


def _manifest(apkg: Path) -> Manifest:
    path = apkg.with_suffix(".json")
    try:
        return load(path)
    except ManifestError as exc:
        raise PreviewError(
            f"{exc}; expected the manifest `python -m builder build` writes beside {apkg.name}, "
            "because it maps each note to its id and source line"
        ) from exc


class _Media:
    """Turns media names referenced by card HTML into data: URIs, reading each file once."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._uris: dict[str, str | None] = {}

    def uri(self, name: str) -> str | None:
        if name not in self._uris:
            self._uris[name] = self._read(name)
        return self._uris[name]

    def _read(self, name: str) -> str | None:
        for candidate in (name, unquote(name)):
            # Anki's media folder is flat: a name with a folder part is no media reference of ours.
            if Path(candidate).name != candidate or candidate in {"", ".", ".."}:
                continue
            mime = MIME_TYPES.get(Path(candidate).suffix.lower())
            path = self._folder / candidate
            if mime and path.is_file():
                return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
        return None

    def inline(self, html: str) -> str:
        def attribute(match: re.Match[str]) -> str:
            value = next(v for v in match.group(2, 3, 4) if v is not None)
            uri = self.uri(unescape(value))
            return match.group(0) if uri is None else f'{match.group(1)}"{uri}"'

        return _TAG.sub(lambda tag: _SRC.sub(attribute, tag.group(0)), html)


def _anki() -> type[Collection]:
    try:
        from anki.collection import Collection
    except ImportError as exc:
        raise PreviewError(
            "the preview renders cards with Anki's own engine and needs the `anki` package; "
            "install it with `pip install 'deckforge[preview]'` (or run `nox -s preview`)"
        ) from exc
    return Collection


def _read_package(collection_class: type[Collection], apkg: Path, manifest: Manifest, styles: set[str]) -> list[_Card]:
    """Import one package into a throwaway collection and render every card as Anki does."""
    from anki.collection import ImportAnkiPackageRequest
    from anki.consts import MODEL_CLOZE
    from anki.import_export_pb2 import ImportAnkiPackageOptions
    from anki.sound import SoundOrVideoTag

    notes = {note.guid: note for note in manifest.notes}
    cards: list[_Card] = []
    with tempfile.TemporaryDirectory(prefix="deckforge-preview-") as work:
        col: Collection = collection_class(str(Path(work) / "collection.anki2"))
        try:
            request = ImportAnkiPackageRequest(
                package_path=str(apkg.resolve()),
                options=ImportAnkiPackageOptions(with_scheduling=False, with_deck_configs=False),
            )
            col.import_anki_package(request)
            media = _Media(Path(col.media.dir()))
            for cid in col.find_cards(""):
                card = col.get_card(cid)
                note = card.note()
                template = str(card.template()["name"])
                if card.note_type()["type"] == MODEL_CLOZE:
                    # Every card of a cloze note shares one template; Anki's browser names them "Cloze 1", ...
                    template = f"{template} {card.ord + 1}"
                # What card.question() and card.answer() return, minus the <style> they both prepend:
                # the page holds that CSS once, in its head.
                output = card.render_output()
                styles.add(output.css)
                q_files = [t.filename for t in output.question_av_tags if isinstance(t, SoundOrVideoTag)]
                a_files = [t.filename for t in output.answer_av_tags if isinstance(t, SoundOrVideoTag)]
                cards.append(
                    _Card(
                        deck=col.decks.name(card.did),
                        note=notes.get(note.guid),
                        guid=note.guid,
                        ord=card.ord,
                        template=template,
                        tags=tuple(sorted(note.tags)),
                        question=media.inline(_reviewed(col, note, output.question_text, q_files, True)),
                        answer=media.inline(_reviewed(col, note, output.answer_text, a_files, False)),
                    )
                )
        finally:
            col.close()
    return cards


def _reviewed(col: Collection, note: Note, html: str, files: Sequence[str], question: bool) -> str:
    """A rendered side with what Anki's reviewer adds drawn in: masks, the type-in box or comparison, players."""
    html = draw_masks(html)
    html = type_answer(
        html,
        question=question,
        field=lambda name: note[name] if name in note else None,  # noqa: SIM401 (an anki Note has no get)
        # What Anki shows for an answer typed as expected, from its own comparison code.
        compare=lambda expected: col.compare_answer(expected, expected, True),
    )
    return players(html, question=question, files=files)


def _face(side: str, classes: str, html: str) -> str:
    return f'<section class="pv-face"><div class="pv-side">{side}</div><div class="{classes}">{html}</div></section>\n'


def _item(card: _Card) -> str:
    note_id = card.note.id if card.note else ""
    source = card.note.source if card.note else ""
    # Anki's body classes: "card" and "card<ord+1>"; the page script adds "nightMode night_mode" at night.
    face = f"card card{card.ord + 1}"
    meta = [
        f'<span class="pv-id" title="note id">{escape(note_id or card.guid)}</span>',
        f'<span class="pv-source" title="source">{escape(source)}</span>' if source else "",
        f'<span class="pv-deck" title="deck">{escape(card.deck)}</span>',
        f'<span class="pv-template" title="card type">{escape(card.template)}</span>',
        '<span class="pv-removed">removed from the deck</span>' if card.note and card.note.removed else "",
        *(f'<span class="pv-tag" title="tag">#{escape(tag)}</span>' for tag in card.tags),
    ]
    return (
        f'<article class="pv-item" data-id="{escape(note_id)}" data-guid="{escape(card.guid)}" '
        f'data-source="{escape(source)}" data-deck="{escape(card.deck)}" data-tags="{escape(" ".join(card.tags))}" '
        f'data-template="{escape(card.template)}">\n'
        f'<p class="pv-meta">{"".join(m for m in meta if m)}</p>\n<div class="pv-faces">\n'
        f"{_face('Front', face, card.question)}{_face('Back', face, card.answer)}"
        "</div>\n</article>\n"
    )


def _page(cards: Sequence[_Card], styles: Sequence[str], decks: Sequence[str]) -> str:
    script_hash = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
    # No network at all, and only our own script runs: card HTML cannot carry scripts into the preview.
    policy = (
        "default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{script_hash}'; base-uri 'none'; form-action 'none'"
    )
    total = f"{len(cards)} of {len(cards)} cards"
    card_styles = "".join(f"<style>{css}</style>\n" for css in styles)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{escape(policy)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Preview: {escape(', '.join(decks))}</title>\n"
        f"{card_styles}<style>\n{_PAGE_CSS}</style>\n</head>\n"
        '<body class="pv-page">\n<header class="pv-bar">\n'
        f'<h1 class="pv-title">Preview</h1><span class="pv-decks">{escape(" · ".join(decks))}</span>\n'
        '<div class="pv-controls" id="pv-controls" hidden>\n'
        '<input class="pv-search" id="pv-search" type="search" aria-label="Search cards" '
        'placeholder="Search text, tag:name, deck:name (* matches anything)" autocomplete="off">\n'
        '<button class="pv-mode" id="pv-mode" type="button" aria-pressed="false">Night mode</button>\n'
        "</div>\n"
        f'<span class="pv-count" id="pv-count" aria-live="polite">{total}</span>\n</header>\n'
        f'<main class="pv-list">\n{"".join(_item(card) for card in cards)}</main>\n'
        f"<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def write_preview(packages: Sequence[Path], target_dir: Path) -> Path:
    """Render every card of `packages` with Anki and write `target_dir/index.html`; returns its path.

    Each package needs its manifest (`<stem>.json`) beside it. The same packages give the same bytes.
    """
    collection_class = _anki()
    cards: list[_Card] = []
    styles: set[str] = set()
    decks: list[str] = []
    for apkg in sorted(packages):
        if not apkg.is_file():
            raise PreviewError(f"{apkg.as_posix()} not found; expected a package written by `python -m builder build`")
        manifest = _manifest(apkg)
        decks.append(f"{manifest.deck} {manifest.version}")
        cards.extend(_read_package(collection_class, apkg, manifest, styles))
    cards.sort(key=_Card.sort_key)
    target = target_dir / "index.html"
    with atomic_output(target) as temp:
        temp.write_bytes(_page(cards, sorted(styles), sorted(decks)).encode("utf-8"))
    return target
