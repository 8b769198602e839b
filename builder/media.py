"""Media: image references in notes → files inside media/, shipped under content-hash names."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from builder.models import MediaFile

IMAGE_SUFFIXES = (".gif", ".jpeg", ".jpg", ".png", ".svg", ".webp")
#: What Anki plays from a `[sound:...]` tag.
SOUND_SUFFIXES = (".mp3", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".flac", ".spx", ".webm", ".mp4", ".3gp")
#: A reference that starts with this names a sound file (`[sound:x.mp3]` in a note), not an image.
SOUND_PREFIX = "sound:"
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


@dataclass(frozen=True)
class MediaProblem:
    code: str
    message: str


def media_name(stem: str, data: bytes, suffix: str) -> str:
    """`<readable-stem>-<hash>.<ext>`: a new image never takes an old one's name, so Anki never renames it.

    The stem is slugged and never starts with `_`, which Anki reserves for files it never replaces.
    """
    return f"{media_stem(stem)}-{hashlib.sha256(data).hexdigest()[:16]}{suffix.lower()}"


def media_stem(stem: str) -> str:
    """The readable part of a shipped media name: lowercase letters, digits and `-`, never empty."""
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:40] or "media"


@dataclass
class MediaLibrary:
    """Resolves author references inside one media folder and reads each file once."""

    root: Path
    _files: dict[str, MediaFile] = field(default_factory=dict)
    _checked: dict[str, Path | MediaProblem] = field(default_factory=dict)

    def check(self, src: str) -> Path | MediaProblem:
        """Validation and rendering both ask; the file system is asked once per reference."""
        if src not in self._checked:
            self._checked[src] = self._check(src)
        return self._checked[src]

    def _check(self, src: str) -> Path | MediaProblem:
        if src.startswith(SOUND_PREFIX):
            return self._check_file(src.removeprefix(SOUND_PREFIX), "sound", SOUND_SUFFIXES)
        return self._check_file(src, "image", IMAGE_SUFFIXES)

    def _check_file(self, src: str, what: str, suffixes: tuple[str, ...]) -> Path | MediaProblem:
        if _SCHEME.match(src) or src.startswith("//"):
            return MediaProblem(
                "E062",
                f"found remote {what} `{src}`; expected a file inside media/, because Anki shows cards offline. "
                "Download it into media/ and reference it by name",
            )
        relative = PurePosixPath(unquote(src))
        if relative.is_absolute() or ".." in relative.parts:
            return MediaProblem(
                "E061",
                f"{what} path `{src}` leaves media/; expected a path relative to media/, e.g. `diagram.png`",
            )
        if relative.suffix.lower() not in suffixes:
            return MediaProblem(
                "E062",
                f"found `{src}`; expected {'an' if what == 'image' else 'a'} {what} ending in {', '.join(suffixes)}",
            )
        path = self.root.joinpath(*relative.parts)
        if not path.is_file():
            return MediaProblem(
                "E060",
                f"{what} `{src}` not found in {self.root.as_posix()}/; expected the file there. "
                "Check the spelling or add the file",
            )
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            return MediaProblem(
                "E060",
                f"image `{src}` cannot be read: {exc.strerror}; expected a readable file. Check its permissions",
            )
        return path

    def add(self, path: Path) -> MediaFile:
        """The packaged file for a checked path."""
        key = path.as_posix()
        cached = self._files.get(key)
        if cached is None:
            data = path.read_bytes()
            cached = MediaFile(name=media_name(path.stem, data, path.suffix), data=data)
            self._files[key] = cached
        return cached
