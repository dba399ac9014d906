"""The corpus test (issue 14, "Must show"): every file of pydicom's test data, identifiers planted
in every text element at every depth, in the file's declared character set.

- ``sdu anonymise`` (:func:`anonymiser.anonymise_folder`) leaves 0 identifier bytes in the output,
  searched in the declared character set, UTF-8 and Latin-1, in any case; a file it refuses is
  blocked with a named reason (unusual character sets counted on their own).
- With the free-text cleaning disabled, the verifier fails every file whose output still holds
  a planted identifier: what the anonymiser might miss, the verifier sees.
"""
from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pydicom
import pytest
from pydicom.charset import convert_encodings
from pydicom.data.data_manager import DATA_ROOT
from pydicom.uid import (ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                         SecondaryCaptureImageStorage, generate_uid)

from anonymiser import AnonymiseOptions, anonymise_folder, spellings
from sdu import site

PATIENT_NAME, PATIENT_ID, BIRTH_DATE = "Oakenfold^Brunhilde", "0047110815", "19520411"
#: How the planted text writes the identifiers (every value starts with the name as stored).
SPELLINGS = ["OAKENFOLD", "brunhilde", "Brunhilde Oakenfold", "47110815", "4711-0815", "11/04/1952",
             "04/11/1952", "1952-04-11", "11 Apr 1952", "April 11, 1952", "11.04.52", "19520411"]
#: What must not be in the output (compared case-insensitively).
NEEDLES = ["oakenfold", "brunhilde", "47110815", "4711-0815", "11/04/1952", "04/11/1952", "1952-04-11",
           "11 apr 1952", "april 11, 1952", "11.04.52", "19520411"]
TEXT_VRS = {"SH", "LO", "ST", "LT", "UT", "UC"}
#: (implicit VR, little endian) of a dataset read without file meta -> its transfer syntax.
SYNTAX = {(True, True): ImplicitVRLittleEndian, (False, True): ExplicitVRLittleEndian,
          (False, False): ExplicitVRBigEndian}
PLAIN = {"", "ISO_IR 6", "ISO_IR 100", "ISO_IR 192"}


def _local_test_files() -> list[Path]:
    """pydicom's own files (never the ones it downloads): its test files and character set files."""
    return sorted(p for folder in ("test_files", "charset_files") for p in Path(DATA_ROOT, folder).rglob("*")
                  if p.is_file())


def _plant(ds: pydicom.Dataset) -> int:
    """Identifiers into every text and person-name element, at every depth; returns how many."""
    count = 0
    for elem in ds.iterall():
        if elem.VR in TEXT_VRS and elem.tag != 0x00080005:
            elem.value = f"Oakenfold {SPELLINGS[count % len(SPELLINGS)]}"
            if elem.VR in ("ST", "LT", "UT", "UC"):
                elem.value = "Oakenfold " + "; ".join(SPELLINGS)
            count += 1
        elif elem.VR == "PN":
            elem.value = PATIENT_NAME
    return count


def _prepare(src: Path) -> tuple[dict[str, str], Counter]:
    """Planted copies of every readable instance in ``src``; returns name -> declared charset."""
    charsets, skipped = {}, Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, path in enumerate(_local_test_files()):
            try:
                ds = pydicom.dcmread(path, force=True)  # datasets without preamble or file meta too
                if len(ds) < 5:
                    raise ValueError("not a dataset")
            except Exception:  # noqa: BLE001 - text, JSON, ICC profiles, archives: not DICOM
                skipped["not a DICOM file pydicom reads"] += 1
                continue
            if "SOPInstanceUID" not in ds or "SOPClassUID" not in ds:  # the character set samples
                ds.SOPClassUID, ds.SOPInstanceUID = SecondaryCaptureImageStorage, generate_uid()
                ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
            try:
                planted = _plant(ds)
            except Exception:  # noqa: BLE001 - a value pydicom cannot convert: nothing to plant into
                skipped["values pydicom cannot convert"] += 1
                continue
            ds.PatientName, ds.PatientID, ds.PatientBirthDate = PATIENT_NAME, PATIENT_ID, BIRTH_DATE
            if not planted:
                skipped["no text element"] += 1
                continue
            meta = ds.file_meta
            meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
            if "TransferSyntaxUID" not in meta:
                meta.TransferSyntaxUID = SYNTAX[ds.original_encoding]
            name = f"{i:03d}_{path.name}"
            try:
                ds.save_as(src / name, enforce_file_format=True)
            except Exception:  # noqa: BLE001 - pydicom cannot write it back (e.g. a value it cannot encode)
                skipped["pydicom cannot write it"] += 1
                continue
            cs = ds.get("SpecificCharacterSet") or ""
            charsets[name] = cs if isinstance(cs, str) else "\\".join(cs)
    return charsets, skipped


def _leaks(data: bytes, charset: str) -> list[str]:
    codecs = {"utf_8", "latin_1"}
    try:
        codecs |= set(convert_encodings(charset.split("\\") if charset else ["ISO_IR 6"]))
    except Exception:  # noqa: BLE001 - an unknown charset: UTF-8 and Latin-1 still searched
        pass
    low = data.lower()
    out = []
    for needle in NEEDLES:
        for codec in codecs:
            try:
                encoded = needle.encode(codec)
            except (UnicodeEncodeError, LookupError):
                continue
            if encoded and encoded.lower() in low:
                out.append(needle)
                break
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    src = tmp_path_factory.mktemp("corpus") / "src"
    src.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pydicom.config.settings, "writing_validation_mode", pydicom.config.IGNORE)
        charsets, skipped = _prepare(src)
    return src, charsets, skipped


def _run(src: Path, dest: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return anonymise_folder(src, dest, AnonymiseOptions(trial_id="T", site_id="S", verify=False, workers=1))


def test_no_planted_identifier_leaves_the_anonymiser(corpus, tmp_path):
    src, charsets, skipped = corpus
    assert len(charsets) >= 100, skipped  # the corpus is pydicom's test data, not a handful
    report = _run(src, tmp_path / "out")
    leaks, blocked, unusual = {}, {}, {}
    for f in report.files:
        if f.status == "failed":
            assert f.reason and f.reason.strip(), f.source  # blocked with a named reason
            (blocked if charsets.get(f.source, "") in PLAIN else unusual)[f.source] = f.reason
            continue
        found = _leaks((tmp_path / "out" / f.output).read_bytes(), charsets[f.source])
        if found:
            leaks[f.source] = found
    assert leaks == {}
    # the character set samples are in the corpus: written without a leak, or refused with a reason
    assert len([n for n, c in charsets.items() if c not in PLAIN]) >= 10
    written = sum(f.status in ("written", "written-version", "identical") for f in report.files)
    assert written + len(blocked) + len(unusual) == len(charsets)
    assert written >= 0.8 * len(charsets), (blocked, unusual)


def test_the_verifier_fails_every_file_when_cleaning_is_disabled(corpus, tmp_path, monkeypatch):
    """Free-text cleaning switched off (the scrubber finds nothing): every output that still
    holds a planted identifier must fail verification."""
    from verifier import VerifyOptions, verify_folder
    src, charsets, _ = corpus
    monkeypatch.setattr(spellings.Scrubber, "search", lambda self, text: False)
    monkeypatch.setattr(spellings.Scrubber, "sub", lambda self, text: text)
    monkeypatch.setattr(spellings.Scrubber, "cleaned", lambda self, text: text)
    spellings.scrubber.cache_clear()  # scrubbers (and what they remember) from earlier tests
    report = _run(src, tmp_path / "out")
    leaking = {f.output for f in report.files
               if f.output and _leaks((tmp_path / "out" / f.output).read_bytes(), charsets[f.source])}
    assert len(leaking) >= 0.5 * len(charsets)  # the control is real: disabling the step leaks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = verify_folder(tmp_path / "out", VerifyOptions(against=src, linkage_db=site.default_linkage_db(),
                                                               trial="T", workers=1))
    by_path = {r.path: r for r in result.files}
    missed = sorted(p for p in leaking if by_path[p].ok)
    assert missed == []
    for p in leaking:
        assert {f.check for f in by_path[p].findings} & {"identifiers", "raw bytes", "profile"}, p
