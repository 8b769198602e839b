"""An imported notetype → its source folder: notetype.toml, `<template>/front.html` and `back.html`, style.css.

Ids, names, field and template order, CSS and the settings Anki keeps per field are written as they are, so the
rebuilt deck's notetype is the one learners have: Anki updates their notes in place instead of forking a copy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from builder.importer.apkg import PackageField, PackageNotetype
from builder.importer.layout import heading_fields
from builder.importer.names import LayoutError, slugify, toml_string, windows_reserved
from builder.notetypes.deckdefined import SPECIAL_FIELDS, TemplateSyntaxError, parse_template, referenced_fields
from builder.notetypes.loader import FieldName, slug
from builder.source import MAX_LINE_LENGTH

_FIELD_NAME = re.compile(r"^[^:{}\"\s#^/](?:[^:{}\"\n]*\S)?$")
_DEFAULT_FIELD = PackageField("", None)
_NAME = re.compile(r"^\S(?:.*\S)?$")


def notetype_keys(notetypes: Iterable[PackageNotetype]) -> dict[int, str]:
    """A folder name for every notetype: its name as a slug, numbered in id order when two names agree."""
    keys: dict[int, str] = {}
    taken: set[str] = set()
    for nt in sorted(notetypes, key=lambda n: n.id):
        base = slugify(nt.name, "notetype", 56)
        key, n = base, 2
        while key in taken:
            key = f"{base}-{n}"
            n += 1
        taken.add(key)
        keys[nt.id] = key
    return keys


def check_notetype(nt: PackageNotetype) -> None:
    """LayoutError (E176) for a notetype the builder cannot reproduce exactly."""
    problems = []
    if not nt.fields or not nt.templates:
        problems.append("it has no fields or no templates")
    if not 1 < nt.id < 2**63:
        problems.append(f"its id {nt.id} is not a positive Anki id")
    for f in nt.fields:
        if not _FIELD_NAME.match(f.name) or len(f.name) > 100:
            problems.append(f"field name `{f.name}` cannot be written as a `### ` section heading")
    # What Anki can hold but a notetype.toml cannot (builder.notetypes.loader), said here rather than by a build of
    # the written files, which would blame the importer.
    if not _NAME.match(nt.name) or len(nt.name) > 200:
        problems.append("its name is empty, longer than 200 characters or starts or ends with a space")
    for t in nt.templates:
        if not _NAME.match(t.name) or len(t.name) > 100:
            problems.append(
                f"template name `{t.name[:60]}` is empty, longer than 100 characters or starts or ends with a space"
            )
        if t.browser_size > 1000:
            problems.append(f"template `{t.name[:60]}` has the browser font size {t.browser_size}; expected 0 to 1000")
    for f in nt.fields:
        if f.size > 1000:
            problems.append(f"field `{f.name[:60]}` has the font size {f.size}; expected 0 to 1000")
    if not 0 <= nt.original_stock_kind <= 100:
        problems.append(f"its stock kind {nt.original_stock_kind} is not one Anki has")
    lowered = [f.name.lower() for f in nt.fields]
    if len(set(lowered)) != len(lowered):
        problems.append("two fields share a name")
    if len({t.name.lower() for t in nt.templates}) != len(nt.templates):
        problems.append("two templates share a name")
    for t in nt.templates:
        for side, text in (("front", t.question), ("back", t.answer)):
            try:
                used = referenced_fields(parse_template(text))
            except TemplateSyntaxError as exc:
                problems.append(f"template `{t.name}` ({side}) does not parse: {exc}")
                continue
            unknown = sorted(used - {f.name for f in nt.fields} - SPECIAL_FIELDS)
            if unknown:
                problems.append(f"template `{t.name}` ({side}) uses unknown fields {', '.join(unknown)}")
    if problems:
        raise LayoutError(
            "E176",
            f"notetype `{nt.name}` ({nt.id}) is not supported: {'; '.join(problems)}. Fix it in Anki "
            "(Tools > Manage Note Types) and export again",
        )
    _ = FieldName


def _field_lines(f: PackageField) -> list[str]:
    lines = ["[[fields]]", f"name = {toml_string(f.name)}"]
    if f.id is not None:
        lines.append(f"id = {f.id}")
    for attr in ("tag", "prevent_deletion", "font", "size", "rtl", "sticky", "plain_text", "collapsed"):
        value = getattr(f, attr)
        if value != getattr(_DEFAULT_FIELD, attr) and value is not None:
            lines.append(f"{attr} = {_toml_value(value)}")
    if f.exclude_from_search:
        lines.append("exclude_from_search = true")
    if f.description:
        lines.append(f"description = {toml_string(f.description)}")
    return lines


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return toml_string(str(value))


def notetype_files(nt: PackageNotetype) -> dict[str, str]:
    """The notetype's folder: relative path → text."""
    heading, body = heading_fields(nt)
    lines = [
        f"name = {toml_string(nt.name)}",
        f"id = {nt.id}",
        f'kind = "{"cloze" if nt.cloze else "basic"}"',
    ]
    if nt.sort_field:
        lines.append(f"sort_field = {toml_string(nt.fields[nt.sort_field].name)}")
    if heading != 0:
        lines.append(f"heading = {toml_string(nt.fields[heading].name)}")
    if body != (1 if len(nt.fields) > 1 else None):
        lines.append(f"body = {toml_string(nt.fields[body].name if body is not None else '')}")
    if nt.original_stock_kind:
        lines.append(f"original_stock_kind = {nt.original_stock_kind}")
    if nt.latex_pre:
        lines.append(f"latex_pre = {toml_string(nt.latex_pre)}")
    if nt.latex_post:
        lines.append(f"latex_post = {toml_string(nt.latex_post)}")
    if nt.latex_svg:
        lines.append("latex_svg = true")
    files: dict[str, str] = {}
    for f in nt.fields:
        lines += ["", *_field_lines(f)]
    taken: set[str] = set()
    for t in nt.templates:
        folder = base = slug(t.name)
        if windows_reserved(base):
            folder = f"{base}-template"
        n = 2
        while folder in taken:
            folder = f"{base}-{n}"[:64]
            n += 1
        taken.add(folder)
        lines += ["", "[[templates]]", f"name = {toml_string(t.name)}"]
        if t.id is not None:
            lines.append(f"id = {t.id}")
        if folder != base:
            lines.append(f"folder = {toml_string(folder)}")
        for attr, value in (
            ("browser_front", t.browser_question),
            ("browser_back", t.browser_answer),
            ("browser_font", t.browser_font),
        ):
            if value:
                lines.append(f"{attr} = {toml_string(value)}")
        if t.browser_size:
            lines.append(f"browser_size = {t.browser_size}")
        files[f"{folder}/front.html"] = t.question
        files[f"{folder}/back.html"] = t.answer
    files["notetype.toml"] = "\n".join(lines) + "\n"
    files["style.css"] = wrap_css(nt.css)
    return files


#: Where a line of minified CSS is broken: well under the builder's line limit, so diffs stay readable too.
_CSS_WRAP = 200
#: Comments, strings and parentheses without quotes (an unquoted `url(...)` may hold a `}`) stay whole.
_CSS_TOKEN = re.compile(
    r"/\*.*?(?:\*/|$)|\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?|\([^()\"']*\)|[^\"'/}(]+|[/(]|\}", re.DOTALL
)


def wrap_css(css: str) -> str:
    """Minified CSS (one line of a whole stylesheet, as many decks ship it) broken after its rules' `}`, which is
    no change to the stylesheet: a newline there is white space between rules, never inside a string, a comment
    or a value. CSS whose lines are all short enough is written as it is."""
    if all(len(line) <= MAX_LINE_LENGTH for line in css.split("\n")):
        return css
    parts: list[str] = []
    width = 0
    for token in _CSS_TOKEN.findall(css):
        parts.append(token)
        width = len(token) - token.rfind("\n") - 1 if "\n" in token else width + len(token)
        if token == "}" and width >= _CSS_WRAP:
            parts.append("\n")
            width = 0
    return "".join(parts)
