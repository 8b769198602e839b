"""Media types: which files a card may show or play, by extension, and whether a file's bytes are what its name says.

Anki shows images with the card's web view and plays `[sound:...]` files (audio and video) with its own player:
mpv on the desktop, the system's player on phones. The lists are what plays on every Anki client; the sniffing
reads a file's first bytes only, so a build stays cheap however large a video is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

IMAGE_SUFFIXES = (".gif", ".jpeg", ".jpg", ".png", ".svg", ".webp")
#: Audio, then video: what `[sound:...]` plays.
SOUND_SUFFIXES = (
    ".flac", ".m4a", ".mp3", ".oga", ".ogg", ".opus", ".spx", ".wav", ".3gp", ".mkv", ".mov", ".mp4", ".webm",
)  # fmt: skip
VIDEO_SUFFIXES = (".3gp", ".mkv", ".mov", ".mp4", ".webm")
#: How many bytes of a file the sniffing reads.
HEAD = 64

_ISO_BOXES = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def _iso(head: bytes) -> bool:
    return head[4:8] in _ISO_BOXES


def _mp3(head: bytes) -> bool:
    # An ID3 tag, or straight into an MPEG audio frame (11 sync bits).
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _svg(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<")


@dataclass(frozen=True)
class MediaType:
    name: str
    suffixes: tuple[str, ...]
    matches: Callable[[bytes], bool]


#: Ordered so that the first match names what a mislabelled file really is.
TYPES: tuple[MediaType, ...] = (
    MediaType("a PNG image", (".png",), lambda h: h.startswith(b"\x89PNG\r\n\x1a\n")),
    MediaType("a JPEG image", (".jpeg", ".jpg"), lambda h: h.startswith(b"\xff\xd8\xff")),
    MediaType("a GIF image", (".gif",), lambda h: h.startswith((b"GIF87a", b"GIF89a"))),
    MediaType("a WebP image", (".webp",), lambda h: h.startswith(b"RIFF") and h[8:12] == b"WEBP"),
    MediaType("WAV audio", (".wav",), lambda h: h.startswith(b"RIFF") and h[8:12] == b"WAVE"),
    MediaType("Ogg audio", (".oga", ".ogg", ".opus", ".spx"), lambda h: h.startswith(b"OggS")),
    MediaType("FLAC audio", (".flac",), lambda h: h.startswith((b"fLaC", b"ID3"))),
    MediaType("an MP4/QuickTime file", (".3gp", ".m4a", ".mov", ".mp4"), _iso),
    MediaType("a Matroska/WebM file", (".mkv", ".webm"), lambda h: h.startswith(b"\x1a\x45\xdf\xa3")),
    MediaType("MP3 audio", (".mp3",), _mp3),
    MediaType("an SVG image", (".svg",), _svg),
)
_BY_SUFFIX = {suffix: media_type for media_type in TYPES for suffix in media_type.suffixes}


def content_problem(suffix: str, head: bytes) -> str | None:
    """None when `head` (a file's first bytes) fits its extension; else what the file looks like instead."""
    expected = _BY_SUFFIX.get(suffix.lower())
    if expected is None or expected.matches(head):
        return None
    actual = next((t for t in TYPES if t is not expected and t.matches(head)), None)
    looks = f"it looks like {actual.name}" if actual is not None else "its first bytes match no known format"
    if not head:
        looks = "it is empty"
    return f"its content is not {expected.name} ({looks})"
