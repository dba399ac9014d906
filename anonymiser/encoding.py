"""Little-endian element headers and delimiters (PS3.5 7.1, 7.5), shared by every writer here.

No pydicom: the byte path uses these without importing it.
"""
from __future__ import annotations

import struct

UNDEFINED = 0xFFFFFFFF
#: VRs whose explicit-VR header has 2 reserved bytes and a 4-byte length (PS3.5 7.1.2).
LONG_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"})

SHORT = struct.Struct("<HH2sH").pack      # group, element, VR, 2-byte length
LONG = struct.Struct("<HH2s2xL").pack     # group, element, VR, reserved, 4-byte length
IMPLICIT = struct.Struct("<HHL").pack     # group, element, 4-byte length (also items and delimiters)
ITEM = IMPLICIT(0xFFFE, 0xE000, UNDEFINED)
ITEM_END = IMPLICIT(0xFFFE, 0xE00D, 0)
SEQ_END = IMPLICIT(0xFFFE, 0xE0DD, 0)


def header(tag: int, vr: str, length: int, implicit: bool) -> bytes:
    g, e = tag >> 16, tag & 0xFFFF
    if implicit:
        return IMPLICIT(g, e, length)
    return (LONG if vr in LONG_VRS else SHORT)(g, e, vr.encode(), length)
