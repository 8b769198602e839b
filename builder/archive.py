"""Zip archives: named byte strings → one deterministic zip file, large members deflated on every core.

zipfile deflates each member on one core, and a 50,000-note collection takes about half a second to
deflate, on one core, at the end of the build. Here a member is cut into fixed 512 KiB chunks that are
deflated in parallel (zlib releases the GIL) and joined into one stream, as pigz does: every chunk but the
last ends on a byte boundary (a sync flush), and each chunk starts with the 32 KiB before it as its
dictionary, so it compresses as well as one stream would. Chunks are cut by size, never by core count, so
the bytes are the same on every machine. Entries carry a fixed date, mode 0644 and no extra fields.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from builder.options import available_cores

#: Uncompressed bytes per independently deflated chunk.
CHUNK = 1 << 19
#: Deflate's window: what a chunk may refer back to in the chunk before it.
_WINDOW = 1 << 15
LEVEL = 6
#: 1980-01-01 00:00:00 in MS-DOS date and time fields: the earliest a zip can say, and never the build's time.
_DOS_DATE, _DOS_TIME = (0 << 9) | (1 << 5) | 1, 0
_VERSION = 20
#: "Made by" Unix (3), so readers honour the mode bits below.
_MADE_BY = (3 << 8) | _VERSION
_MODE = 0o100644 << 16
_LIMIT = 0xFFFFFFFF


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes


def _chunk(data: bytes, start: int) -> bytes:
    end = min(start + CHUNK, len(data))
    if start:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, zdict=data[max(0, start - _WINDOW) : start])
    else:
        compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -15)
    body = compressor.compress(data[start:end])
    return body + compressor.flush(zlib.Z_FINISH if end == len(data) else zlib.Z_SYNC_FLUSH)


def deflate(data: bytes, pool: ThreadPoolExecutor) -> bytes:
    """One raw deflate stream of `data`, its chunks compressed on the pool's threads."""
    # An empty member is still one (empty, finished) stream.
    return b"".join(pool.map(lambda start: _chunk(data, start), range(0, max(len(data), 1), CHUNK)))


def write_zip(path: Path, members: Sequence[Member]) -> None:
    """Write `members`, in order, deflated, as a zip file at `path`."""
    central: list[bytes] = []
    with ThreadPoolExecutor(available_cores()) as pool, path.open("wb") as out:
        for member in members:
            if len(member.data) >= _LIMIT:
                raise ValueError(f"{member.name} is 4 GiB or more, which needs ZIP64")
            name = member.name.encode("ascii")
            body = deflate(member.data, pool)
            # version needed, flags, method, time, date, crc, compressed and uncompressed size, name length
            common = struct.pack(
                "<HHHHHIIIH", _VERSION, 0, zlib.DEFLATED, _DOS_TIME, _DOS_DATE, zlib.crc32(member.data), len(body),
                len(member.data), len(name),
            )  # fmt: skip
            offset = out.tell()
            if offset + len(body) >= _LIMIT:
                raise ValueError(f"the archive passes 4 GiB at {member.name}, which needs ZIP64")
            # Local header: no extra field.
            out.write(struct.pack("<I", 0x04034B50) + common + struct.pack("<H", 0) + name + body)
            # Central entry: no extra field or comment, disk 0, no internal attributes, the mode, the offset.
            central.append(
                struct.pack("<IH", 0x02014B50, _MADE_BY) + common + struct.pack("<HHHHII", 0, 0, 0, 0, _MODE, offset)
                + name
            )  # fmt: skip
        start = out.tell()
        directory = b"".join(central)
        out.write(directory)
        count = len(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), start, 0))
