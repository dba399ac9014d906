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
from pydicom.uid import DeflatedExplicitVRLittleEndian, UID

from sdu.errors import NotDicomError

_LAST_TAG = 0x00200011  # SeriesNumber: every element identify() needs sits at or before it
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


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


def identify(dataset: bytes, transfer_syntax: str, *, path: str | None = None) -> Identity:
    """Parse the header of ``dataset`` (encoded in ``transfer_syntax``); raise NotDicomError."""
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
