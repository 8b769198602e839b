"""Media: image and sound references in notes → files inside media/, shipped under content-hash names."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote

from builder.diagrams.base import DiagramError
from builder.mediatypes import HEAD, IMAGE_SUFFIXES, SOUND_SUFFIXES, content_problem
from builder.models import MediaFile
from builder.sanitize.policy import Verdict

if TYPE_CHECKING:
    from builder.sanitize.svg import CleanSvg

__all__ = [
    "IMAGE_SUFFIXES",
    "SOUND_PREFIX",
    "SOUND_SUFFIXES",
    "MediaLibrary",
    "MediaProblem",
    "media_name",
    "media_stem",
]

#: A reference that starts with this names a sound (`[sound:x.mp3]`, `![[x.mp3]]`), not an image.
SOUND_PREFIX = "sound:"
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class MediaProblem:
    code: str
    message: str
    #: A warning (something harmless was removed from the file) rather than an error.
    warning: bool = False


def sanitize_media_svg(data: bytes) -> CleanSvg:
    """An SVG file from media/ through the diagrams' sanitiser; its ids prefixed after its content."""
    # The SVG sanitiser loads with the first SVG image, not with every build.
    from builder.sanitize.svg import sanitize_svg_report

    return sanitize_svg_report(data.decode("utf-8"), id_prefix="m" + hashlib.sha256(data).hexdigest()[:8])


def media_name(stem: str, data: bytes, suffix: str) -> str:
    """`<readable-stem>-<hash>.<ext>`: a new image never takes an old one's name, so Anki never renames it.

    The stem is slugged and never starts with `_`, which Anki reserves for files it never replaces.
    """
    return f"{media_stem(stem)}-{hashlib.sha256(data).hexdigest()[:16]}{suffix.lower()}"


def media_stem(stem: str) -> str:
    """The readable part of a shipped media name: lowercase letters, digits and `-`, never empty."""
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "media"


@dataclass(frozen=True)
class _Kind:
    """What a reference asks for: an image (`![...](...)`, `![[...]]`) or a sound (`[sound:...]`)."""

    noun: str
    suffixes: tuple[str, ...]
    #: The other kind's extensions, and how to write a reference to such a file instead.
    other: tuple[str, ...]
    instead: str


_IMAGE = _Kind(
    "image",
    IMAGE_SUFFIXES,
    SOUND_SUFFIXES,
    "audio and video play from `[sound:{src}]` or `![[{src}]]`, not from image syntax",
)
_SOUND = _Kind("sound", SOUND_SUFFIXES, IMAGE_SUFFIXES, "an image is shown with `![description]({src})`")


@dataclass
class MediaLibrary:
    """Resolves author references inside one media folder and reads each file once."""

    root: Path
    _files: dict[str, MediaFile] = field(default_factory=dict)
    _checked: dict[str, Path | MediaProblem] = field(default_factory=dict)
    #: Sanitised SVG bytes by path, and the warnings of references whose SVG needed cleaning.
    _svgs: dict[str, bytes] = field(default_factory=dict)
    _warnings: dict[str, MediaProblem] = field(default_factory=dict)

    def check(self, src: str) -> Path | MediaProblem:
        """Validation and rendering both ask; the file system is asked once per reference."""
        if src not in self._checked:
            if src.startswith(SOUND_PREFIX):
                self._checked[src] = self._check(src.removeprefix(SOUND_PREFIX), _SOUND)
            else:
                self._checked[src] = self._check(src, _IMAGE)
        return self._checked[src]

    def _check(self, src: str, kind: _Kind) -> Path | MediaProblem:
        noun = kind.noun
        if _SCHEME.match(src) or src.startswith("//"):
            return MediaProblem(
                "E062",
                f"found remote {noun} `{src}`; expected a file inside media/, because Anki shows cards offline. "
                "Download it into media/ and reference it by name",
            )
        relative = PurePosixPath(unquote(src))
        if relative.is_absolute() or ".." in relative.parts:
            return MediaProblem(
                "E061",
                f"{noun} path `{src}` leaves media/; expected a path relative to media/, e.g. `diagram.png`",
            )
        suffix = relative.suffix.lower()
        if suffix not in kind.suffixes:
            hint = f"; {kind.instead.format(src=src)}" if suffix in kind.other else ""
            article = "an" if noun[0] in "aeiou" else "a"
            return MediaProblem(
                "E062",
                f"found `{src}`; expected {article} {noun} ending in {', '.join(kind.suffixes)}{hint}",
            )
        path = self.root.joinpath(*relative.parts)
        if not path.is_file():
            return MediaProblem(
                "E060",
                f"{noun} `{src}` not found in {self.root.as_posix()}/; expected the file there. "
                "Check the spelling or add the file",
            )
        # A link inside media/ (to a file, or a folder on the way) may point anywhere on the machine.
        if not path.resolve().is_relative_to(self.root.resolve()):
            return MediaProblem(
                "E061",
                f"{noun} path `{src}` leads outside media/ through a symbolic link; expected a file inside "
                "media/, because a build ships nothing else. Copy the file into media/ instead of linking it",
            )
        try:
            with path.open("rb") as file:
                head = file.read(HEAD)
        except OSError as exc:
            return MediaProblem(
                "E060",
                f"{noun} `{src}` cannot be read: {exc.strerror}; expected a readable file. Check its permissions",
            )
        wrong = content_problem(suffix, head)
        if wrong is not None:
            return MediaProblem(
                "E160",
                f"found `{src}`, but {wrong}; expected the file to be what its extension says, because Anki "
                "picks the player by the name. Re-export the file, or give it the right extension",
            )
        if path.suffix.lower() == ".svg":
            return self._check_svg(src, path)
        return path

    def _check_svg(self, src: str, path: Path) -> Path | MediaProblem:
        """An SVG ships sanitised (like a diagram); what it needed removed is an error or a warning."""
        try:
            cleaned = sanitize_media_svg(path.read_bytes())
        except (OSError, DiagramError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            return MediaProblem(
                "E075",
                f"cannot use the SVG `{src}`: {reason}; expected a static SVG image. Re-export it from the editor",
            )
        self._svgs[path.as_posix()] = cleaned.text.encode("utf-8")
        errors = [r for r in cleaned.removed if r.verdict is Verdict.ERROR]
        if errors:
            what = "; ".join(r.what for r in errors[:3]) + ("; ..." if len(errors) > 3 else "")
            return MediaProblem(
                errors[0].code,
                f"the SVG `{src}` contains {what}; expected a static image, because an SVG can run script and "
                "load remote files when a card opens it. Remove them from the file",
            )
        if cleaned.removed:
            what = "; ".join(r.what for r in cleaned.removed[:3])
            self._warnings[src] = MediaProblem(
                cleaned.removed[0].code, f"removed from the SVG `{src}`: {what}; the picture is kept", warning=True
            )
        return path

    def warning(self, src: str) -> MediaProblem | None:
        """What was harmlessly removed from a checked reference's file (an SVG), if anything."""
        return self._warnings.get(src)

    def add(self, path: Path) -> MediaFile:
        """The packaged file for a checked path."""
        key = path.as_posix()
        cached = self._files.get(key)
        if cached is None:
            data = self._svgs.get(key) or path.read_bytes()
            cached = MediaFile(name=media_name(path.stem, data, path.suffix), data=data)
            self._files[key] = cached
        return cached
