"""Prove one output file clean from its bytes (:mod:`verifier.elements`), without a pydicom data set.

Runs the same checks as :func:`verifier.filecheck.check_file` (raw-bytes scan, record, profile,
private elements, original UIDs) and gives the same clean result and RT summary
(:mod:`verifier.bytesummary`). It only ever
answers "clean": the moment anything would be a finding, or anything is unusual, it returns None and
the pydicom path produces the findings, named exactly as always.
"""
from __future__ import annotations

import os
from functools import lru_cache

from . import iod
from .bytevalues import CHARSET, converted, encodings, text_values, values
from .checks import BASIC_PROFILE, RETAIN_UIDS, _is_trial_record, _row, option_columns
from .elements import Declined, Parsed, Short, find, parse
from .model import FileResult
from .matcher import encoding_name
from .rawscan import pixel_payloads, pixel_value_range, scan
from .bytesummary import summarise
from .references import RtSummary
from .walk import _keyword

HEAD = 32768
CODE_SEQUENCE, CODE_VALUE, IDENTITY_REMOVED = 0x00120064, 0x00080100, 0x00120062
METHOD, SOP_CLASS = 0x00120063, 0x00080016
_NOT_GIVEN = object()


@lru_cache(maxsize=16384)
def _action(tag: int, columns: frozenset[str]) -> str | None:
    """The Table E.1-1 action for a profile-judged element (None: no row, or not judged)."""
    if _is_trial_record(tag, _keyword(tag)):
        return None
    row = _row(tag)
    return row.action(columns) if row is not None else "-"


def _read(path) -> tuple[list[tuple[int, bytes]], Parsed, list]:
    """The file's bytes outside pixel data, as (offset, bytes) pieces, their parse, and the
    text-carrying payloads of encapsulated pixel data (:mod:`verifier.pixeltext`).

    A CT slice is mostly pixel data the scan leaves out, so only the rest is read.
    """
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(HEAD)
        whole = size <= len(head)
        try:
            parsed = parse(head, None if whole else size)
        except Short:
            if whole:
                raise
            head, whole = head + f.read(), True
            parsed = parse(head)
        pos = parsed.pixel_pos
        if pos is None:
            return [(0, head if whole else head + f.read())], parsed, []
        pixels = pixel_value_range(head, pos, None if whole else size) if pos + 12 <= len(head) else None
        if pixels is None and not whole:
            head, whole = head + f.read(), True
            pixels = pixel_value_range(head, pos)
        if pixels is None:
            return [(0, head)], parsed, []
        start, end = pixels
        if whole or end <= len(head):
            tail = head[end:] + (b"" if whole else f.read())
        else:
            f.seek(end)
            tail = f.read()
        return [(0, head[:start]), (end, tail)], parsed, pixel_payloads(head, pos) if whole else []


class _Clean:
    """The profile / private / UID walk of :class:`verifier.checks.DatasetCheck`, stopping at the first doubt."""

    def __init__(self, data: bytes, columns: frozenset[str], uids: frozenset[str] | None,
                 implicit: bool = False, iod_root=None):
        self.data, self.columns, self.uids = data, columns, uids
        self.implicit, self.iod_root = implicit, iod_root

    def level(self, level: list, profile: bool, nested: bool, tree=None) -> bool:
        data, uids, columns = self.data, self.uids, self.columns
        top = tree is not None and tree is self.iod_root
        for tag, vr, start, length, items in level:
            if tag & 0x10000:
                return False  # a private element: a finding unless safe, which the pydicom path judges
            if nested and tag == CHARSET:
                return False
            sub = None
            if tree is not None and tag & 0xFFFF and tag >> 16 != 0x0002:  # the iod check (as DatasetCheck)
                problem, sub = iod.problem(tree, tag, None if self.implicit else vr, top)
                if problem:
                    return False
            child = False
            if profile:
                action = _action(tag, columns)
                if action == "X":
                    return False
                if action in ("X/Z", "Z") and (items if vr == "SQ" else length):
                    return False  # (even blank padding: the pydicom path decides what counts as a value)
                child = action is not None
            if vr == "SQ":
                for item in items:
                    if not self.level(item, child, True, sub):
                        return False
            elif vr == "UI" and uids:
                raw = data[start:start + length]
                if not raw.isascii() or any(u in uids for u in text_values(raw)):
                    return False
        return True


def _get(data: bytes, level: list, tag: int, implicit: bool, encoding, default=_NOT_GIVEN):
    element = find(level, tag)
    if element is None:
        return default
    if element[1] == "SQ":
        raise Declined
    return converted(data, element, implicit, encoding)


def _codes(data: bytes, parsed: Parsed, encoding) -> frozenset[str]:
    """As :func:`verifier.checks.declared_codes`."""
    seq = find(parsed.dataset, CODE_SEQUENCE)
    if seq is None:
        return frozenset()
    if seq[1] != "SQ":
        raise Declined
    codes = set()
    for item in seq[4]:
        value = _get(data, item, CODE_VALUE, parsed.implicit, encoding, None)
        if value:
            codes.add(str(value).strip())
    return frozenset(codes)


def clean_result(path, rel: str, orig) -> tuple[FileResult, RtSummary] | None:
    """The result of a clean file (as the pydicom path would give it), or None: let pydicom decide."""
    try:
        pieces, parsed, texts = _read(path)
        data = pieces[0][1]
        encoding = encodings(data, parsed)
        names = {n for n in map(encoding_name, [encoding] if isinstance(encoding, str) else encoding) if n}
        implicit = parsed.implicit
        codes = _codes(data, parsed, encoding)
        removed = _get(data, parsed.dataset, IDENTITY_REMOVED, implicit, encoding, None)
        if removed is None or str(removed).strip().upper() != "YES" or BASIC_PROFILE not in codes:
            return None
        uids = orig.uids if orig.has_uids and RETAIN_UIDS not in codes else None
        matcher = orig.identifiers.matcher(codes, names) if orig.has_identifiers else None
        for _, chunk in pieces:  # a possible identifier hit alone sends the file on
            if (matcher and matcher.may_match(chunk)) or scan(chunk, [(0, len(chunk))], None, uids):
                return None
        if matcher and any(matcher.may_match(t.data) for t in texts):
            return None
        method = find(parsed.dataset, METHOD)  # often multi-valued: its strings, as declares_kept reads them
        if method is not None and method[1] == "SQ":
            return None
        kept = method is not None and iod.declares_kept(values(data, method, implicit, encoding))
        root = None if kept else iod.tree_for(str(_get(data, parsed.dataset, SOP_CLASS, implicit, encoding, "") or ""))
        walk = _Clean(data, option_columns(codes), uids, implicit, root)
        if not (walk.level(parsed.meta, True, False) and walk.level(parsed.dataset, True, False, root)):
            return None
        summary = summarise(rel, data, parsed.dataset, implicit, encoding)
        modality = str(_get(data, parsed.dataset, 0x00080060, implicit, encoding, "") or "")
    except Exception:  # declined by the reader, or anything unexpected: the pydicom path decides
        return None
    return FileResult(rel, "dicom", modality, []), summary
