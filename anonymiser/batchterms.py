"""Every person name held anywhere in a batch, read before it is anonymised: each counts as an
identifier in every free-text value of every file of the batch.

Operators, physicians, reviewers, ROI interpreters and observers are named in PN elements at
any depth, and any of them may be written out in another file's free text ("Contoured by
Smith"). A cheap pre-pass over the headers (the byte layout, no pydicom Dataset, nothing past
the pixel data) collects them; the workers get them in :class:`~.single.Settings`. A file this
reader cannot follow adds what it read so far: the anonymising pass reports it, if need be.
"""
from __future__ import annotations

import struct

from .elements import Decline, dictionary_vr, syntax_kind
from .encoding import LONG_VRS, UNDEFINED

#: Most headers end well before this; a file whose header runs past it is read whole.
HEAD = 16384
ITEM, ITEM_END, SEQ_END, PIXEL_DATA = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD, 0x7FE00010
CHARSET = 0x00080005
_TAG = struct.Struct("<HH").unpack_from
_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<L").unpack_from
LONG = frozenset(v.encode() for v in LONG_VRS)


class _Short(Exception):
    """The buffer ends before the header does."""


def gather(paths: list[str], limit: int = 1 << 30) -> tuple[str, ...]:
    """The PN values (as text, every component group) of every file, at any depth. At most
    ``limit`` bytes of a file are read (the element cap: a larger header is refused anyway)."""
    names: set[str] = set()
    for path in paths:
        scan_file(path, names, limit)
    return tuple(sorted(names))


def scan_file(path: str, names: set, limit: int, head: bytes | None = None) -> None:
    """Add the PN values of one file to ``names``; ``head``: its first bytes, when already read
    (at least :data:`HEAD` of them, or the whole file)."""
    try:
        buf = head
        if buf is None:
            with open(path, "rb") as f:
                buf = f.read(HEAD)
        full = len(buf) < HEAD
        while True:
            found = _Found()
            try:
                _scan(buf, found)
            except _Short:
                if not full:
                    with open(path, "rb") as f:
                        f.seek(len(buf))
                        buf += f.read(max(0, limit - len(buf)))
                    full = True
                    continue
            except (Decline, struct.error, ValueError, KeyError, RecursionError):
                pass
            break
    except OSError:
        return
    decode = _decoder(found.charset)
    for data in found.values:
        for v in decode(data).split("\\"):
            v = v.strip("\0 ")
            if v:
                names.add(v)


def _decoder(charset: str):
    """Bytes -> text in the file's character set (pydicom's decoder for the ISO 2022 ones)."""
    if charset in ("", "ISO_IR 6", "ISO_IR 100"):
        return lambda data: data.decode("latin_1")
    if charset == "ISO_IR 192":
        return lambda data: data.decode("utf_8", "replace")
    from pydicom.charset import convert_encodings, decode_bytes
    try:
        encodings = convert_encodings(charset.split("\\"))
    except Exception:  # noqa: BLE001 - an unknown character set: Latin-1 still finds the ASCII names
        return lambda data: data.decode("latin_1")
    return lambda data: decode_bytes(data, encodings, {0x5C, 0x3D, 0x5E})


class _Found:
    def __init__(self):
        self.values: list[bytes] = []
        self.charset = ""


def _scan(buf: bytes, found: _Found) -> None:
    if len(buf) < 144 or buf[128:132] != b"DICM":
        raise Decline("no preamble")
    pos, syntax = 132, ""
    while True:
        _need(buf, pos + 8)
        if _U16(buf, pos)[0] != 0x0002:
            break
        vr = buf[pos + 4:pos + 6]
        if vr.decode("latin-1") in LONG_VRS:
            _need(buf, pos + 12)
            length, start = _U32(buf, pos + 8)[0], pos + 12
        else:
            length, start = _U16(buf, pos + 6)[0], pos + 8
        _need(buf, start + length)
        if _TAG(buf, pos) == (0x0002, 0x0010):
            syntax = buf[start:start + length].decode("ascii", "replace").strip("\0 ")
        pos = start + length
    implicit, _ = syntax_kind(syntax)
    _elements(buf, pos, None, implicit, found, top=True)


def _need(buf: bytes, end: int) -> None:
    if end > len(buf):
        raise _Short


def _elements(buf: bytes, pos: int, limit: int | None, implicit: bool, found: _Found, top: bool = False) -> int:
    """Reads elements from ``pos`` to ``limit`` (or an item delimiter when None); returns the end."""
    n = len(buf)
    while limit is None or pos < limit:
        if pos + 8 > n:
            raise _Short
        group, elem = _TAG(buf, pos)
        tag = group << 16 | elem
        if tag == ITEM_END and limit is None:
            return pos + 8
        if top and tag >= PIXEL_DATA:
            return pos
        if implicit:
            vr, length, start = dictionary_vr(tag).encode(), _U32(buf, pos + 4)[0], pos + 8
        else:
            vr = buf[pos + 4:pos + 6]
            if vr in LONG:
                if pos + 12 > n:
                    raise _Short
                length, start = _U32(buf, pos + 8)[0], pos + 12
            else:
                length, start = _U16(buf, pos + 6)[0], pos + 8
        if vr == b"SQ" or length == UNDEFINED:
            if vr not in (b"SQ", b"UN") and tag != PIXEL_DATA:
                raise Decline("undefined length")
            pos = _items(buf, start, None if length == UNDEFINED else start + length, implicit or vr == b"UN", found)
            continue
        pos = start + length
        if pos > n:
            raise _Short
        if vr == b"PN":
            found.values.append(buf[start:pos])
        elif tag == CHARSET and top:
            found.charset = buf[start:pos].decode("ascii", "replace").strip("\0 ")
    return pos


def _items(buf: bytes, pos: int, end: int | None, implicit: bool, found: _Found) -> int:
    while end is None or pos < end:
        _need(buf, pos + 8)
        group, elem = _TAG(buf, pos)
        tag, length = group << 16 | elem, _U32(buf, pos + 4)[0]
        if tag == SEQ_END:
            return pos + 8
        if tag != ITEM:
            raise Decline("not an item")
        if length == UNDEFINED:
            pos = _elements(buf, pos + 8, None, implicit, found)
        else:
            _need(buf, pos + 8 + length)
            pos = _elements(buf, pos + 8, pos + 8 + length, implicit, found)
    return pos
