"""Verify one file of the output: raw-bytes scan first, dataset checks, RT reference summary.

Fast path: the raw scan (a substring pre-filter, then one alternation) runs over the file's bytes
minus pixel data; only when it hits are element values searched for identifiers, to name the tag
path. Hits no element explains (preamble, padding, elements the parser skipped) are reported with
their byte offset. Files that are not DICOM Part 10 get the raw scan only.

A clean file is first proved clean from its bytes (:mod:`verifier.bytecheck`, no pydicom data set);
every other file, and any file the byte reader declines, takes the pydicom path below.
"""
from __future__ import annotations

import bisect
from io import BytesIO
from pathlib import Path

import pydicom
from pydicom.uid import DeflatedExplicitVRLittleEndian

from .bytecheck import clean_result
from .checks import RETAIN_UIDS, DatasetCheck, declared_codes, record_findings
from .collect import Originals
from .model import FileResult, Finding
from .rawscan import RawHit, pixel_value_range, scan, segments
from .references import RtSummary, summarise

#: Prove clean files clean with the verifier's byte reader first (tests turn this off to compare).
BYTE_READER = True


def _raw_finding(hit: RawHit, part10: bool = True) -> Finding:
    what = hit.identifier.describe() if hit.identifier else "an original UID"
    where = " (in the file preamble)" if part10 and hit.offset < 128 else ""
    return Finding("raw bytes", "", f"bytes at offset {hit.offset}{where} contain {what}", "", hit.offset)


def _is_part10(data: bytes) -> bool:
    return len(data) >= 132 and data[128:132] == b"DICM"


def _uncovered(hits: list[RawHit], check: DatasetCheck | None, part10: bool = True) -> list[Finding]:
    if check is None:
        return [_raw_finding(h, part10) for h in hits]
    ranges = sorted(check.covered)
    starts = [a for a, _ in ranges]
    out = []
    for h in hits:
        i = bisect.bisect_right(starts, h.offset) - 1
        if i >= 0 and ranges[i][0] <= h.offset < ranges[i][1]:
            continue
        if (h.identifier is not None and h.identifier in check.covered_unplaced) or \
                (h.uid is not None and h.uid in check.uids_unplaced):
            continue
        out.append(_raw_finding(h))
    return out


def check_file(path: Path, rel: str, orig: Originals) -> tuple[FileResult, RtSummary | None]:
    if BYTE_READER:
        clean = clean_result(path, rel, orig)
        if clean is not None:
            return clean
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return FileResult(rel, "other", findings=[Finding("readable", "", f"cannot read file: {exc.strerror}")]), None
    uids = orig.uids if orig.has_uids else None
    strict = orig.identifiers.matcher(()) if orig.has_identifiers else None
    if not _is_part10(data):
        return FileResult(rel, "other", findings=_uncovered(scan(data, [(0, len(data))], strict, uids), None, False)), None
    fp = BytesIO(data)
    try:
        ds = pydicom.dcmread(fp, stop_before_pixels=True)
        stop = fp.tell()
    except Exception as exc:  # damaged output is a failure, never a crash of the batch
        findings = [Finding("readable", "", f"DICOM file could not be parsed ({type(exc).__name__})")]
        findings += _uncovered(scan(data, [(0, len(data))], strict, uids), None)
        return FileResult(rel, "dicom", findings=findings), None
    codes = declared_codes(ds)
    matcher = orig.identifiers.matcher(codes) if orig.has_identifiers else None
    if RETAIN_UIDS in codes:
        uids = None
    meta = getattr(ds, "file_meta", None)
    deflated = meta is not None and meta.get("TransferSyntaxUID", None) == DeflatedExplicitVRLittleEndian
    pixels = None if deflated else pixel_value_range(data, stop)
    parts = segments(len(data), pixels)
    hits = scan(data, parts, matcher, uids)
    # any identifier's bytes anywhere (no word boundaries: a value may touch binary tag bytes) -> search values
    search_values = bool(matcher) and (deflated or any(matcher.may_match(data[a:b]) for a, b in parts if b > a))
    check = DatasetCheck(codes, matcher if search_values else None,
                         orig.identifiers.personal() if search_values else None, uids)
    findings = record_findings(ds, codes)
    try:
        check.run(ds)
    except Exception as exc:
        findings.append(Finding("readable", "", f"DICOM file could not be parsed ({type(exc).__name__})"))
    findings += check.findings
    findings += _uncovered(hits, check)
    summary = None
    try:
        summary = summarise(rel, ds)
    except Exception as exc:
        findings.append(Finding("readable", "", f"RT references could not be read ({type(exc).__name__})"))
    return FileResult(rel, "dicom", str(ds.get("Modality", "") or ""), findings), summary


def check_batch(orig: Originals, batch: list[tuple[str, str]]) -> list[tuple[FileResult, RtSummary | None]]:
    return [check_file(Path(p), rel, orig) for p, rel in batch]
