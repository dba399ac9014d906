"""The subject's identifying values, read from a dataset before it is anonymised.

They feed two things: the terms the free-text scrub looks for in every spelling
(:func:`terms`, :mod:`.spellings`) and the linkage store's list of identifiers (so ``sdu verify`` can look for them without the
originals). Only top-level attributes are read: cheap, and where PS3.3 puts them.
"""
from __future__ import annotations

import re
from typing import Callable

from typing import TYPE_CHECKING

from .spellings import Terms

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

NAME_KEYWORDS = (
    "PatientName", "ReferringPhysicianName", "OperatorsName", "PerformingPhysicianName",
    "PhysiciansOfRecord", "NameOfPhysiciansReadingStudy", "ReviewerName", "RequestingPhysician",
    "PatientBirthName", "PatientMotherBirthName", "OtherPatientNames",
)
ID_KEYWORDS = ("PatientID", "OtherPatientIDs", "AccessionNumber", "PatientBirthDate", "MedicalRecordLocator")
#: The dates whose other spellings are scrubbed from free text (the study's dates and the birth date).
DATE_KEYWORDS = ("PatientBirthDate", "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")
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


def terms(ds: Dataset) -> Terms:
    """The subject's :class:`~.spellings.Terms`: what the free-text scrub looks for."""
    other_ids = [v for item in ds.get("OtherPatientIDsSequence") or [] for v in _values(item, "PatientID")]
    return terms_from(lambda kw: _values(ds, kw), other_ids)


def terms_from(values: Callable[[str], list[str]], other_ids: list[str]) -> Terms:
    """:func:`terms` from ``values(keyword)``, as :func:`identifiers_from`."""
    ids = [v.strip() for kw in ID_KEYWORDS if kw != "PatientBirthDate" for v in values(kw)] + [v.strip() for v in other_ids]
    return Terms(names=tuple(sorted({v for kw in NAME_KEYWORDS for v in values(kw) if v.strip()})),
                 ids=tuple(sorted({v for v in ids if v})),
                 dates=tuple(sorted({v.strip() for kw in DATE_KEYWORDS for v in values(kw) if v.strip()})))


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
