"""The verifier's own reader of DICOM Part 10 bytes: every element at every depth, no values converted.

Independent of the anonymiser's parsing (a parser bug must not hide a leak in both). It reads the
common encodings only: a preamble and ``DICM``, an Explicit VR Little Endian file meta group, then an
Explicit or Implicit VR Little Endian data set (native or encapsulated pixel data) up to the first
top-level pixel element, which it does not enter. Anything else (deflate, big endian, a command
group, a VR switch, an unknown VR, an undefined-length non-sequence, a length running past its
container, elements out of order or repeated) is declined with ``None``: the caller then uses
pydicom, so odd files are read exactly as before.

An element is a tuple ``(tag, vr, start, length, items)``: ``start`` is the absolute offset of its
value, ``items`` is a list of item element lists for a sequence, else None. ``vr`` is the VR as
written (explicit) or pydicom's dictionary VR ("UN" when unknown or private) for implicit VR, as
:func:`verifier.walk.element_vr` gives it.
"""
from __future__ import annotations

from dataclasses import dataclass
from struct import Struct
from typing import Iterator

from .walk import _dictionary_vr, is_private, tag_str

IMPLICIT_LE = b"1.2.840.10008.1.2"
EXPLICIT_LE = b"1.2.840.10008.1.2.1"
DEFLATED_LE = b"1.2.840.10008.1.2.1.99"
BIG_ENDIAN = b"1.2.840.10008.1.2.2"
#: Top-level tags at which pydicom's ``stop_before_pixels`` stops (and so does this reader).
PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00009, 0x7FE00008})
_LONG = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})
_SHORT = frozenset({"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "PN", "SH",
                    "SL", "SS", "ST", "TM", "UI", "UL", "US"})
_VRS = {v.encode(): (v, v in _LONG) for v in _LONG | _SHORT}
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_TAG = Struct("<HH")
_U16 = Struct("<H")
_U32 = Struct("<L")
_TAG_LEN = Struct("<HHL")
_TAG_VR_LEN = Struct("<HH2sH")  # explicit VR: tag, VR and (for the short VRs) the length in one unpack


class Declined(Exception):
    """The bytes are not in the subset this reader handles (the caller falls back to pydicom)."""


class Short(Declined):
    """An element runs past the bytes given (more of the file may be needed)."""


@dataclass
class Parsed:
    meta: list           # file meta elements (group 0002)
    dataset: list        # top-level elements before the pixel data
    implicit: bool
    pixel_pos: int | None  # offset of the top-level pixel element's header, None when there is none


def _vr_for_implicit(tag: int) -> str:
    return "UN" if is_private(tag) else _dictionary_vr(tag)


class _Reader:
    def __init__(self, data: bytes, implicit: bool):
        self.data = data
        self.implicit = implicit
        self.pixel_pos: int | None = None

    def level(self, pos: int, end: int, top: bool, undefined: bool) -> tuple[list, int]:
        """Elements from ``pos`` to ``end`` (or to the item delimiter when ``undefined``)."""
        data, implicit = self.data, self.implicit
        n = len(data)
        out: list = []
        last = -1
        while True:
            if not undefined and pos == end:
                return out, pos
            if pos + 8 > end:
                if top and pos == end == n:
                    return out, pos
                raise Short if end == n else Declined
            if implicit:
                group, elem, length = _TAG_LEN.unpack_from(data, pos)
                code = None
            else:
                group, elem, code, length = _TAG_VR_LEN.unpack_from(data, pos)
            tag = group << 16 | elem
            if tag == _ITEM_END:
                if not undefined or top:
                    raise Declined
                return out, pos + 8
            if group == 0xFFFE or group == 0 or tag <= last:
                raise Declined
            if top and tag in PIXEL_TAGS:
                self.pixel_pos = pos
                return out, pos
            last = tag
            if implicit:
                vr = _vr_for_implicit(tag)
                start = pos + 8
            else:
                found = _VRS.get(code)
                if found is None:
                    raise Declined
                vr, long = found
                if long:
                    if pos + 12 > end:
                        raise Short if end == n else Declined
                    length = _U32.unpack_from(data, pos + 8)[0]
                    start = pos + 12
                else:
                    start = pos + 8
                if vr == "UN" and not is_private(tag):
                    raise Declined  # pydicom may read it with the dictionary VR: leave it to pydicom
            if length == _UNDEFINED:
                if implicit and vr == "UN" and self._item_follows(start, end):
                    vr = "SQ"
                if vr != "SQ":
                    raise Declined
                items, pos = self.sequence(start, end, None)
                out.append((tag, vr, start, length, items))
                continue
            stop = start + length
            if stop > end:
                raise Short if end == n else Declined
            if vr == "SQ":
                items, _ = self.sequence(start, stop, stop)
            else:
                items = None
            out.append((tag, vr, start, length, items))
            pos = stop

    def _item_follows(self, pos: int, end: int) -> bool:
        return pos + 4 <= end and _TAG.unpack_from(self.data, pos) == (0xFFFE, 0xE000)

    def sequence(self, pos: int, end: int, stop: int | None) -> tuple[list, int]:
        """Items of a sequence value starting at ``pos``: up to ``stop``, or its delimiter when None."""
        data = self.data
        n = len(data)
        limit = end if stop is None else stop
        items = []
        while True:
            if stop is not None and pos == stop:
                return items, pos
            if pos + 8 > limit:
                raise Short if limit == n else Declined
            group, elem, length = _TAG_LEN.unpack_from(data, pos)
            tag = group << 16 | elem
            if tag == _SEQ_END and stop is None:
                return items, pos + 8
            if tag != _ITEM:
                raise Declined
            pos += 8
            if length == _UNDEFINED:
                item, pos = self.level(pos, limit, False, True)
            else:
                if pos + length > limit:
                    raise Short if limit == n else Declined
                item, pos = self.level(pos, pos + length, False, False)
            items.append(item)


def _meta(data: bytes) -> tuple[list, int]:
    pos, n = 132, len(data)
    out: list = []
    last = -1
    while pos + 6 <= n and _U16.unpack_from(data, pos)[0] == 2:
        if pos + 8 > n:
            raise Short
        group, elem = _TAG.unpack_from(data, pos)
        tag = group << 16 | elem
        found = _VRS.get(data[pos + 4:pos + 6])
        if found is None or tag <= last:
            raise Declined
        last = tag
        vr, long = found
        if long:
            if pos + 12 > n:
                raise Short
            length, start = _U32.unpack_from(data, pos + 8)[0], pos + 12
        else:
            length, start = _U16.unpack_from(data, pos + 6)[0], pos + 8
        if vr in ("SQ", "UN") or length == _UNDEFINED:
            raise Declined
        if start + length > n:
            raise Short
        out.append((tag, vr, start, length, None))
        pos = start + length
    return out, pos


def value(data: bytes, element: tuple) -> bytes:
    _, _, start, length, _ = element
    return data[start:start + length]


def find(level: list, tag: int) -> tuple | None:
    for element in level:
        if element[0] == tag:
            return element
        if element[0] > tag:
            return None
    return None


def parse(data: bytes, file_size: int | None = None) -> Parsed:
    """Parse ``data`` (a whole file, or its first bytes when ``file_size`` is larger).

    Raises :class:`Short` when the bytes given end inside an element (read more and retry) and
    :class:`Declined` for anything this reader leaves to pydicom.
    """
    n = len(data)
    if n < 132 or data[128:132] != b"DICM":
        raise Declined
    meta, pos = _meta(data)
    ts_element = find(meta, 0x00020010)
    if ts_element is None:
        raise Declined
    ts = value(data, ts_element).rstrip(b"\x00 ")
    if ts == IMPLICIT_LE:
        implicit = True
    elif ts in (DEFLATED_LE, BIG_ENDIAN) or not ts or ts.strip(b"0123456789."):
        raise Declined
    else:
        implicit = False  # explicit VR little endian, native or encapsulated
    if pos + 6 > n:
        raise Short if file_size is not None and file_size > n else Declined
    raw_vr = data[pos + 4:pos + 6]
    looks_implicit = not (0x40 < raw_vr[0] < 0x5B and 0x40 < raw_vr[1] < 0x5B)
    if looks_implicit != implicit:
        raise Declined  # pydicom would warn and switch (or the data set starts with pixel data)
    reader = _Reader(data, implicit)
    dataset, end = reader.level(pos, n, True, False)
    if not dataset:
        raise Declined
    if reader.pixel_pos is None and file_size is not None and file_size > n:
        raise Short
    return Parsed(meta, dataset, implicit, reader.pixel_pos)


def walk(level: list, prefix: str = "") -> Iterator[tuple[str, int, str, int, int]]:
    """(tag path, tag, VR, value offset, value length) for every element at every depth, in file order."""
    for tag, vr, start, length, items in level:
        path = prefix + tag_str(tag)
        yield path, tag, vr, start, length
        for i, item in enumerate(items or ()):
            yield from walk(item, f"{path}[{i}]/")
