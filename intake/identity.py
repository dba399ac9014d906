"""Who and where an encoded dataset belongs, read from its first elements only.

The receiver and the watcher both hand :func:`identify` the dataset bytes exactly as they
arrived (no File Meta group) plus the transfer syntax; only the header elements up to
(0020,0011) are parsed, so pixel data is never decoded. :func:`split_part10` cuts a Part 10
file into its File Meta transfer syntax and the dataset bytes that follow the meta group.
"""
from __future__ import annotations

import functools
import json
import struct
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from pydicom.filereader import read_dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, UID
from pydicom.valuerep import IS

from sdu.errors import NotDicomError

_LAST_TAG = 0x00200011  # SeriesNumber: every element identify() needs sits at or before it
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
_SHORT_VRS = {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT", b"PN", b"SH",
              b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US"}
#: The elements :class:`Identity` is made of, by tag.
_FIELDS = {0x00080016: "sop_class_uid", 0x00080018: "sop_instance_uid", 0x0020000D: "study_uid",
           0x0020000E: "series_uid", 0x00100020: "patient_id", 0x00100021: "issuer", 0x00100010: "patient_name",
           0x00080060: "modality", 0x00080020: "study_date", 0x00081030: "study_description",
           0x00200011: "series_number", 0x0008103E: "series_description"}
_TEXT_VRS = {b"UI", b"CS", b"LO", b"SH", b"PN", b"DA", b"IS"}  # what the dictionary says they are
_UID_TAGS = {0x00080016, 0x00080018, 0x0020000D, 0x0020000E}
_CHARSET = 0x00080005
#: Character sets under which an all-ASCII value reads as ASCII (no ISO 2022 code extensions).
_PLAIN_CHARSETS = {b"", b"ISO_IR 6", b"ISO_IR 100", b"ISO_IR 192"}


#: Little endian transfer syntaxes whose data set is not compressed as a whole (encapsulated
#: pixel data comes after the header the fast path reads).
_FAST_SYNTAXES = {ImplicitVRLittleEndian, ExplicitVRLittleEndian} | {
    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.5"}


@functools.cache
def storage_tables() -> dict[str, dict[str, str]]:
    """The storage SOP classes and transfer syntaxes the receiver accepts (``data/storage.json``)."""
    with open(Path(__file__).with_name("data") / "storage.json", encoding="utf-8") as f:
        data = json.load(f)
    return {"sop_classes": data["sop_classes"], "transfer_syntaxes": data["transfer_syntaxes"]}


@dataclass(frozen=True)
class Identity:
    """The header values the store files an instance by. Identifiable: never log these."""

    sop_class_uid: str
    sop_instance_uid: str
    study_uid: str
    series_uid: str
    patient_id: str = ""
    issuer: str = ""
    patient_name: str = ""
    modality: str = ""
    study_date: str = ""
    study_description: str = ""
    series_number: str = ""
    series_description: str = ""


def _text(ds, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _scan_header(data: bytes, implicit: bool) -> Identity | None:
    """The fast path of :func:`identify` for little endian data sets with plain headers.

    Walks the elements up to (0020,0011) by their lengths and reads the few it needs as ASCII.
    Returns None (and :func:`identify` asks pydicom) at anything unusual: an undefined
    length, an unknown VR, a multi-valued, non-ASCII or NUL-padded text value, a character
    set with code extensions. The tests hold it to pydicom's answers.
    """
    raw: dict[int, bytes] = {}
    pos, end = 0, len(data)
    unpack = struct.unpack_from
    while pos + 8 <= end:
        group, elem = unpack("<HH", data, pos)
        tag = group << 16 | elem
        if tag > _LAST_TAG:
            break
        if implicit:
            (length,) = unpack("<L", data, pos + 4)
            pos += 8
        else:
            vr = data[pos + 4:pos + 6]
            if tag in _FIELDS and vr not in _TEXT_VRS:
                return None
            if vr in _LONG_VRS:
                if pos + 12 > end:
                    return None
                (length,) = unpack("<L", data, pos + 8)
                pos += 12
            elif vr in _SHORT_VRS:
                (length,) = unpack("<H", data, pos + 6)
                pos += 8
            else:
                return None
        if length == 0xFFFFFFFF or pos + length > end:
            return None
        if tag in _FIELDS or tag == _CHARSET:
            raw[tag] = data[pos:pos + length]
        pos += length
    if raw.get(_CHARSET, b"").strip(b" \0") not in _PLAIN_CHARSETS:
        return None
    values = {}
    for tag, name in _FIELDS.items():
        value = raw.get(tag, b"")
        if tag in _UID_TAGS:
            value = value.rstrip(b"\0")
        if not value.isascii() or any(c in value for c in (b"\\", b"\0", b"\x1b")):
            return None
        values[name] = value.decode("ascii").strip()
    if values["series_number"]:
        values["series_number"] = str(IS(values["series_number"])).strip()
    return Identity(**values)


def identify(dataset: bytes, transfer_syntax: str, *, path: str | None = None) -> Identity:
    """Parse the header of ``dataset`` (encoded in ``transfer_syntax``); raise NotDicomError."""
    if transfer_syntax in _FAST_SYNTAXES:
        try:
            ident = _scan_header(dataset, transfer_syntax == ImplicitVRLittleEndian)
        except Exception:  # struct/IS errors: let pydicom have its say
            ident = None
        if ident is not None and all((ident.sop_class_uid, ident.sop_instance_uid, ident.study_uid,
                                      ident.series_uid)):
            return ident
    return _identify_with_pydicom(dataset, transfer_syntax, path=path)


def _identify_with_pydicom(dataset: bytes, transfer_syntax: str, *, path: str | None = None) -> Identity:
    ts = UID(transfer_syntax)
    data = dataset
    try:
        if ts == DeflatedExplicitVRLittleEndian:
            data = zlib.decompressobj(-zlib.MAX_WBITS).decompress(dataset, 1 << 20)
        implicit = ts.is_implicit_VR if ts.is_transfer_syntax else False
        little = ts.is_little_endian if ts.is_transfer_syntax else True
        ds = read_dataset(BytesIO(data), implicit, little, stop_when=lambda tag, vr, length: tag > _LAST_TAG)
        ident = Identity(
            sop_class_uid=_text(ds, "SOPClassUID"),
            sop_instance_uid=_text(ds, "SOPInstanceUID"),
            study_uid=_text(ds, "StudyInstanceUID"),
            series_uid=_text(ds, "SeriesInstanceUID"),
            patient_id=_text(ds, "PatientID"),
            issuer=_text(ds, "IssuerOfPatientID"),
            patient_name=_text(ds, "PatientName"),
            modality=_text(ds, "Modality"),
            study_date=_text(ds, "StudyDate"),
            study_description=_text(ds, "StudyDescription"),
            series_number=_text(ds, "SeriesNumber"),
            series_description=_text(ds, "SeriesDescription"),
        )
    except Exception as exc:  # pydicom raises many types on damaged data
        raise NotDicomError(f"cannot parse dataset header ({type(exc).__name__})", path=path) from None
    missing = [k for k in ("sop_class_uid", "sop_instance_uid", "study_uid", "series_uid") if not getattr(ident, k)]
    if missing:
        raise NotDicomError("dataset lacks " + ", ".join(missing), path=path)
    return ident


def split_part10(raw: bytes, *, path: str | None = None) -> tuple[str, bytes]:
    """Return (transfer syntax UID, dataset bytes after the File Meta group) of a Part 10 file."""
    if len(raw) < 132 or raw[128:132] != b"DICM":
        raise NotDicomError("not a DICOM Part 10 file (no preamble/'DICM' marker)", path=path)
    pos, ts = 132, None
    while pos + 8 <= len(raw):
        group, elem = struct.unpack_from("<HH", raw, pos)
        if group != 0x0002:
            break
        vr = raw[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            (length,) = struct.unpack_from("<L", raw, pos + 8)
            start = pos + 12
        else:
            (length,) = struct.unpack_from("<H", raw, pos + 6)
            start = pos + 8
        if start + length > len(raw):
            raise NotDicomError("File Meta Information is truncated", path=path)
        if elem == 0x0010:
            ts = raw[start : start + length].rstrip(b"\0 ").decode("ascii", "replace")
        pos = start + length
    if not ts:
        raise NotDicomError("no File Meta Information (transfer syntax unknown)", path=path)
    return ts, raw[pos:]
