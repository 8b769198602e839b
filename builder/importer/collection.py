"""A package's SQLite collection → its notetypes, decks, notes and cards, every value checked (builder.importer.values).

Schema 11 (`collection.anki2`, `.anki21`) keeps notetypes and decks as JSON in the `col` row; schema 18
(`collection.anki21b`) in tables of their own, with protobuf settings. Notes and cards are rows in both.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterator

from builder.importer import protowire as pw
from builder.importer import values as v
from builder.importer.model import (
    Malformed,
    PackageCard,
    PackageDeck,
    PackageField,
    PackageNote,
    PackageNotetype,
    PackageTemplate,
)

_TRIM = re.compile(r"^[\s:]+|[\s:]+$")


def anki_deck_name(levels: list[str]) -> str:
    """The name Anki gives a deck on import (rslib's `normalized_deck_name_component`), levels joined with `::`.

    Anki drops control characters and trims spaces and colons from every level, and names an empty level
    `blank`: a package's `Top::` is `Top::blank` in the learner's collection, so it is that here too.
    """
    out = []
    for level in levels:
        level = "".join(c for c in unicodedata.normalize("NFC", level) if ord(c) >= 32 and c != "\x7f")
        out.append(_TRIM.sub("", level) or "blank")
    return "::".join(out)


def _col(db: sqlite3.Connection, column: str) -> object:
    row = db.execute(f"SELECT {column} FROM col").fetchone()
    if row is None:
        raise Malformed("has no `col` row; expected one row with the collection's notetypes and decks")
    return v.document(v.text(row[0], f"`col.{column}`"), f"`col.{column}`")


def _optional_text(value: object, what: str, default: str = "") -> str:
    """A string with a default when absent or null (older exporters leave some out)."""
    return default if value is None else v.text(value, what)


def _ordered(items: list[object], what: str) -> Iterator[dict[str, object]]:
    """Fields or templates in their `ord` order (Anki's `Option<u16>`; when absent, their position)."""
    checked = [v.mapping(item, f"{what} {i + 1}") for i, item in enumerate(items)]
    keys = [
        (i if item.get("ord") is None else v.whole(item["ord"], f"the `ord` of {what} {i + 1}", 0, v.UINT16_MAX), i)
        for i, item in enumerate(checked)
    ]
    for _, i in sorted(keys):
        yield checked[i]


def _json_field(f: dict[str, object], what: str) -> PackageField:
    name = v.text(f.get("name"), f"the name of {what}")
    where = f"field `{name[:60]}` of {what}"
    description = f.get("description")
    return PackageField(
        name=name,
        id=v.lenient(f.get("id"), v.INT64_MIN, v.INT64_MAX),
        tag=v.lenient(f.get("tag"), 0, v.UINT32_MAX),
        prevent_deletion=v.flag(f.get("preventDeletion")),
        font=_optional_text(f.get("font"), f"the font of {where}", "Arial"),
        size=v.whole(f.get("size", 20), f"the font size of {where}", 0, v.UINT16_MAX),
        rtl=v.flag(f.get("rtl")),
        sticky=v.flag(f.get("sticky")),
        plain_text=v.flag(f.get("plainText")),
        collapsed=v.flag(f.get("collapsed")),
        exclude_from_search=v.flag(f.get("excludeFromSearch")),
        description=description if isinstance(description, str) else "",
    )


def _json_template(t: dict[str, object], what: str) -> PackageTemplate:
    name = v.text(t.get("name"), f"the name of {what}")
    where = f"template `{name[:60]}` of {what}"
    font = t.get("bfont")
    return PackageTemplate(
        name=name,
        id=v.lenient(t.get("id"), v.INT64_MIN, v.INT64_MAX),
        question=v.text(t.get("qfmt"), f"the front of {where}"),
        answer=_optional_text(t.get("afmt"), f"the back of {where}"),
        browser_question=_optional_text(t.get("bqfmt"), f"the browser front of {where}"),
        browser_answer=_optional_text(t.get("bafmt"), f"the browser back of {where}"),
        browser_font=font if isinstance(font, str) else "",
        browser_size=v.lenient(t.get("bsize"), 0, 255) or 0,
    )


def _json_notetypes(db: sqlite3.Connection) -> tuple[PackageNotetype, ...]:
    out = []
    for key, raw in v.mapping(_col(db, "models"), "`col.models`").items():
        model = v.mapping(raw, f"notetype {key[:30]} in `col.models`")
        name = v.text(model.get("name"), f"the name of notetype {key[:30]}")
        what = f"notetype `{name[:60]}`"
        css, svg = model.get("css"), model.get("latexsvg")
        fields = v.sequence(model.get("flds"), f"the fields of {what}")
        templates = v.sequence(model.get("tmpls"), f"the templates of {what}")
        out.append(
            PackageNotetype(
                id=v.whole(model.get("id"), f"the id of {what}", numeric_text=True),
                name=name,
                mtime=v.whole(model.get("mod", 0), f"the modification time of {what}"),
                cloze=v.whole(model.get("type", 0), f"the kind (`type`) of {what}", 0, 1) == 1,
                sort_field=v.whole(model.get("sortf", 0), f"the sort field of {what}", 0, v.UINT16_MAX),
                css=css if isinstance(css, str) else "",
                fields=tuple(_json_field(f, what) for f in _ordered(fields, f"field of {what}")),
                templates=tuple(_json_template(t, what) for t in _ordered(templates, f"template of {what}")),
                latex_pre=_optional_text(model.get("latexPre"), f"the LaTeX preamble of {what}"),
                latex_post=_optional_text(model.get("latexPost"), f"the LaTeX postamble of {what}"),
                latex_svg=svg is True,
                original_stock_kind=v.whole(
                    model.get("originalStockKind") or 0, f"the stock kind of {what}", -(2**31), 2**31 - 1
                ),
            )
        )
    return tuple(out)


def _config(value: object, what: str) -> pw.Fields:
    if not isinstance(value, bytes):
        raise Malformed(f"{what} is {v.shown(value)}; expected a protobuf BLOB")
    return pw.decode(value)


def _table_notetypes(db: sqlite3.Connection) -> tuple[PackageNotetype, ...]:
    fields: dict[int, list[PackageField]] = {}
    for ntid, name, config in db.execute("SELECT ntid, name, config FROM fields ORDER BY ntid, ord"):
        c = _config(config, "a field's config")
        fields.setdefault(v.whole(ntid, "a field's notetype id"), []).append(
            PackageField(
                name=v.text(name, f"the name of a field of notetype {ntid}"),
                id=pw.optional_integer(c, 9, signed=True),
                tag=v.lenient(pw.optional_integer(c, 10), 0, v.UINT32_MAX),
                prevent_deletion=pw.boolean(c, 11),
                font=pw.text(c, 3),
                size=v.whole(pw.integer(c, 4), f"the font size of field `{name}`", 0, v.UINT32_MAX),
                rtl=pw.boolean(c, 2),
                sticky=pw.boolean(c, 1),
                plain_text=pw.boolean(c, 6),
                collapsed=pw.boolean(c, 7),
                exclude_from_search=pw.boolean(c, 8),
                description=pw.text(c, 5),
            )
        )
    templates: dict[int, list[PackageTemplate]] = {}
    for ntid, name, config in db.execute("SELECT ntid, name, config FROM templates ORDER BY ntid, ord"):
        c = _config(config, "a template's config")
        templates.setdefault(v.whole(ntid, "a template's notetype id"), []).append(
            PackageTemplate(
                name=v.text(name, f"the name of a template of notetype {ntid}"),
                id=pw.optional_integer(c, 8, signed=True),
                question=pw.text(c, 1),
                answer=pw.text(c, 2),
                browser_question=pw.text(c, 3),
                browser_answer=pw.text(c, 4),
                browser_font=pw.text(c, 6),
                browser_size=v.whole(pw.integer(c, 7), f"the browser font size of template `{name}`", 0, v.UINT32_MAX),
            )
        )
    out = []
    for ntid, name, mtime, config in db.execute("SELECT id, name, mtime_secs, config FROM notetypes ORDER BY id"):
        c = _config(config, "a notetype's config")
        ntid = v.whole(ntid, "a notetype's id")
        name = v.text(name, f"the name of notetype {ntid}")
        out.append(
            PackageNotetype(
                id=ntid,
                name=name,
                mtime=v.whole(mtime, f"the modification time of notetype `{name[:60]}`"),
                cloze=pw.integer(c, 1) == 1,
                sort_field=pw.integer(c, 2),
                css=pw.text(c, 3),
                fields=tuple(fields.get(ntid, ())),
                templates=tuple(templates.get(ntid, ())),
                latex_pre=pw.text(c, 5),
                latex_post=pw.text(c, 6),
                latex_svg=pw.boolean(c, 7),
                original_stock_kind=pw.integer(c, 9),
            )
        )
    return tuple(out)


def _json_decks(db: sqlite3.Connection) -> tuple[PackageDeck, ...]:
    out = []
    for key, raw in v.mapping(_col(db, "decks"), "`col.decks`").items():
        deck = v.mapping(raw, f"deck {key[:30]} in `col.decks`")
        name = v.text(deck.get("name"), f"the name of deck {key[:30]}")
        kind = deck.get("dyn", 0)
        out.append(
            PackageDeck(
                v.whole(deck.get("id"), f"the id of deck `{name[:60]}`", numeric_text=True),
                anki_deck_name(name.split("::")),
                _optional_text(deck.get("desc"), f"the description of deck `{name[:60]}`"),
                kind is True or (isinstance(kind, int) and kind == 1),
            )
        )
    return tuple(sorted(out, key=lambda d: d.id))


def _table_decks(db: sqlite3.Connection) -> tuple[PackageDeck, ...]:
    out = []
    for deck_id, name, kind in db.execute("SELECT id, name, kind FROM decks ORDER BY id"):
        deck_id = v.whole(deck_id, "a deck's id")
        normal = pw.messages(_config(kind, f"the kind of deck {deck_id}"), 1)
        description = pw.text(normal[0], 4) if normal else ""
        # Schema 18 separates levels with U+001F; everywhere else they are `::`.
        levels = v.text(name, f"the name of deck {deck_id}").split("\x1f")
        out.append(PackageDeck(deck_id, anki_deck_name(levels), description, not normal))
    return tuple(out)


def _notes(db: sqlite3.Connection) -> tuple[PackageNote, ...]:
    out = []
    for nid, guid, mid, mod, tags, flds in db.execute("SELECT id, guid, mid, mod, tags, flds FROM notes ORDER BY id"):
        note = f"note {nid}" if isinstance(nid, int) else "a note"
        out.append(
            PackageNote(
                v.whole(nid, "a note's id"),
                # Never str(): a BLOB's b'...' would be a new GUID, and the learner's note a stranger to the build.
                v.text(guid, f"the GUID of {note}"),
                v.whole(mid, f"the notetype id of {note}"),
                v.whole(mod, f"the modification time of {note}"),
                tuple(v.text(tags, f"the tags of {note}").split()),
                tuple(v.text(flds, f"the fields of {note}").split("\x1f")),
            )
        )
    return tuple(out)


def _cards(db: sqlite3.Connection) -> tuple[PackageCard, ...]:
    out = []
    for cid, nid, did, ord_, odid in db.execute("SELECT id, nid, did, ord, odid FROM cards ORDER BY id"):
        card = f"card {cid}" if isinstance(cid, int) else "a card"
        home = v.whole(odid, f"the original deck of {card}")
        out.append(
            PackageCard(
                v.whole(cid, "a card's id"),
                v.whole(nid, f"the note id of {card}"),
                home or v.whole(did, f"the deck of {card}"),
                v.whole(ord_, f"the ordinal of {card}"),
            )
        )
    return tuple(out)


def read_collection(
    db: sqlite3.Connection,
) -> tuple[tuple[PackageNotetype, ...], tuple[PackageDeck, ...], tuple[PackageNote, ...], tuple[PackageCard, ...]]:
    """Malformed, sqlite3.Error or pw.WireError when the collection is not what Anki writes."""
    tables = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notetypes'").fetchone()
    notetypes = _table_notetypes(db) if tables else _json_notetypes(db)
    decks = _table_decks(db) if tables else _json_decks(db)
    return notetypes, decks, _notes(db), _cards(db)
