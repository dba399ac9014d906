"""Where text can hide in encapsulated pixel data, without decoding any image.

The pixel data value of an encapsulated transfer syntax (PS3.5 A.4) is a sequence of items: the
Basic Offset Table, then fragments. :func:`walk_items` finds the fragments and the end of the
value (after the Sequence Delimitation Item). :func:`payloads` walks the compressed frames by their
markers and returns only the bytes that can carry text, never the compressed image data:

* JPEG (and JPEG-LS, same marker syntax): COM (FFFE) and APP0-APP15 (FFE0-FFEF) segment payloads;
  entropy-coded scan data is skipped to the next marker; bytes after EOI in a fragment.
* JPEG 2000 codestream (FF4F): COM (FF64) marker segments, main and tile-part headers; tile data
  skipped by each tile-part's length.
* JP2 file format: every box but the codestream box (``jp2c``, walked as above).

Frames of other syntaxes (RLE, MPEG, ...) are not searched: nothing but image data is expected there.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from struct import Struct

_ITEM_HEADER = Struct("<HHL")
_ITEM, _SEQ_END = 0xFFFEE000, 0xFFFEE0DD
_U16BE, _U32BE = Struct(">H"), Struct(">L")
#: A JPEG / JPEG-LS marker after entropy-coded data (FF00 stuffing, RSTn and JPEG-LS bit stuffing skipped).
_JPEG_MARKER = re.compile(rb"\xff[\xc0-\xcf\xd8-\xfe]")
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


@dataclass(frozen=True)
class Encapsulated:
    end: int                          # offset after the delimiter, or where the walk stopped
    fragments: list[tuple[int, int]]  # (start, end) of each fragment's bytes, offset table excluded
    complete: bool                    # False: the items could not be walked to the delimiter


@dataclass(frozen=True)
class Payload:
    offset: int    # absolute offset of the payload's first byte
    data: bytes
    kind: str      # e.g. "JPEG COM segment"
    starts: tuple  # buffer offsets of fragment starts, for mapping offsets inside the payload
    bases: tuple   # absolute offsets of those fragment starts
    buf_offset: int

    def absolute(self, off: int) -> int:
        """The file offset of byte ``off`` of this payload (fragments may split it)."""
        pos = self.buf_offset + off
        i = bisect.bisect_right(self.starts, pos) - 1
        return self.bases[i] + pos - self.starts[i]


def walk_items(data: bytes, start: int) -> Encapsulated:
    """The items of an encapsulated pixel data value starting at ``start``."""
    pos, n, first = start, len(data), True
    frags: list[tuple[int, int]] = []
    while pos + 8 <= n:
        group, elem, length = _ITEM_HEADER.unpack_from(data, pos)
        tag = group << 16 | elem
        if tag == _SEQ_END:
            return Encapsulated(pos + 8, frags, True)
        if tag != _ITEM or length == 0xFFFFFFFF or pos + 8 + length > n:
            break
        if not first:
            frags.append((pos + 8, pos + 8 + length))
        first = False
        pos += 8 + length
    return Encapsulated(pos, frags, False)


def _jpeg(buf: bytes, p: int, out: list) -> int:
    """Walk one JPEG frame from SOI at ``p``; add text-carrying segments; return the offset after EOI."""
    n = len(buf)
    p += 2
    while p + 2 <= n:
        if buf[p] != 0xFF:
            m = _JPEG_MARKER.search(buf, p)
            if m is None:
                return n
            p = m.start()
            continue
        marker = buf[p + 1]
        if marker == 0xFF:
            p += 1
            continue
        if marker == 0xD9:
            return p + 2
        if 0xD0 <= marker <= 0xD7 or marker in (0x01, 0xD8):
            p += 2
            continue
        if p + 4 > n:
            return n
        end = p + 2 + _U16BE.unpack_from(buf, p + 2)[0]
        if marker == 0xFE:
            out.append((p + 4, min(end, n), "JPEG COM segment"))
        elif 0xE0 <= marker <= 0xEF:
            out.append((p + 4, min(end, n), f"JPEG APP{marker - 0xE0} segment"))
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
            m = _JPEG_MARKER.search(buf, end)
            if m is None:
                return n
            p = m.start()
            continue
        p = end
    return n


def _j2k(buf: bytes, p: int, stop: int, out: list) -> int:
    """Walk one JPEG 2000 codestream from SOC at ``p`` (up to ``stop``); add COM marker segments."""
    p += 2
    while p + 4 <= stop:
        if buf[p] != 0xFF:
            return stop
        marker = buf[p + 1]
        if marker == 0xD9:  # EOC
            return p + 2
        length = _U16BE.unpack_from(buf, p + 2)[0]
        if marker == 0x64:
            out.append((p + 6, min(p + 2 + length, stop), "JPEG 2000 COM marker segment"))
        if marker == 0x90 and p + 10 <= stop:  # SOT: tile-part header markers up to SOD, then skip its data
            psot = _U32BE.unpack_from(buf, p + 6)[0]
            q = p + 2 + length
            while q + 4 <= stop and buf[q] == 0xFF and buf[q + 1] != 0x93:
                ll = _U16BE.unpack_from(buf, q + 2)[0]
                if buf[q + 1] == 0x64:
                    out.append((q + 6, min(q + 2 + ll, stop), "JPEG 2000 COM marker segment"))
                q += 2 + ll
            if psot == 0:
                return stop
            p += psot
            continue
        p += 2 + length
    return stop


def _jp2(buf: bytes, p: int, out: list) -> int:
    n = len(buf)
    while p + 8 <= n:
        length, kind = _U32BE.unpack_from(buf, p)[0], buf[p + 4:p + 8]
        header = 8
        if length == 1 and p + 16 <= n:
            length, header = int.from_bytes(buf[p + 8:p + 16], "big"), 16
        elif length == 0:
            length = n - p
        if length < header:
            return n
        end = min(p + length, n)
        if kind == b"jp2c":
            if buf[p + header:p + header + 2] == b"\xff\x4f":
                _j2k(buf, p + header, end, out)
        else:
            out.append((p + header, end, f"JP2 '{kind.decode('latin-1')}' box"))
        p = end
    return n


def payloads(data: bytes, enc: Encapsulated) -> list[Payload]:
    """The text-carrying bytes of the fragments of ``enc`` (see the module docstring)."""
    if not enc.fragments:
        return []
    buf = b"".join(data[a:b] for a, b in enc.fragments)
    starts, bases, pos = [], [], 0
    for a, b in enc.fragments:
        starts.append(pos)
        bases.append(a)
        pos += b - a
    found: list[tuple[int, int, str]] = []
    n, p = len(buf), 0
    while p < n:
        head = buf[p:p + 12]
        if head[:2] == b"\xff\xd8":
            end = _jpeg(buf, p, found)
        elif head[:2] == b"\xff\x4f":
            end = _j2k(buf, p, n, found)
        elif head == _JP2_SIGNATURE:
            end = _jp2(buf, p, found)
        else:
            end = p  # not a format that carries text: skip to the next fragment
        i = bisect.bisect_right(starts, max(end, p + 1) - 1)
        nxt = starts[i] if i < len(starts) else n
        if end > p and nxt - end > 2:  # bytes after the end of the image in its fragment (beyond padding)
            found.append((end, nxt, "bytes after the end of a compressed frame"))
        p = nxt
    st, ba = tuple(starts), tuple(bases)
    out = []
    for a, b, kind in found:
        if b > a:
            i = bisect.bisect_right(starts, a) - 1
            out.append(Payload(bases[i] + a - starts[i], buf[a:b], kind, st, ba, a))
    return out
