"""Text-carrying segments stripped from encapsulated pixel data, without decoding the image.

A compressed frame can carry text beside the image: a JPEG comment (COM, FFFE) or application
segment (APPn, FFE0-FFEF: Exif and XMP in APP1 hold names and dates, ICC profiles in APP2 hold
descriptions), a JPEG 2000 comment (COM, FF64) in a codestream header, ``xml ``, ``uuid``,
``uinf`` and IPR boxes in a JP2 file, and anything after the end of the image. Each frame is
rewritten without them; what a decoder needs stays:

- APP0 ``JFIF`` (colour space and density; its thumbnail is pixels, not text),
- APP14 ``Adobe`` (the colour transform flag: without it RGB frames decode with wrong colours),
- APP8 ``mrfx`` (the HP colour transform of JPEG-LS encoders),
- every other marker segment (SOF, DHT, DQT, DRI, SOS, JPEG-LS LSE, J2K SIZ/COD/QCD/...).

A frame with nothing to strip keeps its fragments as they came (byte for byte); a rewritten
frame becomes one fragment, padded to even length, and a non-empty Basic Offset Table is
recomputed (PS3.5 A.4). Fragments that are none of these formats (RLE, MPEG, HEVC) are left as
they are. No pydicom here: the byte path uses it, and both walks give the same bytes.
"""
from __future__ import annotations

import re
import struct

ITEM_TAG = b"\xfe\xff\x00\xe0"
_U32 = struct.Struct("<L")
_BE16 = struct.Struct(">H").unpack_from
_BE32 = struct.Struct(">L").unpack_from
_BE64 = struct.Struct(">Q").unpack_from

JPEG_SOI, JPEG_EOI, JPEG_SOS, JPEG_LS_SOF = 0xD8, 0xD9, 0xDA, 0xF7
#: APPn segments kept, by marker and identifier prefix.
KEPT_APP = {0xE0: (b"JFIF\0",), 0xEE: (b"Adobe",), 0xE8: (b"mrfx",)}
J2K_SOC, J2K_SIZ, J2K_COM, J2K_SOT, J2K_SOD, J2K_EOC, J2K_TLM = 0xFF4F, 0xFF51, 0xFF64, 0xFF90, 0xFF93, 0xFFD9, 0xFF55
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
#: JP2 boxes that carry text and nothing a decoder needs.
TEXT_BOXES = frozenset({b"xml ", b"uuid", b"uinf", b"jp2i"})
#: A marker inside JPEG entropy-coded data (not a stuffed FF00, not a restart marker, not fill).
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
#: In JPEG-LS scans a data byte FF is followed by a byte below 80 (ISO 14495-1 9.1).
_LS_MARKER = re.compile(rb"\xff[\x80-\xfe]")


#: The report's action count for a frame rewritten.
COUNT = "pixel-text"


class PixelTextError(ValueError):
    """The encapsulated pixel data cannot be rewritten safely (named reason, no values)."""


# -- fragments -------------------------------------------------------------------------------------
def _items(data) -> list[memoryview]:
    """The items' values, as views of ``data`` (nothing copied)."""
    data = memoryview(data)
    out, pos = [], 0
    while pos + 8 <= len(data):
        if data[pos:pos + 4] != ITEM_TAG:
            raise PixelTextError("encapsulated pixel data: not an item")
        length = _U32.unpack_from(data, pos + 4)[0]
        if pos + 8 + length > len(data):
            raise PixelTextError("encapsulated pixel data: item runs past the value")
        out.append(data[pos + 8:pos + 8 + length])
        pos += 8 + length
    if pos != len(data):
        raise PixelTextError("encapsulated pixel data: trailing bytes")
    return out


def _starts_frame(fragment) -> bool:
    head = bytes(fragment[:12])
    return head[:2] == b"\xff\xd8" or head[:4] == b"\xff\x4f\xff\x51" or head == JP2_SIGNATURE


def _frames(bot: bytes, fragments: list[bytes]) -> list[list[int]]:
    """Fragment indices per frame: from the Basic Offset Table, else by where a stream starts."""
    if bot:
        offsets = [_U32.unpack_from(bot, i)[0] for i in range(0, len(bot) - len(bot) % 4, 4)]
        starts, pos = {}, 0
        for i, f in enumerate(fragments):
            starts[pos] = i
            pos += 8 + len(f)
        if all(o in starts for o in offsets) and offsets == sorted(offsets) and offsets and offsets[0] == 0:
            bounds = [starts[o] for o in offsets] + [len(fragments)]
            return [list(range(a, b)) for a, b in zip(bounds, bounds[1:])]
    frames: list[list[int]] = []
    for i, f in enumerate(fragments):
        if not frames or _starts_frame(f):
            frames.append([i])
        else:
            frames[-1].append(i)
    return frames


def strip_encapsulated(data: bytes) -> bytes | None:
    """The encapsulated Pixel Data value (its items, without the sequence delimiter) with text
    segments stripped from every frame; None when nothing was stripped."""
    items = _items(data)
    if not items:
        return None
    bot, fragments = items[0], items[1:]
    new_frames, changed = [], False
    for indices in _frames(bot, fragments):
        stream = fragments[indices[0]] if len(indices) == 1 else memoryview(b"".join(fragments[i] for i in indices))
        stripped = strip_frame(stream)
        if stripped is None:
            new_frames.append([fragments[i] for i in indices])
        else:
            changed = True
            new_frames.append([stripped + b"\0" * (len(stripped) % 2)])
    if not changed:
        return None
    out, offsets, pos = [], [], 0
    for frame in new_frames:
        offsets.append(pos)
        for f in frame:
            out.append(ITEM_TAG + _U32.pack(len(f)) + f)
            pos += 8 + len(f)
    new_bot = b"".join(_U32.pack(o) for o in offsets) if bot else b""
    return ITEM_TAG + _U32.pack(len(new_bot)) + new_bot + b"".join(out)


def strip_frame(stream) -> bytes | None:
    """One frame's bytes without its text segments; None when there is none (or it is no
    format known here)."""
    stream = memoryview(stream)
    head = bytes(stream[:12])
    if head[:2] == b"\xff\xd8":
        return _strip_jpeg(stream)
    if head[:4] == b"\xff\x4f\xff\x51":
        return _strip_j2k(stream)
    if head == JP2_SIGNATURE:
        return _strip_jp2(stream)
    return None


# -- JPEG (ISO 10918, JPEG-LS) ---------------------------------------------------------------------
def _strip_jpeg(s: bytes) -> bytes | None:
    out, pos, changed, n, ls = [s[:2]], 2, False, len(s), False
    while pos < n:
        if s[pos] != 0xFF:
            raise PixelTextError("JPEG: marker expected")
        while pos + 1 < n and s[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 1 >= n:
            raise PixelTextError("JPEG: truncated marker")
        marker = s[pos + 1]
        if marker == JPEG_EOI:
            out.append(s[pos:pos + 2])
            changed |= _hidden_after(s, pos + 2)
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(s[pos:pos + 2])
            pos += 2
            continue
        if pos + 4 > n:
            raise PixelTextError("JPEG: truncated segment")
        end = pos + 2 + _BE16(s, pos + 2)[0]
        if end > n:
            raise PixelTextError("JPEG: segment runs past the frame")
        segment = s[pos:end]
        if marker == 0xFE or 0xE0 <= marker <= 0xEF and not bytes(segment[4:10]).startswith(KEPT_APP.get(marker, (b"\xff\xff",))):
            changed = True
        else:
            out.append(segment)
        pos = end
        ls |= marker == JPEG_LS_SOF
        if marker == JPEG_SOS:  # entropy-coded data runs to the next real marker
            m = (_LS_MARKER if ls else _MARKER).search(s, pos)
            if m is None:
                raise PixelTextError("JPEG: no end of image")
            out.append(s[pos:m.start()])
            pos = m.start()
    else:
        raise PixelTextError("JPEG: no end of image")
    if not changed:
        return None
    return b"".join(out)


# -- JPEG 2000 (ISO 15444-1) -----------------------------------------------------------------------
def _strip_j2k(s: bytes) -> bytes | None:
    """A codestream without COM marker segments (main and tile-part headers)."""
    out, pos, n, changed, tlm = [s[:2]], 2, len(s), False, False
    while pos + 4 <= n:  # main header, to the first SOT
        marker = _BE16(s, pos)[0]
        if marker == J2K_SOT:
            break
        end = pos + 2 + _BE16(s, pos + 2)[0]
        if end > n:
            raise PixelTextError("JPEG 2000: marker segment runs past the frame")
        if marker == J2K_COM:
            changed = True
        else:
            tlm |= marker == J2K_TLM
            out.append(s[pos:end])
        pos = end
    while pos + 12 <= n and _BE16(s, pos)[0] == J2K_SOT:  # tile-parts
        psot = _BE32(s, pos + 6)[0]
        part_end = n if psot == 0 else pos + psot
        if part_end > n:
            raise PixelTextError("JPEG 2000: tile-part runs past the frame")
        header, hpos = [s[pos:pos + 12]], pos + 12
        removed = 0
        while hpos + 2 <= part_end and _BE16(s, hpos)[0] != J2K_SOD:
            end = hpos + 2 + _BE16(s, hpos + 2)[0]
            if end > part_end:
                raise PixelTextError("JPEG 2000: marker segment runs past the tile-part")
            if _BE16(s, hpos)[0] == J2K_COM:
                removed += end - hpos
            else:
                header.append(s[hpos:end])
            hpos = end
        if removed:
            if tlm:
                raise PixelTextError("JPEG 2000: a comment in a tile-part header with tile-part lengths (TLM)")
            changed = True
            sot = bytearray(header[0])
            if psot:
                sot[6:10] = struct.pack(">L", psot - removed)
            header[0] = bytes(sot)
        out += header
        out.append(s[hpos:part_end])
        pos = part_end
    if pos + 2 <= n and _BE16(s, pos)[0] == J2K_EOC:
        out.append(s[pos:pos + 2])
        changed |= _hidden_after(s, pos + 2)
    elif pos < n:
        raise PixelTextError("JPEG 2000: unexpected data after the tile-parts")
    return b"".join(out) if changed else None


def _strip_jp2(s: bytes) -> bytes | None:
    """A JP2 file without its text boxes; the codestream box without its comments."""
    out, pos, n, changed = [], 0, len(s), False
    while pos + 8 <= n:
        length, kind = _BE32(s, pos)[0], bytes(s[pos + 4:pos + 8])
        header = 8
        if length == 1:
            length, header = _BE64(s, pos + 8)[0], 16
        elif length == 0:
            length = n - pos
        end = pos + length
        if length < header or end > n:
            raise PixelTextError("JP2: box runs past the frame")
        if kind in TEXT_BOXES:
            changed = True
        elif kind == b"jp2c":
            code = s[pos + header:end]
            stripped = _strip_j2k(code) if bytes(code[:2]) == b"\xff\x4f" else None
            if stripped is None:
                out.append(s[pos:end])
            else:
                changed = True
                out.append(struct.pack(">L", 8 + len(stripped)) + b"jp2c" + stripped)
        else:
            out.append(s[pos:end])
        pos = end
    changed |= _hidden_after(s, pos)
    return b"".join(out) if changed else None


def _hidden_after(s: bytes, end: int) -> bool:
    """Anything after the image but the padding byte (00 or FF) that evens a fragment's length."""
    return len(s) - end > 1 or bool(bytes(s[end:]).strip(b"\0\xff"))


# -- the two walks -----------------------------------------------------------------------------------
PIXEL_DATA, UNDEFINED = 0x7FE00010, 0xFFFFFFFF


def strip_dataset(ds, counts) -> None:
    """The Dataset walk's side of :func:`strip_encapsulated`: every encapsulated Pixel Data, at
    any depth (duck-typed on pydicom's Dataset: no pydicom import here)."""
    for tag, elem in list(ds._dict.items()):
        raw = type(elem).__name__ == "RawDataElement"
        if tag == PIXEL_DATA and (elem.length == UNDEFINED if raw else elem.is_undefined_length):
            if elem.value:
                new = strip_encapsulated(elem.value)
                if new is not None:
                    counts[COUNT] += 1
                    if raw:
                        ds._dict[tag] = elem._replace(value=new)
                    else:
                        elem.value = new
        elif not raw and elem.VR == "SQ":
            for item in elem.value:
                strip_dataset(item, counts)
