"""The raw-bytes scan: search a file's bytes for identifiers and original UIDs.

Pixel data value bytes are left out (image data would give chance hits); everything else,
preamble, file meta, elements after the pixel data and trailing bytes included, is searched. In
encapsulated pixel data, the bytes that can carry text (JPEG COM/APPn segments, JPEG 2000 comments,
JP2 boxes: :mod:`verifier.pixeltext`) are searched too. A deflated data set is inflated first, up
to a limit (:func:`inflate`).
"""
from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from typing import Iterable

from .identifiers import Identifier, Matcher
from .pixeltext import Payload, payloads, walk_items

_UID = re.compile(rb"(?<![0-9.])[0-9]+(?:\.[0-9]+){2,}(?![0-9.])")
_BULK_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"UN"}
_CHUNK = 1 << 22


@dataclass(frozen=True)
class RawHit:
    offset: int
    identifier: Identifier | None = None  # None for an original UID
    uid: str | None = None


class TooLarge(Exception):
    """A deflated data set inflates past the limit."""


def inflate(raw: bytes, limit: int) -> tuple[bytes, bytes]:
    """(inflated data set, bytes after the deflate stream); raises TooLarge past ``limit`` bytes,
    zlib.error when the stream is damaged. Memory stays within the limit plus one chunk."""
    d = zlib.decompressobj(-zlib.MAX_WBITS)
    out = bytearray()
    data = raw
    while True:
        chunk = d.decompress(data, min(_CHUNK, limit + 1 - len(out)))
        out += chunk
        if len(out) > limit:
            raise TooLarge
        data = d.unconsumed_tail
        if d.eof or not data and not chunk:
            break
    if not d.eof:
        out += d.flush()
        if len(out) > limit:
            raise TooLarge
    return bytes(out), d.unused_data


def _pixel_header(data: bytes, pos: int) -> tuple[int, int, bool] | None:
    """(value start, length, little endian) of the (7FE0,xxxx) element whose header starts at ``pos``."""
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
        return pos + 12, struct.unpack(fmt + "I", data[pos + 8:pos + 12])[0], little
    return pos + 8, struct.unpack(fmt + "I", data[pos + 4:pos + 8])[0], little


def pixel_value_range(data: bytes, pos: int, size: int | None = None) -> tuple[int, int] | None:
    """Byte range of the value of the (7FE0,xxxx) pixel element whose header starts at ``pos``.

    ``size``: the file's size when ``data`` holds only its first bytes; then an encapsulated value
    (whose items must be walked) gives None. An encapsulated value whose items cannot be walked
    ends where the walk stopped: the rest is searched as other bytes are.
    """
    header = _pixel_header(data, pos)
    if header is None:
        return None
    start, length, little = header
    if length == 0xFFFFFFFF:
        if size is not None and size > len(data):
            return None
        return start, walk_items(data, start).end if little else start
    return start, min(start + length, len(data) if size is None else size)


def pixel_payloads(data: bytes, pos: int) -> list[Payload]:
    """The text-carrying bytes inside the encapsulated pixel data whose header is at ``pos``."""
    header = _pixel_header(data, pos)
    if header is None or header[1] != 0xFFFFFFFF or not header[2]:
        return []
    return payloads(data, walk_items(data, header[0]))


def segments(size: int, exclude: tuple[int, int] | None) -> list[tuple[int, int]]:
    if exclude is None:
        return [(0, size)]
    return [(0, exclude[0]), (exclude[1], size)]


def scan(data: bytes, parts: Iterable[tuple[int, int]], matcher: Matcher | None,
         uids: frozenset[str] | None) -> list[RawHit]:
    return scan_all(data, parts, matcher, uids)[0]


def scan_all(data: bytes, parts: Iterable[tuple[int, int]], matcher: Matcher | None,
             uids: frozenset[str] | None) -> tuple[list[RawHit], bool]:
    """(hits, whether any identifier may be in the parts): one matcher pass per part."""
    hits: list[RawHit] = []
    possible = False
    for a, b in parts:
        if b <= a:
            continue
        chunk = data[a:b] if (a, b) != (0, len(data)) else data
        if matcher:
            found, maybe = matcher.search(chunk)
            possible = possible or maybe
            hits += [RawHit(a + off, ident) for off, ident in found]
        if uids:
            for m in _UID.finditer(chunk):
                uid = m.group().decode("ascii")
                if uid in uids:
                    hits.append(RawHit(a + m.start(), uid=uid))
    return hits, possible
