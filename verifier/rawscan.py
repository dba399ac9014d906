"""The raw-bytes scan: search a file's bytes for identifiers and original UIDs.

Pixel data value bytes are left out (image data would give chance hits); everything else,
preamble and elements the parser never reached included, is searched.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Iterable

from .identifiers import Identifier, Matcher

_UID = re.compile(rb"(?<![0-9.])[0-9]+(?:\.[0-9]+){2,}(?![0-9.])")
_BULK_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN"}
_SEQ_DELIM = b"\xfe\xff\xdd\xe0"


@dataclass(frozen=True)
class RawHit:
    offset: int
    identifier: Identifier | None = None  # None for an original UID
    uid: str | None = None


def pixel_value_range(data: bytes, pos: int, size: int | None = None) -> tuple[int, int] | None:
    """Byte range of the value of the (7FE0,xxxx) pixel element whose header starts at ``pos``.

    ``size``: the file's size when ``data`` holds only its first bytes; then an encapsulated value
    (whose end is found by searching the whole file) gives None.
    """
    if pos < 0 or pos + 8 > len(data):
        return None
    if data[pos:pos + 2] == b"\xe0\x7f":
        little = True
    elif data[pos:pos + 2] == b"\x7f\xe0":
        little = False
    else:
        return None
    fmt = "<" if little else ">"
    if data[pos + 4:pos + 6] in _BULK_VRS and pos + 12 <= len(data):
        start, length = pos + 12, struct.unpack(fmt + "I", data[pos + 8:pos + 12])[0]
    else:
        start, length = pos + 8, struct.unpack(fmt + "I", data[pos + 4:pos + 8])[0]
    if length == 0xFFFFFFFF:  # encapsulated: up to the sequence delimitation item
        if size is not None and size > len(data):
            return None
        end = data.rfind(_SEQ_DELIM, start)
        return (start, end) if end != -1 else (start, len(data))
    return start, min(start + length, len(data) if size is None else size)


def segments(size: int, exclude: tuple[int, int] | None) -> list[tuple[int, int]]:
    if exclude is None:
        return [(0, size)]
    return [(0, exclude[0]), (exclude[1], size)]


def scan(data: bytes, parts: Iterable[tuple[int, int]], matcher: Matcher | None,
         uids: frozenset[str] | None) -> list[RawHit]:
    hits: list[RawHit] = []
    for a, b in parts:
        if b <= a:
            continue
        chunk = data[a:b]
        if matcher:
            hits += [RawHit(a + off, ident) for off, ident in matcher.find(chunk)]
        if uids:
            for m in _UID.finditer(chunk):
                uid = m.group().decode("ascii")
                if uid in uids:
                    hits.append(RawHit(a + m.start(), uid=uid))
    return hits
