"""Protocol Buffers wire format: a message's bytes → its fields by number, for the few Anki messages we read.

Anki's current packages keep notetype, field, template and deck settings and the media list as protobuf
messages. We read a handful of fields from them; a decoder of the wire format (varints and length-delimited
values) is a few lines, where the generated classes would mean depending on Anki itself at import time.
"""

from __future__ import annotations

from collections import defaultdict

#: Wire types: 0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit (3 and 4, groups, are obsolete).
_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


class WireError(ValueError):
    """Bytes that are not a protobuf message."""


Fields = dict[int, list[int | bytes]]


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise WireError("truncated or overlong varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def decode(data: bytes) -> Fields:
    """Every field of one message: number → values in order (repeated fields have several)."""
    fields: defaultdict[int, list[int | bytes]] = defaultdict(list)
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire == _VARINT:
            value, pos = _varint(data, pos)
            fields[number].append(value)
        elif wire == _LENGTH:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise WireError("length runs past the end of the message")
            fields[number].append(data[pos : pos + size])
            pos += size
        elif wire in (_FIXED64, _FIXED32):
            width = 8 if wire == _FIXED64 else 4
            if pos + width > len(data):
                raise WireError("truncated fixed-width value")
            fields[number].append(int.from_bytes(data[pos : pos + width], "little"))
            pos += width
        else:
            raise WireError(f"unsupported wire type {wire}")
    return dict(fields)


def integer(fields: Fields, number: int, default: int = 0, *, signed: bool = False) -> int:
    """The last value of a varint field (proto3 keeps the last one); `signed` reads an int64 two's complement."""
    values = fields.get(number)
    if not values:
        return default
    value = values[-1]
    if not isinstance(value, int):
        raise WireError(f"field {number} is not a number")
    if signed and value >= 1 << 63:
        value -= 1 << 64
    return value


def optional_integer(fields: Fields, number: int, *, signed: bool = False) -> int | None:
    return integer(fields, number, signed=signed) if fields.get(number) else None


def sint32(fields: Fields, number: int) -> int:
    """A zigzag-encoded sint32."""
    value = integer(fields, number)
    return (value >> 1) ^ -(value & 1)


def boolean(fields: Fields, number: int) -> bool:
    return integer(fields, number) != 0


def raw(fields: Fields, number: int) -> bytes:
    values = fields.get(number)
    if not values:
        return b""
    value = values[-1]
    if not isinstance(value, bytes):
        raise WireError(f"field {number} is not length-delimited")
    return value


def text(fields: Fields, number: int) -> str:
    try:
        return raw(fields, number).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError(f"field {number} is not UTF-8") from exc


def messages(fields: Fields, number: int) -> list[Fields]:
    """A repeated (or single) embedded message field, decoded."""
    out = []
    for value in fields.get(number, []):
        if not isinstance(value, bytes):
            raise WireError(f"field {number} is not a message")
        out.append(decode(value))
    return out
