"""The zip writer: what any zip reader (Python's, Anki's) gets back, and bytes that do not depend on the machine."""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from builder.archive import CHUNK, Member, deflate, write_zip


def _data(size: int) -> bytes:
    """Compressible but not trivial: numbered lines with hashes in them, like rows of a collection."""
    lines = (f"note {i} {hashlib.sha256(str(i).encode()).hexdigest()[:12]}\n" for i in range(size // 20 + 1))
    return "".join(lines).encode()[:size]


def test_members_read_back_exactly_with_fixed_metadata(tmp_path: Path) -> None:
    members = [
        Member("collection.anki2", _data(3 * CHUNK + 12345)),
        Member("media", b'{"0": "img-1a2b.png"}'),
        Member("0", b""),
    ]
    path = tmp_path / "deck.apkg"
    write_zip(path, members)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["collection.anki2", "media", "0"]
        for info, member in zip(infos, members, strict=True):
            assert archive.read(info) == member.data
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.create_system == 3
    # Deflated in chunks, it still compresses like one stream.
    whole = zlib.compress(members[0].data, 6)
    assert infos[0].compress_size < len(whole) * 1.02


def test_bytes_do_not_depend_on_the_number_of_threads() -> None:
    data = _data(5 * CHUNK + 1)
    with ThreadPoolExecutor(1) as one, ThreadPoolExecutor(4) as four:
        serial, parallel = deflate(data, one), deflate(data, four)
    assert serial == parallel
    assert zlib.decompress(serial, -15) == data


def test_chunk_boundaries_round_trip() -> None:
    with ThreadPoolExecutor(2) as pool:
        for size in (0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK):
            data = _data(size)
            assert zlib.decompress(deflate(data, pool), -15) == data, size
