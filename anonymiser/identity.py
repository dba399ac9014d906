"""The subject's identifying values, read from a dataset before it is anonymised.

They feed two things: the pattern that scrubs free text (:mod:`.actions.clean`) and the
linkage store's list of identifiers (so ``sdu verify`` can look for them without the
originals). Only top-level attributes are read: cheap, and where PS3.3 puts them.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    other_ids = [v for item in ds.get("OtherPatientIDsSequence") or [] for v in _values(item, "PatientID")]
    return identifiers_from(lambda kw: _values(ds, kw), other_ids)


def identifiers_from(values: Callable[[str], list[str]], other_ids: list[str]) -> list[tuple[str, str]]:
    """:func:`identifiers` from ``values(keyword)`` (the element's values as text) and the
    Patient IDs of the Other Patient IDs Sequence."""
    out: list[tuple[str, str]] = []
    for kw in NAME_KEYWORDS:
        for name in values(kw):
            for part in re.split(r"[\^=\s,]+", name):
                if len(part) >= MIN_WORD:
                    out.append(("patient name" if kw == "PatientName" else "staff name", part))
    for kw in ID_KEYWORDS:
        out += [(kw, v.strip()) for v in values(kw) if len(v.strip()) >= MIN_WORD]
    out += [("OtherPatientIDs", v.strip()) for v in other_ids if len(v.strip()) >= MIN_WORD]
    return out


def python_encodings(ds: Dataset) -> list[str]:
    """The Python codecs of the dataset's Specific Character Set, plus UTF-8 and Latin-1."""
    return python_encodings_for(ds.get("SpecificCharacterSet"))


#: pydicom's codecs for the character sets the byte path handles (a test holds this to pydicom).
PLAIN_CODECS = {"ISO_IR 6": ["iso8859"], "ISO_IR 100": ["latin_1"], "ISO_IR 192": ["UTF8"]}


def python_encodings_for(value) -> list[str]:
    """:func:`python_encodings` from the Specific Character Set value itself."""
    value = value or "ISO_IR 6"
    if isinstance(value, str) and value in PLAIN_CODECS:
        return list(dict.fromkeys([*PLAIN_CODECS[value], "utf_8", "latin_1"]))
    from pydicom.charset import convert_encodings
    try:
        codecs = convert_encodings([value] if isinstance(value, str) else list(value))
    except Exception:  # noqa: BLE001 - an unknown charset still gets the fallbacks
        codecs = []
    return list(dict.fromkeys([*codecs, "utf_8", "latin_1"]))


def scrub_pattern(pairs: list[tuple[str, str]], as_bytes: bool = False,
                  encodings: list[str] = ("utf_8", "latin_1")) -> re.Pattern | None:
    """One case-insensitive whole-word pattern for all the words. The bytes form, for testing
    raw values without decoding, holds each word in every encoding the file may use: it may
    match more than the text form, never less, so it is a safe pre-test."""
    words = tuple(sorted({v for _, v in pairs}, key=lambda w: (-len(w), w)))
    return _compiled(words, as_bytes, tuple(encodings)) if words else None


@lru_cache(maxsize=64)
def _compiled(words: tuple[str, ...], as_bytes: bool, encodings: tuple[str, ...]) -> re.Pattern:
    """Compiled once per subject and worker (every file of a subject has the same words)."""
    if as_bytes:
        forms = {w.encode(enc, "ignore") for w in words for enc in encodings}
        alternatives = b"|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f)) if f)
        return re.compile(rb"(?:" + alternatives + rb")", re.IGNORECASE)
    return re.compile(r"(?<![A-Za-z0-9])(?:" + "|".join(map(re.escape, words)) + r")(?![A-Za-z0-9])", re.IGNORECASE)
