"""Identifier derivation and matching: found where they leak, silent on ordinary anonymised values."""
from __future__ import annotations

import pytest

from verifier.identifiers import IdentifierSet, Matcher, drop_manufacturer_words, from_element, manufacturer_tokens


def _values(idents):
    return sorted(i.value for i in idents)


def test_person_name_parts_and_affixes():
    ids = from_element("PatientName", "PN", ["Quixtable^Ann^Oriel^Dr^Jr"], "source")
    assert _values(ids) == ["Ann", "Oriel", "Quixtable"]
    assert {i.kind for i in ids} == {"the patient's family name", "the patient's given name", "the patient's middle name"}


def test_institution_words_drop_stop_words_and_manufacturer_words():
    ids = from_element("InstitutionName", "LO", ["St Aldhelm Royal Infirmary Siemens Wing"], "source")
    assert _values(ids) == ["Aldhelm", "Siemens"]
    kept = drop_manufacturer_words(ids, manufacturer_tokens(["SIEMENS", "SOMATOM Force"]))
    assert _values(kept) == ["Aldhelm"]


def test_birth_date_forms_and_short_ids_are_skipped():
    [birth] = from_element("PatientBirthDate", "DA", ["19580317"], "source")
    assert (birth.mode, birth.value) == ("date", "19580317")
    assert [i for _, i in Matcher([birth]).find(b"dob 1958-03-17.")] == [birth]
    assert from_element("PatientID", "LO", ["123"], "source") == []      # too short to search safely
    assert from_element("StudyDate", "DA", ["19000101"], "source") == []  # a dummy value


def _matcher(*pairs):
    ids = []
    for kw, vr, value in pairs:
        ids += from_element(kw, vr, [value], "source")
    return Matcher(IdentifierSet(ids).identifiers)


@pytest.mark.parametrize("text", [
    b"PTV_High", b"Bladder", b"ANONYMISED", b"Annotation", b"Synthetic Systems", b"CTV_Annex",
    b"2.25.1195803179991", b"119580317", b"hosp4839201", b"ROI Ann2",
])
def test_no_false_positive_on_ordinary_values(text):
    m = _matcher(("PatientName", "PN", "Smith^Ann"), ("PatientBirthDate", "DA", "19580317"),
                 ("PatientID", "LO", "HOSP483920"))
    assert list(m.find(text)) == []


@pytest.mark.parametrize("text,kind", [
    (b"PTV_Smith", "the patient's family name"),          # underscore separates words
    (b"for ann.", "the patient's given name"),            # names match case-insensitively
    (b"SPSHOSP483920", "the patient ID"),                  # IDs match inside longer codes
    (b"born 17/03/1958", "the patient's birth date"),
    (b"1.2.3.19580317.4", "the patient's birth date"),     # a date embedded in an original-style UID
])
def test_identifier_found(text, kind):
    m = _matcher(("PatientName", "PN", "Smith^Ann"), ("PatientBirthDate", "DA", "19580317"),
                 ("PatientID", "LO", "HOSP483920"))
    assert kind in {i.kind for _, i in m.find(text)}


def test_non_ascii_name_in_utf8_and_latin1():
    m = _matcher(("PatientName", "PN", "Müller^Zoë"))
    assert [i.value for _, i in m.find("Herr Müller".encode("utf-8"))] == ["Müller"]
    assert [i.value for _, i in m.find("Herr Müller".encode("latin-1"))] == ["Müller"]


def test_options_suppress_categories():
    ids = IdentifierSet(from_element("InstitutionName", "LO", ["Aldhelm"], "source")
                        + from_element("StationName", "SH", ["CT-ALDHELM-7"], "source")
                        + from_element("StudyDate", "DA", ["20240611"], "source"))
    # the institution word is found alone and inside the station name
    assert [i.category for _, i in ids.matcher([]).find(b"Aldhelm CT-ALDHELM-7 20240611")] == \
        ["institution", "device", "institution", "date"]
    assert [i.category for _, i in ids.matcher(["113112", "113106"]).find(b"Aldhelm CT-ALDHELM-7 20240611")] == ["device"]
