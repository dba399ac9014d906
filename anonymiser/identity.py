"""The subject's identifying values, read from a dataset before it is anonymised.

They feed two things: the pattern that scrubs free text (:mod:`.actions.clean`) and the
linkage store's list of identifiers (so ``sdu verify`` can look for them without the
originals). Only top-level attributes are read: cheap, and where PS3.3 puts them.
"""
from __future__ import annotations

import re

from pydicom.dataset import Dataset

NAME_KEYWORDS = (
    "PatientName", "ReferringPhysicianName", "OperatorsName", "PerformingPhysicianName",
    "PhysiciansOfRecord", "NameOfPhysiciansReadingStudy", "ReviewerName", "RequestingPhysician",
    "PatientBirthName", "PatientMotherBirthName", "OtherPatientNames",
)
ID_KEYWORDS = ("PatientID", "OtherPatientIDs", "AccessionNumber", "PatientBirthDate", "MedicalRecordLocator")
MIN_WORD = 3


def _values(ds: Dataset, keyword: str) -> list[str]:
    if keyword not in ds:
        return []
    value = ds[keyword].value
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    return [str(value)]


def identifiers(ds: Dataset) -> list[tuple[str, str]]:
    """(kind, value) pairs: name components, IDs, accession, birth date."""
    out: list[tuple[str, str]] = []
    for kw in NAME_KEYWORDS:
        for name in _values(ds, kw):
            for part in re.split(r"[\^=\s,]+", name):
                if len(part) >= MIN_WORD:
                    out.append(("patient name" if kw == "PatientName" else "staff name", part))
    for kw in ID_KEYWORDS:
        out += [(kw, v.strip()) for v in _values(ds, kw) if len(v.strip()) >= MIN_WORD]
    for item in ds.get("OtherPatientIDsSequence") or []:
        out += [("OtherPatientIDs", v.strip()) for v in _values(item, "PatientID") if len(v.strip()) >= MIN_WORD]
    return out


def scrub_pattern(pairs: list[tuple[str, str]], as_bytes: bool = False) -> re.Pattern | None:
    """One case-insensitive whole-word pattern for all the words (bytes form for raw values:
    it may match more than the text form, never less, so it is a safe pre-test)."""
    words = sorted({v for _, v in pairs}, key=len, reverse=True)
    if not words:
        return None
    if as_bytes:
        alternatives = b"|".join(re.escape(w.encode("utf-8", "replace")) for w in words)
        return re.compile(rb"(?:" + alternatives + rb")", re.IGNORECASE)
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, words)) + r")(?![A-Za-z0-9])", re.IGNORECASE)
