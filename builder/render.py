"""Rendering: validated notes and their tokens → HTML fields, and the media files those fields use."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from builder import cloze
from builder.ankitext import inert
from builder.diagnostics import Diagnostics
from builder.diagrams import ENGINES
from builder.fields import field_layout
from builder.figures import Figures
from builder.ids import content_hash, note_guid
from builder.manifest import front_text, visible_text
from builder.markdown import parser
from builder.masks import mask_cloze
from builder.media import SOUND_PREFIX, MediaLibrary
from builder.models import MediaFile, NoteKind, NoteSpec, RenderedNote, construct
from builder.notekinds import typein
from builder.notekinds.occlusion import occlusion_fences, read_fence
from builder.notetypes.deckdefined import DeckNotetype
from builder.parse import RawNote
from builder.sanitize.html import clean_field
from builder.validate import body_text, diagram_fences, fence_language

_FORMATTER = HtmlFormatter(cssclass="highlight", wrapcode=True)


@dataclass(frozen=True)
class RenderedFields:
    fields: tuple[str, ...]
    media: tuple[MediaFile, ...]


#: What a fence of a given language turns into; languages not listed are highlighted as code.
FenceRenderer = Callable[[Token, EnvType], str]


@cache
def _lexer(lang: str) -> Lexer:
    # Looking a lexer up by name scans every plugin entry point; a deck uses a handful of languages.
    return get_lexer_by_name(lang)


def _render_code(token: Token, env: EnvType) -> str:
    info = token.info.strip()
    lang = info.split(maxsplit=1)[0] if info else ""
    code = token.content
    if lang and not cloze.scan(code)[0]:
        try:
            lexer = _lexer(lang)
        except ClassNotFound:
            lexer = None
        if lexer is not None:
            # The language stays on the block so that an import of the package gets the fence back.
            html = str(highlight(code, lexer, _FORMATTER))
            return html.replace('<div class="highlight">', f'<div class="highlight" data-language="{escape(lang)}">', 1)
    # Highlighting would split `{{c1::...}}` across <span>s and Anki would no longer see the cloze.
    cls = f' class="language-{escape(lang)}"' if lang else ""
    return f'<div class="highlight"><pre><code{cls}>{escape(code, quote=False)}</code></pre></div>\n'


def _render_diagram(token: Token, env: EnvType) -> str:
    figures: Figures = env["figures"]
    assert token.map is not None
    key = (env["path"], token.map[0] + 1)
    rendered = figures.images[key]
    media = MediaFile(name=rendered.media_name, data=rendered.svg)
    env["used"][media.name] = media
    # `{` as a character reference: Anki's cloze filter reads the field's raw HTML, attributes included.
    alt = escape(figures.alts[key]).replace("{", "&#123;")
    return f'<img class="diagram" src="{escape(media.name)}" alt="{alt}">\n'


# Diagram fences become images; every other language is highlighted as code.
FENCE_RENDERERS: dict[str, FenceRenderer] = dict.fromkeys(ENGINES, _render_diagram)


def _fence(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    return FENCE_RENDERERS.get(fence_language(token), _render_code)(token, env)


def _code_block(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f'<div class="highlight"><pre><code>{escape(tokens[idx].content, quote=False)}</code></pre></div>\n'


def _math_inline(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f"\\({escape(tokens[idx].content, quote=False)}\\)"


def _math_block(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f"\\[{escape(tokens[idx].content.strip(), quote=False)}\\]"


def _image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    library: MediaLibrary = env["media"]
    checked = library.check(str(token.attrs.get("src", "")))
    # Validation already reported bad references; a build never reaches here with one.
    assert isinstance(checked, Path)
    media = library.add(checked)
    env["used"][media.name] = media
    alt = escape(self.renderInlineAsText(token.children or [], options, env))
    # An Obsidian embed may give a size (`![[x.png|300]]`); the embed rule lets only digits through.
    size = "".join(f' {key}="{escape(str(token.attrs[key]))}"' for key in ("width", "height") if key in token.attrs)
    return f'<img src="{escape(media.name)}" alt="{alt}"{size}>'


def _sound(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    """Anki's own tag, with the file's content-hash name: Anki plays it (audio or video) with its player."""
    library: MediaLibrary = env["media"]
    checked = library.check(SOUND_PREFIX + tokens[idx].content)
    assert isinstance(checked, Path)
    media = library.add(checked)
    env["used"][media.name] = media
    tag = f"[sound:{escape(media.name)}]"
    # builder.ankitext leaves these tags alone and shows every other `[sound:` of the field as text.
    env.setdefault("sounds", set()).add(tag)
    return tag


_RULES: Mapping[str, Any] = {
    "fence": _fence,
    "code_block": _code_block,
    "math_inline": _math_inline,
    "math_inline_double": _math_block,
    "math_block": _math_block,
    "image": _image,
    "sound": _sound,
}


@cache
def _renderer() -> RendererHTML:
    md = parser()
    renderer = md.renderer
    assert isinstance(renderer, RendererHTML)
    for name, rule in _RULES.items():
        renderer.rules[name] = rule.__get__(renderer)
    return renderer


def _occlusion_fields(raw: RawNote, front: str, env: dict[str, Any], figures: Figures) -> tuple[str, ...]:
    """Occlusion, Image, Header, Back Extra, Comments: the occluded diagram leaves the body for the Image field."""
    (fence,) = [t for t in diagram_fences(raw) if (raw.source.path, (t.map or [0])[0] + 1) in figures.masks]
    key = (raw.source.path, (fence.map or [0])[0] + 1)
    # The class keeps the night-mode inversion every other diagram gets; a photo would carry none.
    image = _render_diagram(fence, env).strip()
    rest = [t for t in raw.body if t is not fence]
    extra = _renderer().render(rest, parser().options, env).strip()
    return (mask_cloze(figures.masks[key]), image, front, extra, "")


def _image_occlusion_fields(raw: RawNote, front: str, env: dict[str, Any]) -> tuple[str, ...]:
    """Occlusion, Image, Header, Back Extra, Comments for an image from media/ and the masks of its fence."""
    (fence,) = occlusion_fences(raw.body)
    spec = read_fence(raw.source, fence, Diagnostics())
    library: MediaLibrary = env["media"]
    checked = library.check(spec.image) if spec is not None else None
    # Validation already reported a bad fence or image; a build never reaches here with one.
    assert spec is not None and spec.valid and isinstance(checked, Path)
    media = library.add(checked)
    env["used"][media.name] = media
    # No `diagram` class: a photo or screenshot keeps its colours in night mode.
    image = f'<img src="{escape(media.name)}">'
    rest = [t for t in raw.body if t is not fence]
    extra = _renderer().render(rest, parser().options, env).strip()
    occlusion = mask_cloze(spec.shapes, occlude_inactive=spec.occlude_inactive, labels=spec.labels)
    return (occlusion, image, front, extra, "")


def _cloze_fields(front: str, back: str) -> tuple[str, ...]:
    """Text (the title above the body) and Back Extra, left for the learner's own notes."""
    return (f'<div class="df-title">{front}</div>\n{back}'.strip(), "")


def _custom_fields(raw: RawNote, notetype: DeckNotetype, front: str, env: dict[str, Any]) -> tuple[str, ...]:
    """Every field of a deck-defined notetype, from the heading and the field sections (builder.fields)."""
    layout, _ = field_layout(raw, notetype)
    fields = []
    for index in range(len(notetype.fields)):
        if index == notetype.heading and layout.heading_fills:
            fields.append(front)
            continue
        html = _renderer().render(list(layout.blocks.get(index, ())), parser().options, env).strip()
        # One paragraph is a line of text, as Anki's editor writes it: no paragraph margins around it.
        if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
            html = html[3:-4]
        fields.append(html)
    return tuple(fields)


def render_fields(
    raw: RawNote, kind: NoteKind, library: MediaLibrary, figures: Figures, notetype: DeckNotetype | None = None
) -> RenderedFields:
    """The note's fields as Anki stores them, and the media they reference (sorted by name)."""
    renderer = _renderer()
    options = parser().options
    env: dict[str, Any] = {"media": library, "used": {}, "figures": figures, "path": raw.source.path}
    front = renderer.renderInline(raw.title_token.children or [], options, env).strip()
    if notetype is not None:
        fields = _custom_fields(raw, notetype, front, env)
    elif kind is NoteKind.OCCLUSION and occlusion_fences(raw.body):
        fields = _image_occlusion_fields(raw, front, env)
    elif kind is NoteKind.OCCLUSION:
        fields = _occlusion_fields(raw, front, env, figures)
    elif kind is NoteKind.TYPEIN:
        fields = typein.fields(raw, front, lambda blocks: renderer.render(list(blocks), options, env))
    else:
        back = renderer.render(list(raw.body), options, env).strip()
        fields = _cloze_fields(front, back) if kind is NoteKind.CLOZE else (front, back)
    used: dict[str, MediaFile] = env["used"]
    if has_raw_html(raw):
        fields = _sanitised(fields, library, used)
    # Last: the sanitiser writes `&#91;` back as `[`.
    own: set[str] = env.get("sounds", set())
    fields = tuple(inert(field, own) for field in fields)
    return RenderedFields(fields, tuple(used[name] for name in sorted(used)))


_NOISE_SEGMENTS = frozenset({"latest", "userguide", "ug", "dg", "developerguide", "en_us", "en-us", "index.html"})


def _source_label(url: str) -> str:
    """A short, readable name for a cited page: its host, its first path segment and its page name."""
    parsed = urlsplit(url)
    segments = [s for s in parsed.path.split("/") if s and s.lower() not in _NOISE_SEGMENTS]
    parts = [parsed.hostname or url]
    if segments:
        parts.append(segments[0])
        page = segments[-1].rsplit(".", 1)[0] if "." in segments[-1] else segments[-1]
        if len(segments) > 1 and page:
            parts.append(page)
    return " › ".join(parts)


def source_field(sources: Sequence[str]) -> str:
    """The Source field: links to the pages a card was checked against, empty when it cites none."""
    if not sources:
        return ""
    links = " · ".join(f'<a href="{escape(url)}">{escape(_source_label(url))}</a>' for url in sources)
    return inert(f"Source: {links}")


def has_raw_html(raw: RawNote) -> bool:
    """Whether the note contains HTML written by its author (Markdown alone renders only safe HTML)."""
    if "<" not in raw.title and "<" not in body_text(raw)[0]:
        return False  # every raw HTML token starts at a `<` in the source
    blocks = (raw.title_token, *raw.body)
    return any(t.type == "html_block" for t in blocks) or any(
        child.type == "html_inline" for t in blocks for child in t.children or ()
    )


def _sanitised(fields: tuple[str, ...], library: MediaLibrary, used: dict[str, MediaFile]) -> tuple[str, ...]:
    """The fields through the content policy; a raw `<img src>` is packaged like a Markdown image."""

    def resolve(src: str) -> str | None:
        if src in used:  # already a packaged name (a Markdown image or a diagram)
            return src
        checked = library.check(src)
        if not isinstance(checked, Path):
            return None  # validation reported it
        media = library.add(checked)
        used[media.name] = media
        return media.name

    return tuple(clean_field(field, resolve) for field in fields)


def _finish_custom(
    spec: NoteSpec, rendered: RenderedFields, deck_id: int, deck: str, notetype: DeckNotetype
) -> RenderedNote:
    deck_name = spec.deck_name(deck)
    fields = rendered.fields
    return construct(
        RenderedNote,
        note_id=spec.note_id,
        guid=spec.guid or note_guid(deck_id, spec.note_id),
        kind=spec.kind,
        deck_name=deck_name,
        fields=fields,
        tags=spec.tags,
        location=spec.location,
        cloze_numbers=spec.cloze_numbers,
        media=tuple(m.name for m in rendered.media),
        front=visible_text(fields[notetype.sort_field]),
        content_hash=content_hash(f"custom:{notetype.key}", deck_name, " ".join(spec.tags), *fields),
        notetype=notetype.key,
        cards=notetype.card_ordinals(fields, spec.tags),
    )


def finish_note(
    spec: NoteSpec, rendered: RenderedFields, deck_id: int, deck: str, notetype: DeckNotetype | None = None
) -> RenderedNote:
    """The note under its deck: GUID from the deck id, full deck name, and the hash that says it changed."""
    if notetype is not None:
        return _finish_custom(spec, rendered, deck_id, deck, notetype)
    deck_name = spec.deck_name(deck)
    fields = (*rendered.fields, source_field(spec.sources))
    # Not validated again: every value comes from validated input or from the renderer, and validating per note
    # would cost more than rendering it.
    return construct(
        RenderedNote,
        note_id=spec.note_id,
        guid=spec.guid or note_guid(deck_id, spec.note_id),
        kind=spec.kind,
        deck_name=deck_name,
        fields=fields,
        tags=spec.tags,
        location=spec.location,
        cloze_numbers=spec.cloze_numbers,
        media=tuple(m.name for m in rendered.media),
        front=front_text(spec.kind, fields),
        content_hash=content_hash(spec.kind.value, deck_name, " ".join(spec.tags), *fields),
    )


def block_renderer() -> RendererHTML:
    """The configured renderer, for a check that renders a note's blocks one at a time (builder.fidelity)."""
    return _renderer()
