"""Reading a little-endian Part 10 file as a tree of element positions, without pydicom.

:func:`read_file` returns the transfer syntax, the file meta elements and the dataset as
:class:`Element` records (tag, VR, where the value lies); a sequence carries its items, each a
list of elements. Nothing is decoded or copied. Anything this reader is not sure to read
exactly as pydicom would (big endian, deflate, an implicit/explicit switch, a length running
past its container, an undefined length that is neither a sequence nor encapsulated pixel
data, a duplicate tag) raises :class:`Decline`, and the caller uses pydicom instead.
"""
from __future__ import annotations

import struct
from functools import lru_cache
from typing import NamedTuple

from .encoding import LONG_VRS, UNDEFINED


ITEM, ITEM_END, SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
KNOWN_VRS = frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT", "PN", "SH",
                       "SL", "SS", "ST", "TM", "UI", "UL", "US"}) | LONG_VRS

_TAG = struct.Struct("<HH").unpack_from
_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<L").unpack_from


class Decline(Exception):
    """This file is not for the byte-level path: read it with pydicom."""


class Element(NamedTuple):
    tag: int
    vr: str          # as encoded (explicit VR) or from the dictionary (implicit VR; "UN" if unknown)
    value: int       # offset of the value's first byte
    length: int      # value length; for an undefined length, up to (not including) the delimiter
    undefined: bool  # encoded with an undefined length
    items: tuple | None = None  # a sequence's items: tuples of Elements


class PartTen(NamedTuple):
    syntax: str
    implicit: bool
    encapsulated: bool          # a compressed transfer syntax (pixel data in fragments)
    meta: dict[int, bytes]      # file meta values by tag
    dataset: tuple              # top-level Elements


#: The native little-endian transfer syntaxes -> implicit VR? (others are looked up in pydicom).
NATIVE = {"1.2.840.10008.1.2": True, "1.2.840.10008.1.2.1": False}


@lru_cache(maxsize=4096)
def dictionary_vr(tag: int) -> str:
    from pydicom.datadict import dictionary_VR  # implicit VR files only
    try:
        return dictionary_VR(tag).split(" or ")[0]
    except KeyError:
        return "UN"


def syntax_kind(syntax: str) -> tuple[bool, bool]:
    """(implicit VR, encapsulated) for a little-endian, non-deflated syntax; else Decline."""
    if syntax in NATIVE:
        return NATIVE[syntax], False
    from pydicom.uid import UID  # compressed syntaxes: pydicom's table
    uid = UID(syntax)
    if not uid.is_transfer_syntax or not uid.is_little_endian or uid.is_deflated:
        raise Decline("transfer syntax")
    return uid.is_implicit_VR, uid.is_compressed


def read_file(buf: bytes) -> PartTen:
    if len(buf) < 144 or buf[128:132] != b"DICM":
        raise Decline("no preamble")
    meta, pos = {}, 132
    while pos + 8 <= len(buf) and _U16(buf, pos)[0] == 0x0002:
        group, elem = _TAG(buf, pos)
        vr = buf[pos + 4:pos + 6].decode("latin-1")
        if vr not in KNOWN_VRS:
            raise Decline("file meta VR")
        if vr in LONG_VRS:
            length, start = _U32(buf, pos + 8)[0], pos + 12
        else:
            length, start = _U16(buf, pos + 6)[0], pos + 8
        if length == UNDEFINED or start + length > len(buf):
            raise Decline("file meta")
        meta[group << 16 | elem] = buf[start:start + length]
        pos = start + length
    syntax = meta.get(0x00020010, b"").decode("ascii", "replace").strip("\0 ")
    if not syntax:
        raise Decline("no transfer syntax")
    implicit, encapsulated = syntax_kind(syntax)
    if pos + 6 <= len(buf) and (buf[pos + 4:pos + 6].decode("latin-1") in KNOWN_VRS) == implicit:
        raise Decline("the dataset's VR encoding differs from the transfer syntax")
    elements, end = _read(buf, pos, len(buf), implicit, False)
    return PartTen(syntax, implicit, encapsulated, meta, elements)


def _read(buf: bytes, pos: int, limit: int, implicit: bool, delimited: bool) -> tuple[tuple, int]:
    """Elements from ``pos`` to ``limit`` (or to an item delimiter when ``delimited``); returns
    them and the position after the last one (after the delimiter)."""
    out, seen = [], set()
    while pos < limit:
        if pos + 8 > limit:
            raise Decline("truncated element header")
        group, elem = _TAG(buf, pos)
        tag = group << 16 | elem
        if tag == ITEM_END:
            if not delimited:
                raise Decline("stray item delimiter")
            return tuple(out), pos + 8
        if implicit:
            vr, length, start = dictionary_vr(tag), _U32(buf, pos + 4)[0], pos + 8
        else:
            code = buf[pos + 4:pos + 6]
            vr = code.decode("latin-1")
            if vr not in KNOWN_VRS:
                raise Decline("unknown VR")
            if vr in LONG_VRS:
                if pos + 12 > limit:
                    raise Decline("truncated element header")
                length, start = _U32(buf, pos + 8)[0], pos + 12
            else:
                length, start = _U16(buf, pos + 6)[0], pos + 8
        if tag in seen or group == 0xFFFE:
            raise Decline("duplicate or misplaced tag")
        seen.add(tag)
        if length == UNDEFINED:
            if vr == "SQ":
                items, pos = _items(buf, start, limit, implicit, None)
                out.append(Element(tag, vr, start, 0, True, items))
            elif tag == PIXEL_DATA and not implicit:
                end = _fragments(buf, start, limit)
                out.append(Element(tag, vr, start, end - start, True))
                pos = end + 8
            else:
                raise Decline("undefined length")
            continue
        pos = start + length
        if pos > limit:
            raise Decline("truncated value")
        if vr == "SQ":
            items, _ = _items(buf, start, pos, implicit, pos)
            out.append(Element(tag, vr, start, length, False, items))
        else:
            out.append(Element(tag, vr, start, length, False))
    if delimited:
        raise Decline("missing item delimiter")
    return tuple(out), pos


def _items(buf: bytes, pos: int, limit: int, implicit: bool, end: int | None) -> tuple[tuple, int]:
    """A sequence's items from ``pos``: to ``end`` (defined length) or to its delimiter."""
    items = []
    while True:
        if end is not None and pos == end:
            return tuple(items), pos
        if pos + 8 > limit:
            raise Decline("truncated sequence")
        group, elem = _TAG(buf, pos)
        tag, length = group << 16 | elem, _U32(buf, pos + 4)[0]
        if tag == SEQ_END and end is None:
            return tuple(items), pos + 8
        if tag != ITEM:
            raise Decline("not an item")
        if length == UNDEFINED:
            elements, pos = _read(buf, pos + 8, limit, implicit, True)
        else:
            if pos + 8 + length > limit:
                raise Decline("truncated item")
            elements, pos = _read(buf, pos + 8, pos + 8 + length, implicit, False)
        items.append(elements)


def _fragments(buf: bytes, pos: int, limit: int) -> int:
    """Encapsulated pixel data: skip its items; the offset of the sequence delimiter."""
    while True:
        if pos + 8 > limit:
            raise Decline("truncated pixel data")
        group, elem = _TAG(buf, pos)
        tag, length = group << 16 | elem, _U32(buf, pos + 4)[0]
        if tag == SEQ_END:
            return pos
        if tag != ITEM or length == UNDEFINED or pos + 8 + length > limit:
            raise Decline("malformed pixel data item")
        pos += 8 + length


def value(buf: bytes, e: Element) -> bytes:
    return buf[e.value:e.value + e.length]


def text(buf: bytes, e: Element | None) -> str:
    """An ASCII value as pydicom gives it for UI/CS/... (trailing NUL and spaces gone)."""
    return "" if e is None else buf[e.value:e.value + e.length].decode("ascii", "replace").strip("\0 ")
