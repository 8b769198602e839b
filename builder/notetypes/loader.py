"""Loading deck-defined notetypes: `source/<deck>/notetypes/<key>/` → DeckNotetype values, or located diagnostics.

A notetype folder holds `notetype.toml` (name, fixed id, kind, fields and templates with their ids), one folder
per template with `front.html` and `back.html`, and `style.css`. The folder name is the key notes use
(`notetype: <key>`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from builder.config import Embedded, _validate
from builder.diagnostics import Diagnostics, Location
from builder.models import Frozen
from builder.notetypes import NOTETYPES_DIR
from builder.notetypes.deckdefined import (
    SPECIAL_FIELDS,
    DeckNotetype,
    FieldDef,
    TemplateDef,
    TemplateSyntaxError,
    parse_template,
    referenced_fields,
)
from builder.source import SourceFile, display_path, read_source, refuse_link

KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
_KEY = re.compile(KEY_PATTERN)
#: Anki refuses these in field names (they would break its template syntax); a name is also one line.
FieldName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^:{}\"\s#^/](?:[^:{}\"\n]*\S)?$")
]
AnkiId = Annotated[int, Field(ge=-(2**63), lt=2**63)]
_CODES = {"syntax": "E180", "unknown": "E181", "invalid": "E181"}


class FieldConfig(Frozen):
    name: FieldName
    id: AnkiId | None = None
    tag: Annotated[int, Field(ge=0, lt=2**32)] | None = None
    prevent_deletion: bool = False
    font: str = "Arial"
    size: Annotated[int, Field(ge=0, le=1000)] = 20
    rtl: bool = False
    sticky: bool = False
    plain_text: bool = False
    collapsed: bool = False
    exclude_from_search: bool = False
    description: str = ""


class TemplateConfig(Frozen):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^\S(?:.*\S)?$")]
    id: AnkiId | None = None
    #: The folder holding front.html and back.html, relative to the notetype's folder; default: the name as a slug.
    folder: Annotated[str, StringConstraints(pattern=KEY_PATTERN)] | None = None
    browser_front: str = ""
    browser_back: str = ""
    browser_font: str = ""
    browser_size: Annotated[int, Field(ge=0, le=1000)] = 0


class NotetypeConfig(Frozen):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^\S(?:.*\S)?$")]
    id: Annotated[int, Field(gt=1, lt=2**63)]
    kind: Literal["basic", "cloze"] = "basic"
    fields: tuple[FieldConfig, ...] = Field(min_length=1)
    templates: tuple[TemplateConfig, ...] = Field(min_length=1)
    sort_field: str | None = None
    heading: str | None = None
    body: str | None = None
    original_stock_kind: Annotated[int, Field(ge=0, le=100)] = 0
    latex_pre: str = ""
    latex_post: str = ""
    latex_svg: bool = False


NOTETYPE_FIELDS = {
    "name": 'the notetype\'s name in Anki, e.g. name = "Vocabulary"',
    "id": "a fixed positive integer that never changes, e.g. id = 1733059200201",
    "kind": '"basic" (one card per template) or "cloze" (one card per cloze number)',
    "fields": '[[fields]] tables with a name (and the id Anki gave it), e.g. name = "Front"',
    "templates": '[[templates]] tables with a name (and its id), e.g. name = "Card 1"',
    "sort_field": "the name of the field Anki's browser sorts by (default: the first field)",
    "heading": "the name of the field a note's `##` heading fills (default: the first field)",
    "body": 'the name of the field the text under the heading fills (default: the second; "" for none)',
    "original_stock_kind": "Anki's stock kind this notetype derives from (1 Basic … 6 Image Occlusion)",
    "latex_pre": "the LaTeX preamble Anki uses for [latex] tags",
    "latex_post": "the LaTeX that ends a [latex] document",
    "latex_svg": "true to make LaTeX images SVG",
}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64] or "template"


def template_folder(config: TemplateConfig) -> str:
    return config.folder or slug(config.name)


def _field_index(
    name: str | None, config: NotetypeConfig, key: str, where: Embedded, diagnostics: Diagnostics, default: int | None
) -> int | None:
    if name is None:
        return default if default is None or default < len(config.fields) else None
    if name == "" and key == "body":
        return None
    names = [f.name for f in config.fields]
    if name in names:
        return names.index(name)
    location, length = where.key_location(key, "=", value=True)
    diagnostics.error(
        location,
        "E181",
        f"`{key}` names field `{name}`, which the notetype does not have; expected one of "
        f"{', '.join(f'`{n}`' for n in names)}",
        length,
    )
    return default


def _check_unique(config: NotetypeConfig, where: Embedded, diagnostics: Diagnostics) -> bool:
    ok = True
    for what, items in (("field", config.fields), ("template", config.templates)):
        names = [item.name.lower() for item in items]
        ids = [item.id for item in items if item.id is not None]
        for name in sorted({n for n in names if names.count(n) > 1}):
            location, length = where.key_location("name", "=")
            diagnostics.error(
                location,
                "E181",
                f"two {what}s are named `{name}`; expected unique {what} names (Anki ignores case). Rename one",
                length,
            )
            ok = False
        for dup in sorted({i for i in ids if ids.count(i) > 1}):
            diagnostics.error(
                where.location(0, 0), "E181", f"two {what}s have id {dup}; expected unique ids. Keep the id Anki gave"
            )
            ok = False
    return ok


def _read(path: Path, what: str, root: Path, diagnostics: Diagnostics, near: Location) -> SourceFile | None:
    """One file of a notetype, read only if it is one of the source folder `root`."""
    # Its folder may be the link (reported as a linked folder by builder.source): where the file ends up counts.
    if (path.exists() or path.is_symlink()) and refuse_link(path, root, "notetype file", diagnostics):
        return None
    if not path.is_file():
        diagnostics.error(
            near,
            "E182",
            f"missing {what} `{display_path(path)}`; expected the file beside notetype.toml. Create it",
        )
        return None
    return read_source(path, diagnostics)


def _check_template(
    source: SourceFile, field_names: Sequence[str], cloze: bool, diagnostics: Diagnostics
) -> tuple[bool, set[str]]:
    try:
        nodes = parse_template(source.text)
    except TemplateSyntaxError as exc:
        diagnostics.error(Location(source.path), "E183", f"template syntax: {exc}")
        return False, set()
    used = referenced_fields(nodes)
    unknown = sorted(used - set(field_names) - SPECIAL_FIELDS)
    for name in unknown:
        offset = source.text.find(name)
        diagnostics.error(
            source.location(max(offset, 0)),
            "E183",
            f"the template uses `{name}`, which is not a field of this notetype; expected one of "
            f"{', '.join(f'`{n}`' for n in field_names)}. Anki would show an error on every card",
            len(name),
        )
    return not unknown, used


def load_notetype(folder: Path, root: Path, diagnostics: Diagnostics) -> DeckNotetype | None:
    """The notetype in `folder`, whose files must all be files of the source folder `root` (resolved)."""
    key = folder.name
    toml_path = folder / "notetype.toml"
    if refuse_link(toml_path, root, "notetype file", diagnostics):
        return None
    source = read_source(toml_path, diagnostics)
    if source is None:
        return None
    where = Embedded(source, source.text, 1, 1)
    before = len(diagnostics.errors)
    if not _KEY.match(key):
        diagnostics.error(
            Location(source.path),
            "E181",
            f"notetype folder `{key}` is not a slug; expected lowercase letters, digits and `-`, because notes "
            "name it in `notetype:`. Rename the folder",
        )
    try:
        data = tomllib.loads(source.text)
    except tomllib.TOMLDecodeError as exc:
        diagnostics.error(Location(source.path), "E180", f"invalid TOML in notetype.toml: {exc}")
        return None
    config = _validate(NotetypeConfig, data, where, "=", NOTETYPE_FIELDS, _CODES, diagnostics)
    if config is None or not _check_unique(config, where, diagnostics):
        return None
    names = [f.name for f in config.fields]
    templates = []
    asked: set[str] = set()
    for template in config.templates:
        sub = folder / template_folder(template)
        near = where.key_location("templates", "=")[0]
        front = _read(sub / "front.html", "template", root, diagnostics, near)
        back = _read(sub / "back.html", "template", root, diagnostics, near)
        if front is None or back is None:
            continue
        ok_front, used = _check_template(front, names, config.kind == "cloze", diagnostics)
        ok_back, _ = _check_template(back, names, config.kind == "cloze", diagnostics)
        asked |= used
        if ok_front and ok_back:
            templates.append(
                TemplateDef(
                    template.name,
                    template.id,
                    front.text,
                    back.text,
                    template.browser_front,
                    template.browser_back,
                    template.browser_font,
                    template.browser_size,
                )
            )
    css_source = _read(folder / "style.css", "stylesheet", root, diagnostics, Location(source.path))
    sort_field = _field_index(config.sort_field, config, "sort_field", where, diagnostics, 0)
    heading = _field_index(config.heading, config, "heading", where, diagnostics, 0)
    body = _field_index(config.body, config, "body", where, diagnostics, 1)
    if len(diagnostics.errors) > before or css_source is None or heading is None:
        return None
    return DeckNotetype(
        key=key,
        id=config.id,
        name=config.name,
        cloze=config.kind == "cloze",
        fields=tuple(FieldDef(**f.model_dump()) for f in config.fields),
        templates=tuple(templates),
        css=css_source.text,
        sort_field=sort_field or 0,
        heading=heading,
        body=body if body != heading else None,
        latex_pre=config.latex_pre,
        latex_post=config.latex_post,
        latex_svg=config.latex_svg,
        original_stock_kind=config.original_stock_kind,
    )


def load_deck_notetypes(deck_folder: Path, diagnostics: Diagnostics) -> tuple[DeckNotetype, ...]:
    """Every notetype under `<deck>/notetypes/`, sorted by key; ids and names unique within the deck."""
    root = deck_folder / NOTETYPES_DIR
    if not root.is_dir() or root.is_symlink():
        return ()
    # Deck folders sit directly in the source folder, and the build reads nothing outside it.
    source_root = deck_folder.parent.resolve()
    out = []
    # A linked notetype folder is reported with the deck's other linked folders (builder.source), not followed.
    folders = (p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
    for folder in sorted(folders):
        if not (folder / "notetype.toml").is_file() and not (folder / "notetype.toml").is_symlink():
            diagnostics.error(
                Location(display_path(folder)),
                "E182",
                f"found notetype folder `{folder.name}` without a notetype.toml; expected name, id, fields and "
                "templates in it. Add it or remove the folder",
            )
            continue
        notetype = load_notetype(folder, source_root, diagnostics)
        if notetype is not None:
            out.append(notetype)
    for attr in ("id", "name"):
        seen: dict[object, str] = {}
        for nt in out:
            value = getattr(nt, attr)
            first = seen.setdefault(value if attr == "id" else str(value).lower(), nt.key)
            if first != nt.key:
                diagnostics.error(
                    Location(display_path(root / nt.key / "notetype.toml")),
                    "E181",
                    f"notetype {attr} {value!r} is also used by notetypes/{first}; expected each notetype to have "
                    f"its own {attr}, because Anki matches notetypes by id and shows them by name. Change one",
                )
    return tuple(out)
