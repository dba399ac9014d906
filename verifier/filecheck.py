"""Verify one file of the output: raw-bytes scan first, dataset checks, RT reference summary.

Fast path: the raw scan (one multi-pattern pass, :mod:`verifier.matcher`) runs over the file's bytes
minus pixel data (a deflated data set inflated first, up to a limit); only when it may hit are
element values searched for identifiers, to name the tag path. Hits no element explains (preamble,
padding, elements after the pixel data, trailing bytes) are reported with their byte offset. Text
inside encapsulated pixel data (JPEG comments and application segments, JPEG 2000 comments) is
searched too and named by its segment. Files that are not DICOM Part 10 get the raw scan only.

A clean file is first proved clean from its bytes (:mod:`verifier.bytecheck`, no pydicom data set);
every other file, and any file the byte reader declines, takes the pydicom path below.
"""
from __future__ import annotations

import bisect
from io import BytesIO
from pathlib import Path

import zlib

from .bytecheck import clean_result
from .checks import RETAIN_UIDS, DatasetCheck, declared_codes, record_findings
from .collect import Originals, declared_encodings
from .matcher import Matcher
from .model import FileResult, Finding
from .pixeltext import Payload
from .rawscan import RawHit, TooLarge, inflate, pixel_payloads, pixel_value_range, scan, scan_all, segments
from .references import RtSummary, summarise

_DEFLATED = b"1.2.840.10008.1.2.1.99"  # Deflated Explicit VR Little Endian
#: Prove clean files clean with the verifier's byte reader first (tests turn this off to compare).
BYTE_READER = True


def _raw_finding(hit: RawHit, part10: bool = True, after: int | None = None, inflated: int | None = None) -> Finding:
    what = hit.identifier.describe() if hit.identifier else "an original UID"
    where = " (in the file preamble)" if part10 and hit.offset < 128 else ""
    if after is not None and hit.offset >= after:
        where = " (after the pixel data)"
    if inflated is not None and hit.offset >= inflated:
        where += " of the inflated data set"
    return Finding("raw bytes", "", f"bytes at offset {hit.offset}{where} contain {what}", "", hit.offset)


def _payload_findings(items: list[Payload], matcher: Matcher | None) -> list[Finding]:
    """Identifiers in text-carrying segments of encapsulated pixel data, named by segment kind."""
    out = []
    for item in items if matcher else ():
        found = matcher.search(item.data)[0]
        kinds = sorted({ident.describe() for _, ident in found})
        if kinds:
            out.append(Finding("identifiers", "(7FE0,0010)",
                               f"{item.kind} in the encapsulated pixel data contains " + "; ".join(kinds),
                               "PixelData", item.absolute(found[0][0])))
    return out


def _read(data: bytes, limit: int):
    """(data set, offset of the pixel element or end, bytes, offset where inflated bytes start or None).

    ``bytes`` is the file for most transfer syntaxes; for a deflated one it is the file's preamble
    and meta followed by the inflated data set (raises TooLarge past ``limit``), so offsets and the
    raw scan refer to what a reader sees.
    """
    import pydicom  # the byte reader proves most files clean without it (:mod:`.bytecheck`)
    from pydicom.filereader import _at_pixel_data, _read_file_meta_info, read_dataset, read_preamble
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    fp = BytesIO(data)
    if _DEFLATED not in data[132:132 + 8192]:
        ds = pydicom.dcmread(fp, stop_before_pixels=True)
        return ds, fp.tell(), data, None
    read_preamble(fp, False)
    meta = _read_file_meta_info(fp)
    if meta.get("TransferSyntaxUID", None) != DeflatedExplicitVRLittleEndian:
        fp = BytesIO(data)
        ds = pydicom.dcmread(fp, stop_before_pixels=True)
        return ds, fp.tell(), data, None
    start = fp.tell()
    inflated, trailing = inflate(data[start:], limit)
    data = data[:start] + inflated + trailing
    fp = BytesIO(data)
    fp.seek(start)
    ds = read_dataset(fp, False, True, bytelength=len(inflated), stop_when=_at_pixel_data)
    ds.file_meta = meta
    return ds, fp.tell(), data, start


def _is_part10(data: bytes) -> bool:
    return len(data) >= 132 and data[128:132] == b"DICM"


def _uncovered(hits: list[RawHit], check: DatasetCheck | None, part10: bool = True,
               after: int | None = None, inflated: int | None = None) -> list[Finding]:
    if check is None:
        return [_raw_finding(h, part10, after, inflated) for h in hits]
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
        out.append(_raw_finding(h, True, after, inflated))
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
    try:
        ds, stop, data, inflated_at = _read(data, orig.max_inflated)
    except TooLarge:
        return FileResult(rel, "dicom", findings=[Finding(
            "readable", "", f"deflated data set inflates to more than {orig.max_inflated} bytes "
            "(the verifier's limit): it could not be fully checked")]), None
    except (Exception, zlib.error) as exc:  # damaged output is a failure, never a crash of the batch
        findings = [Finding("readable", "", f"DICOM file could not be parsed ({type(exc).__name__})")]
        findings += _uncovered(scan(data, [(0, len(data))], strict, uids), None)
        return FileResult(rel, "dicom", findings=findings), None
    codes = declared_codes(ds)
    encodings = declared_encodings(ds)
    matcher = orig.identifiers.matcher(codes, encodings) if orig.has_identifiers else None
    if RETAIN_UIDS in codes:
        uids = None
    pixels = pixel_value_range(data, stop)
    parts = segments(len(data), pixels)
    # any hit, also one touching binary tag or length bytes (tolerant) -> search values to name the element
    hits, search_values = scan_all(data, parts, matcher, uids)
    check = DatasetCheck(codes, matcher if search_values else None,
                         orig.identifiers.personal(encodings) if search_values else None, uids)
    findings = record_findings(ds, codes)
    if pixels is not None:
        findings += _payload_findings(pixel_payloads(data, stop), matcher)
    try:
        check.run(ds)
    except Exception as exc:
        findings.append(Finding("readable", "", f"DICOM file could not be parsed ({type(exc).__name__})"))
    findings += check.findings
    findings += _uncovered(hits, check, True, pixels[1] if pixels else None, inflated_at)
    summary = None
    try:
        summary = summarise(rel, ds)
    except Exception as exc:
        findings.append(Finding("readable", "", f"RT references could not be read ({type(exc).__name__})"))
    return FileResult(rel, "dicom", str(ds.get("Modality", "") or ""), findings), summary


def check_batch(orig: Originals, batch: list[tuple[str, str]]) -> list[tuple[FileResult, RtSummary | None]]:
    return [check_file(Path(p), rel, orig) for p, rel in batch]
