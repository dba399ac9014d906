"""The File Meta Information group (PS3.10 7.1) of an anonymised file, encoded directly.

Byte-for-byte what ``pydicom.filewriter.write_file_meta_info`` writes for the same five values
(a test compares them); written here because pydicom's writer costs more than the rest of a
CT slice's header.
"""
from __future__ import annotations

import struct

from sdu import __version__

from .encoding import header

IMPLEMENTATION_VERSION = f"SDU_{__version__}"[:16]
#: Written by both paths (pydicom's implementation class UID, as the Dataset path always wrote;
#: a literal so the byte path needs no pydicom).
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.8.498.1"


def _element(element: int, vr: bytes, data: bytes) -> bytes:
    if len(data) % 2:
        data += b"\0" if vr == b"UI" else b" "
    return header(0x00020000 | element, vr.decode(), len(data), False) + data


def file_meta(sop_class: str, sop_instance: str, transfer_syntax: str) -> bytes:
    body = b"".join((
        _element(0x0001, b"OB", b"\0\1"),
        _element(0x0002, b"UI", sop_class.encode("ascii")),
        _element(0x0003, b"UI", sop_instance.encode("ascii")),
        _element(0x0010, b"UI", transfer_syntax.encode("ascii")),
        _element(0x0012, b"UI", IMPLEMENTATION_CLASS_UID.encode("ascii")),
        _element(0x0013, b"SH", IMPLEMENTATION_VERSION.encode("ascii")),
    ))
    return header(0x00020000, "UL", 4, False) + struct.pack("<L", len(body)) + body
