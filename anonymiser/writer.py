"""Writing an anonymised dataset fast: untouched elements go out as the bytes they came in as.

pydicom's writer re-encodes every element through several Python calls; for a CT slice that
costs more than the whole profile walk. Here an element the walk did not touch (still a
``RawDataElement``, value bytes as read, length defined) is copied with a header built in one
``struct`` pack; everything else (changed values, converted sequences, undefined lengths) goes
through pydicom's own ``write_data_element``. Little-endian transfer syntaxes only; anything
else is written by pydicom entirely. The output is byte-for-byte what pydicom would write for
the raw elements, and pixel data is never decoded.
"""
from __future__ import annotations

from io import BytesIO
from typing import BinaryIO

from pydicom.dataset import Dataset
from pydicom.dataelem import RawDataElement
from pydicom.filebase import DicomFileLike
from pydicom.filewriter import write_data_element, write_file_meta_info

from .encoding import IMPLICIT, ITEM, ITEM_END, LONG, LONG_VRS, SEQ_END, SHORT, UNDEFINED



def encode(ds: Dataset) -> bytes:
    """The Part 10 file for ``ds`` (preamble, file meta, dataset) as bytes."""
    out = BytesIO()
    write(ds, out)
    return out.getvalue()


def write(ds: Dataset, out: BinaryIO) -> None:
    """Write the Part 10 file for ``ds`` to an open binary file (no copy of the pixel data)."""
    syntax = ds.file_meta.TransferSyntaxUID
    if not syntax.is_little_endian or syntax.is_deflated:
        ds.save_as(out, enforce_file_format=True)
        return
    implicit = syntax.is_implicit_VR
    fp = DicomFileLike(out)
    fp.is_little_endian, fp.is_implicit_VR = True, True  # file meta: explicit VR LE, set below
    fp.write(ds.preamble or b"\0" * 128)
    fp.write(b"DICM")
    fp.is_implicit_VR = False
    write_file_meta_info(fp, ds.file_meta, enforce_standard=True)
    fp.is_implicit_VR = implicit
    encodings = ds.get("SpecificCharacterSet") or ["iso8859"]
    if not isinstance(encodings, str):
        encodings = list(encodings)
    _write_elements(fp, ds, implicit, encodings)




def _write_elements(fp, ds: Dataset, implicit: bool, encodings) -> None:
    """Elements in tag order: raw ones as their bytes, sequences item by item (undefined
    lengths, as pydicom writes them), the rest through pydicom."""
    if 0x00080005 in ds._dict:  # an item may carry its own character set
        value = ds.get("SpecificCharacterSet")
        if value:
            encodings = value if isinstance(value, str) else list(value)
    for tag in sorted(ds._dict):
        elem = ds._dict[tag]
        if tag >> 16 == 0x0002:
            continue
        if type(elem) is RawDataElement and elem.length != UNDEFINED and elem.value is not None and (implicit or elem.VR):
            value = elem.value
            if len(value) % 2:
                value += b"\0" if elem.VR in ("UI", "OB", "UN") else b" "
            g, e = tag >> 16, tag & 0xFFFF
            if implicit:
                fp.write(IMPLICIT(g, e, len(value)))
            elif elem.VR in LONG_VRS:
                fp.write(LONG(g, e, elem.VR.encode(), len(value)))
            else:
                fp.write(SHORT(g, e, elem.VR.encode(), len(value)))
            fp.write(value)
        elif type(elem) is not RawDataElement and elem.VR == "SQ":
            g, e = tag >> 16, tag & 0xFFFF
            fp.write(IMPLICIT(g, e, UNDEFINED) if implicit else LONG(g, e, b"SQ", UNDEFINED))
            for item in elem.value:
                fp.write(ITEM)
                _write_elements(fp, item, implicit, encodings)
                fp.write(ITEM_END)
            fp.write(SEQ_END)
        else:
            write_data_element(fp, ds[tag], encodings)
