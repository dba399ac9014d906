"""The verifier's data dictionary (verifier/data/dicom_dictionary.json) answers as pydicom's does.

The byte reader names and types elements through it, the pydicom path through pydicom: the two
paths agree only while the data file is pydicom's table (regenerate with
``python tools/generate_dicom_dictionary.py`` after a pydicom upgrade).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pydicom
from pydicom import datadict
from pydicom._dicom_dict import DicomDictionary, RepeatersDictionary

from verifier import dictionary

ROOT = Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("generate_dicom_dictionary", ROOT / "tools" / "generate_dicom_dictionary.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_file_is_the_installed_pydicom_table():
    stored = json.loads((ROOT / "verifier" / "data" / "dicom_dictionary.json").read_text(encoding="utf-8"))
    assert stored == _generator().build()
    assert stored["source"].startswith(f"pydicom {pydicom.__version__} ")
    assert len(stored["tags"]) == len(DicomDictionary) and len(stored["repeaters"]) == len(RepeatersDictionary)


def _sample_tags() -> list[int]:
    """Every dictionary tag, every repeating group expanded (60xx, 50xx, 002031xx, ...), group lengths,
    private tags, neighbours of known tags and tags no dictionary has."""
    tags = set(DicomDictionary)
    for mask in RepeatersDictionary:
        for digit in "0123456789ABCDEF":
            tags.add(int(mask.replace("x", digit), 16))
            tags.add(int(mask.replace("x", digit, 1).replace("x", "E"), 16))
    for tag in list(DicomDictionary)[::7]:
        tags |= {tag + 1, tag - 1, tag | 0x10000, tag & 0xFFFF0000}
    tags |= {0x00090010, 0x00291010, 0x60010010, 0x7FE10010, 0xFFFFFFFF, 0x00000000, 0x12340000, 0x0008FFFF}
    return sorted(t for t in tags if 0 <= t <= 0xFFFFFFFF)


def test_lookups_answer_as_pydicom():
    tags = _sample_tags()
    assert len(tags) > 9000
    for tag in tags:
        assert dictionary.keyword_for_tag(tag) == datadict.keyword_for_tag(tag), hex(tag)
        assert dictionary.has_tag(tag) == datadict.dictionary_has_tag(tag), hex(tag)
        assert dictionary.repeater_has_tag(tag) == datadict.repeater_has_tag(tag), hex(tag)
        try:
            expected = datadict.dictionary_VR(tag)
        except KeyError:
            expected = KeyError
        try:
            got = dictionary.dictionary_vr(tag)
        except KeyError:
            got = KeyError
        assert got == expected, hex(tag)


def test_keyword_to_tag_answers_as_pydicom():
    keywords = {entry[4] for entry in DicomDictionary.values()} | {"", "NoSuchKeyword", "patientname"}
    for keyword in keywords:
        assert dictionary.tag_for_keyword(keyword) == datadict.tag_for_keyword(keyword), keyword
    assert dictionary.tag_for_keyword("ReferencedSOPInstanceUID") == 0x00081155
    assert dictionary.keyword_for_tag(0x60220010) == "OverlayRows" and dictionary.dictionary_vr(0x60220010) == "US"
