"""Structured input: deck.toml, front matter and metadata comments → frozen models, or located diagnostics."""

from __future__ import annotations

import re
import reprlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from builder.diagnostics import PER_FILE_LIMIT, Diagnostics, Location, did_you_mean, one_line, quote
from builder.models import DeckConfig, FileSettings, NoteMeta
from builder.nesting import nesting_point
from builder.simpleyaml import load_plain
from builder.source import SourceFile

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Embedded:
    """A snippet of structured text inside a file: where its first character sits."""

    source: SourceFile
    text: str
    line: int
    col: int

    def at(self, index: int) -> Location:
        """The location of the character `index` characters into the snippet.

        YAML's own line numbers also count U+0085, U+2028 and U+2029 as line breaks, which the file's numbering
        (and every editor's) does not: a mark's character index is the one both agree on.
        """
        start = self.source.offset(self.line, self.col)
        return self.source.location(start + max(0, min(index, len(self.text))))

    def location(self, rel_line: int, rel_col: int) -> Location:
        """Map a 0-based line/column inside the snippet to the file."""
        if rel_line == 0:
            return Location(self.source.path, self.line, self.col + rel_col)
        return Location(self.source.path, self.line + rel_line, rel_col + 1)

    def key_location(self, key: str, separator: str, *, value: bool = False) -> tuple[Location, int]:
        """Where `key:` (YAML) or `key =` (TOML) is written, or its value with `value=True`; else the start.

        Also returns how many characters to underline.
        """
        pattern = re.compile(
            rf"^([ \t]*)([\"']?{re.escape(key)}[\"']?[ \t]*{separator}[ \t]*)(.*?)[ \t]*(?:-->)?$", re.MULTILINE
        )
        match = pattern.search(self.text)
        if match is None:
            return self.location(0, 0), 1
        rel_line = self.text[: match.start()].count("\n")
        if value and match.group(3):
            return self.location(rel_line, len(match.group(1)) + len(match.group(2))), len(match.group(3))
        return self.location(rel_line, len(match.group(1))), len(key)


#: Values quoted in messages: a few levels and items, never the whole of a list the author (or an alias) made huge.
_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxlist, _REPR.maxdict, _REPR.maxtuple = 2, 4, 4, 4
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 60, 60, 40


def shown_value(value: object) -> str:
    """A value as a message quotes it: bounded in length and nesting, on one line."""
    if isinstance(value, str):
        return f"`{quote(value)}`"
    return quote(_REPR.repr(value), 80)


# Messages for the pydantic errors an author can cause, keyed by error type.
def _describe(error: ErrorDetails, key: str, fields: Mapping[str, str]) -> str:
    shown = shown_value(error.get("input"))
    kind = error["type"]
    expected = fields.get(key, "a valid value")
    if kind == "extra_forbidden":
        known = ", ".join(f"`{k}`" for k in fields)
        return f"unknown key `{quote(key)}`; expected one of {known}.{did_you_mean(key[:100], fields)}"
    if kind == "missing":
        return f"missing required key `{key}`; expected {expected}. Add it"
    found = str(error.get("ctx", {}).get("error", "")) if kind == "value_error" else ""
    if found.startswith("found "):
        # The deck name and id validators (builder.models) say what they found, in this message's words.
        return f"{found} in `{key}`; expected {expected}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"found {shown} for `{key}`; expected {expected}, written without quotes or a decimal point"
    return f"found {shown} for `{key}`; expected {expected}"


def _report(
    exc: ValidationError,
    where: Embedded,
    separator: str,
    fields: Mapping[str, str],
    codes: Mapping[str, str],
    diagnostics: Diagnostics,
) -> None:
    errors = exc.errors()
    for count, error in enumerate(errors):
        if count == PER_FILE_LIMIT:
            # Each is located by a search of the text: a mapping of 4,000 bad keys must not cost 4,000 searches.
            diagnostics.error(
                where.location(0, 0),
                codes["invalid"],
                f"{len(errors) - count:,} more problem(s) in these values; fix the ones above first",
            )
            return
        key = str(error["loc"][0]) if error["loc"] else ""
        at_value = error["type"] not in ("extra_forbidden", "missing")
        location, length = where.key_location(key, separator, value=at_value)
        if error["type"] == "extra_forbidden":
            code = codes["unknown"]
        elif error["type"] == "missing":
            code = codes.get("missing", codes["invalid"])
        else:
            code = codes.get(key, codes["invalid"])
        diagnostics.error(location, code, _describe(error, key, fields), length)


def _validate(
    model: type[M],
    data: object,
    where: Embedded,
    separator: str,
    fields: Mapping[str, str],
    codes: Mapping[str, str],
    diagnostics: Diagnostics,
) -> M | None:
    if not isinstance(data, dict):
        kind = "nothing" if data is None else f"a {type(data).__name__}"
        diagnostics.error(
            where.location(0, 0),
            codes["syntax"],
            f"found {kind}; expected a mapping of keys to values, e.g. `{next(iter(fields))}: ...`",
        )
        return None
    # YAML turns `tags: a, b` into a string and TOML gives lists; the models want tuples.
    cleaned: dict[str, Any] = {str(k): tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return model.model_validate(cleaned)
    except ValidationError as exc:
        _report(exc, where, separator, fields, codes, diagnostics)
        return None


def _load_yaml(where: Embedded, code: str, what: str, diagnostics: Diagnostics) -> tuple[bool, object]:
    plain = load_plain(where.text)
    if plain is not None:
        return True, plain
    # PyYAML loads with the first metadata that is not in the plain `key: value` form.
    import yaml

    from builder.saferyaml import YamlRefused, load_bounded

    try:
        return True, load_bounded(where.text)
    except YamlRefused as exc:
        diagnostics.error(where.at(exc.index), code, f"{exc.problem} in {what}; {exc.advice}")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = where.at(mark.index) if mark else where.at(0)
        problem = one_line(exc.problem or "invalid YAML")
        diagnostics.error(location, code, f"invalid YAML in {what}: {problem}; expected `key: value` lines")
    except yaml.reader.ReaderError as exc:
        diagnostics.error(
            where.at(exc.position),
            code,
            f"invalid YAML in {what}: found character U+{exc.character:04X}, which YAML does not allow; "
            "expected printable text. Delete it",
        )
    except yaml.YAMLError as exc:
        diagnostics.error(where.at(0), code, f"invalid YAML in {what}: {quote(str(exc), 200)}")
    return False, None


DECK_FIELDS = {
    "name": (
        "a non-empty name whose `::` parts are not empty, have no spaces at their ends, no control characters, "
        'quotes, `<` or `>`, and is not `Default`, e.g. name = "AWS Certified AI Practitioner"'
    ),
    "id": (
        "a fixed whole number from 2 to 2^53-1 that never changes (1 is Anki's Default deck), e.g. id = 1733059200001"
    ),
    "version": (
        "a semantic version (numbers of at most 9 digits, a pre-release label of at most 100 characters), "
        'e.g. version = "1.2.0"'
    ),
    "description": "a string shown on the deck overview screen",
    "removed": 'a list of note ids removed since the last release, e.g. removed = ["old-note"]',
    "repository": "the deck's GitHub repository as https://github.com/OWNER/REPO (no trailing `/` or `.git`), "
    'e.g. repository = "https://github.com/octocat/my-deck"; every card then links to its source line',
    "tag": "the git tag of a release: letters, digits, `._/-` and {version} (required) or {slug}, "
    'e.g. tag = "{slug}-v{version}" (default "v{version}")',
}
_DECK_CODES = {"syntax": "E011", "unknown": "E012", "invalid": "E013", "repository": "E190", "tag": "E191"}


#: TOML nested deeper than this is refused before parsing: tomllib recurses once per level.
TOML_NESTING = 32
#: Digits of the longest integer read from TOML: its spec allows 64-bit integers, Python's int() stops at 4300.
_LONG_DIGITS = re.compile(r"[0-9_]{4000,}")


def load_deck_config(source: SourceFile, diagnostics: Diagnostics) -> DeckConfig | None:
    where = Embedded(source, source.text, 1, 1)
    deep = nesting_point(source.text, TOML_NESTING)
    if deep is not None:
        diagnostics.error(
            source.location(deep),
            "E011",
            f"invalid TOML in deck.toml: arrays or tables nested more than {TOML_NESTING} levels deep; "
            "expected `key = value` lines with flat values",
        )
        return None
    try:
        data = tomllib.loads(source.text)
    except ValueError as exc:
        if not isinstance(exc, tomllib.TOMLDecodeError):
            # Only an integer past Python's digit limit gets here (tomllib converts it before checking).
            long_number = _LONG_DIGITS.search(source.text)
            at = source.location(long_number.start()) if long_number else where.location(0, 0)
            diagnostics.error(
                at,
                "E011",
                "invalid TOML in deck.toml: found an integer with thousands of digits; expected a 64-bit integer, "
                "e.g. id = 1733059200001",
            )
            return None
        message = str(exc)
        match = re.search(r"\(at line (\d+), column (\d+)\)", message)
        location = Location(source.path, int(match.group(1)), int(match.group(2))) if match else where.location(0, 0)
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        diagnostics.error(
            location,
            "E011",
            f"invalid TOML in deck.toml: {quote(reason, 200)}; expected `key = value` lines, strings quoted",
        )
        return None
    return _validate(DeckConfig, data, where, "=", DECK_FIELDS, _DECK_CODES, diagnostics)


FRONT_MATTER_FIELDS = {
    "deck": (
        "a subdeck path appended to the deck name with ::, its parts not empty and without spaces at their ends, "
        "control characters, quotes, `<` or `>`, e.g. deck: Basics::Terms"
    ),
    "tags": "a list of tags without spaces, quotes, `<` or `>`, e.g. tags: [topic::rag, service::bedrock]",
    "notetype": "the folder name of one of the deck's notetypes, used by every note of the file that names none",
}
_FRONT_CODES = {"syntax": "E020", "unknown": "E021", "invalid": "E022", "notetype": "E184"}


def load_front_matter(source: SourceFile, text: str, line: int, diagnostics: Diagnostics) -> FileSettings | None:
    where = Embedded(source, text, line, 1)
    ok, data = _load_yaml(where, "E020", "front matter", diagnostics)
    if not ok:
        return None
    if data is None:
        return FileSettings()
    return _validate(FileSettings, data, where, ":", FRONT_MATTER_FIELDS, _FRONT_CODES, diagnostics)


META_FIELDS = {
    "id": "lowercase letters, digits and `-`, 3 to 64 characters, e.g. `id: bedrock-pricing`",
    "type": "`basic`, `reverse` or `typein` (cloze notes are recognised from their {{c1::...}}, occlusion notes "
    "from their ```occlusion fence)",
    "tags": "a list of tags without spaces, quotes, `<` or `>`, e.g. tags: [topic::rag]",
    "ignore": "a list of linter rules to silence for this note, e.g. ignore: [long-answer]",
    "source": "an https URL of the page the card was checked against, or a list of them, "
    "e.g. source: https://docs.aws.amazon.com/bedrock/latest/userguide/guardrails.html",
    "notetype": "the folder name of one of the deck's notetypes under notetypes/, e.g. notetype: vocabulary",
    "guid": "the note's Anki GUID (kept from an imported deck), printable and without spaces, e.g. guid: 'b?r=|PX'",
}
_META_CODES = {
    "syntax": "E032",
    "unknown": "E033",
    "invalid": "E036",
    "missing": "E030",
    "id": "E034",
    "tags": "E037",
    "notetype": "E184",
    "guid": "E186",
}


def load_note_meta(
    source: SourceFile, text: str, line: int, col: int, diagnostics: Diagnostics
) -> tuple[NoteMeta | None, bool]:
    """The note's metadata, and whether it at least had an id (so a second error about it is not needed)."""
    where = Embedded(source, text, line, col)
    ok, data = _load_yaml(where, "E032", "the note's metadata comment", diagnostics)
    if not ok:
        return None, True
    meta = _validate(NoteMeta, data, where, ":", META_FIELDS, _META_CODES, diagnostics)
    has_id = isinstance(data, dict) and "id" in data
    return meta, has_id
