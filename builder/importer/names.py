"""Names an imported deck gets: slugs for ids, files and folders, quoted YAML and TOML, portable media names."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable

from builder.importer.model import MediaEntry, Package
from builder.media import media_stem

_PLAIN_YAML = re.compile(r"^[A-Za-z][A-Za-z0-9 _./()-]*(?:::[A-Za-z0-9 _./()-]+)*(?<! )$")
#: Device names Windows reserves in every folder, with any extension and in any case (`con.md`, `Aux.png`): a
#: repository holding one cannot be checked out there. COM0/LPT0 and the superscript digits count too.
_WINDOWS_RESERVED = re.compile(
    r"^(?:con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3])(?:\..*)?$", re.I
)
#: A media name our builder gave: a readable stem, then the first 16 hex digits of the file's sha256.
_BUILT_NAME = re.compile(r"^(.*)-([0-9a-f]{16})$")


class LayoutError(Exception):
    """The package cannot become a deck folder (several deck trees, unsafe media names, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def windows_reserved(name: str) -> bool:
    """Whether Windows refuses `name` as a file or folder name (a device name, whatever follows its first dot)."""
    return bool(_WINDOWS_RESERVED.match(name.rstrip(" .")))


def slugify(text: str, fallback: str, limit: int = 48) -> str:
    """A slug of `text`; a Windows device name gets the fallback word appended (`con` → `con-deck`)."""
    out = _slug(text, fallback, limit)
    return f"{out}-{fallback}" if windows_reserved(out) else out


def _slug(text: str, fallback: str, limit: int) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-").split("-")
    out = ""
    for word in words:
        if not word:
            continue
        if len(out) + len(word) + 1 > limit:
            break
        out = f"{out}-{word}" if out else word
    if not out and words and words[0]:
        out = words[0][:limit]
    return out or fallback


def yaml_string(text: str, *, quote: bool = False) -> str:
    """A YAML scalar for `text`: plain when safe, else double-quoted; `>` escaped so `-->` never appears."""
    if (
        not quote
        and _PLAIN_YAML.match(text)
        and text.lower() not in ("yes", "no", "on", "off", "true", "false", "null", "y", "n")
    ):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace(">", "\\x3e").replace("\n", "\\n")
    return f'"{escaped}"'


def toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _safe_media_name(name: str) -> bool:
    """Anki's own rule for names it accepts on import, plus: nothing that would leave media/."""
    return not (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or name.startswith(".")
        or any(ord(c) < 32 for c in name)
        or len(name.encode()) > 255
    )


def plan_media(
    package: Package, folder: str, data: Callable[[MediaEntry], bytes], renamed: list[tuple[str, str]] | None = None
) -> dict[str, str]:
    """Package media name → path under media/ (`<folder>/<name>`); LayoutError for names that would leave media/.

    Names become what the build makes of them anyway (lowercase letters, digits and `-`), so the file in media/
    is the one a learner's card names, less its content hash; a package our builder made gets its names back.
    A Windows device name (`CON.png`) gets `-media` after its stem; `renamed` collects those (old, new) pairs.
    """
    unsafe = [entry.name for entry in package.media if not _safe_media_name(entry.name)]
    if unsafe:
        shown = ", ".join(f"`{n[:60]}`" for n in unsafe[:5])
        raise LayoutError(
            "E175",
            f"the package names media files {shown}{' and more' if len(unsafe) > 5 else ''}, which would be "
            "written outside media/; expected plain file names. The package is damaged or hostile: "
            "export it again from Anki",
        )
    taken: set[str] = set()
    out: dict[str, str] = {}
    for entry in sorted(package.media, key=lambda e: e.name):
        stem, dot, suffix = entry.name.rpartition(".")
        if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,10}", suffix):
            stem, suffix = entry.name, ""
        built = _BUILT_NAME.match(stem)
        if built and hashlib.sha256(data(entry)).hexdigest()[:16] == built.group(2):
            stem = built.group(1)
        stem = media_stem(stem)
        suffix = f".{suffix.lower()}" if suffix else ""
        reserved = windows_reserved(stem)
        if reserved:
            stem = f"{stem}-media"
        candidate, n = f"{stem}{suffix}", 2
        while candidate in taken:
            candidate = f"{stem}-{n}{suffix}"
            n += 1
        taken.add(candidate)
        out[entry.name] = f"{folder}/{candidate}"
        if reserved and renamed is not None:
            renamed.append((entry.name, out[entry.name]))
    return out
