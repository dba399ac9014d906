"""Every spelling of an original identifier is found, in every encoding; ordinary values are not flagged."""
from __future__ import annotations

import csv
from importlib.resources import files

import pytest

from verifier.identifiers import IdentifierSet, Matcher, from_element
from verifier.matcher import BASE_ENCODINGS
from verifier.spellings import date_spellings, spellings


def _m(*pairs, encodings=()):
    ids = []
    for kw, vr, value in pairs:
        ids += from_element(kw, vr, [value], "source")
    return Matcher(IdentifierSet(ids).identifiers, encodings)


def _kinds(m, data: bytes) -> set[str]:
    return {i.kind for _, i in m.find(data)}


BIRTH = ("PatientBirthDate", "DA", "19521104")
STUDY = ("StudyDate", "DA", "19600101")


@pytest.mark.parametrize("text", [
    "born 04/11/1952", "born 11/04/1952", "dob 4/11/1952", "1952-11-04", "1952.11.04", "04.11.1952",
    "4 Nov 1952", "4 November 1952", "November 4, 1952", "Nov 4 1952", "04-NOV-1952", "04-Nov-52",
    "04NOV1952", "4th November 1952", "04/11/52", "11/04/52", "(04 11 1952)", "04111952", "11041952",
    "1952:11:04",
])
def test_birth_date_in_another_format(text):
    assert _kinds(_m(BIRTH), text.encode()) == {"the patient's birth date"}


@pytest.mark.parametrize("text", ["1 Jan 1960", "January 1, 1960", "01-JAN-1960", "1960-01-01", "01/01/60",
                                  "1.1.1960", "jan 1st, 1960"])
def test_study_date_in_another_format(text):
    assert _kinds(_m(STUDY), text.encode()) == {"an original date"}


@pytest.mark.parametrize("text", [
    b"12.19521104", b"19521104.5", b"-4.11195200", b"04/11/19520", b"104/11/1952", b"v1.04/11/52x",
    b"2.25.119521104", b"04/11/1953", b"1952-11-05", b"4 Nov 1953", b"PTV 04/11", b"20521104",
    b"0.04111952\\1.5",
])
def test_dates_are_bounded_tokens(text):
    """Inside a longer number, a decimal number (contour data) or a UID a date is not a date."""
    assert list(_m(BIRTH).find(text)) == []


def test_shifted_dates_are_not_the_original():
    m = _m(BIRTH, STUDY)
    assert list(m.find(b"19520618 1959-08-16 16/08/1959 Aug 16, 1959")) == []


@pytest.mark.parametrize("text", ["LI^NA", "Li Na", "Na Li", "NA, LI", "li-na", "Contoured for Na Li."])
def test_short_name_parts_joined(text):
    assert _kinds(_m(("PatientName", "PN", "Li^Na")), text.encode()) == {"the patient's name (short parts)"}


@pytest.mark.parametrize("text", [b"Li", b"NA", b"Na+ Li+ ions", b"LINAC", b"Lina", b"Li_2 Na", b"Catalina"])
def test_short_name_parts_are_never_searched_alone(text):
    assert list(_m(("PatientName", "PN", "Li^Na")).find(text)) == []


def test_short_parts_of_a_single_letter_name_are_not_derived_alone():
    assert [i.value for i in from_element("PatientName", "PN", ["Wu^Xiaoming"], "source")] == ["Xiaoming"]


@pytest.mark.parametrize("text,encoding", [
    ("MÜLLER", "latin-1"), ("MÜLLER", "utf-8"), ("müller", "utf-8"), ("Muller", "ascii"), ("MUELLER", "ascii"),
    ("MÜLLER", "utf-16-le"), ("Müller", "utf-16-be"),
])
def test_non_ascii_name_in_any_case_accented_or_not(text, encoding):
    assert _kinds(_m(("PatientName", "PN", "Müller^Jürgen")), text.encode(encoding)) == {"the patient's family name"}


@pytest.mark.parametrize("name,text,encoding", [
    ("Иванов^Пётр", "ИВАНОВ", "utf-8"),
    ("Иванов^Пётр", "иванов", "utf-8"),
    ("Иванов^Пётр", "ИВАНОВ", "iso8859-5"),     # ISO_IR 144, when declared
    ("山田^太郎", "山田", "utf-8"),               # two CJK characters make a name part
    ("山田^太郎", "太郎", "utf-16-le"),
    ("Ωμέγα^Άλφα", "ΩΜΈΓΑ", "iso8859-7"),
])
def test_non_latin_names(name, text, encoding):
    m = _m(("PatientName", "PN", name), encodings=["iso8859-5", "iso8859-7"])
    assert _kinds(m, text.encode(encoding)) & {"the patient's family name", "the patient's given name"}


def test_cjk_name_in_iso_2022_when_declared():
    m = _m(("PatientName", "PN", "山田^太郎"), encodings=["iso2022_jp"])
    assert _kinds(m, "ヤマダ^タロウ=山田^太郎".encode("iso2022_jp")) == {"the patient's family name",
                                                                    "the patient's given name"}


@pytest.mark.parametrize("text", ["OBRIEN", "O'BRIEN", "O Brien", "o’brien", "Dr OBrien"])
def test_punctuation_free_name(text):
    assert "the patient's family name" in _kinds(_m(("PatientName", "PN", "O'Brien^Seán")), text.encode())


def test_names_in_any_order():
    m = _m(("PatientName", "PN", "Quixtable^Marguerite"))
    assert _kinds(m, b"MARGUERITE QUIXTABLE") == {"the patient's family name", "the patient's given name"}


@pytest.mark.parametrize("text", [
    b"00123-45", b"0012345", b"12345", b"MRN12345", b"RT_0012345_plan", b"00000012345", b"123-45", b"00123 45",
    b"00123/45",
])
def test_patient_id_with_zeros_or_separators(text):
    assert _kinds(_m(("PatientID", "LO", "00123-45")), text) == {"the patient ID"}


@pytest.mark.parametrize("text", [b"112345", b"123456", b"1.12345", b"12345.5", b"2.25.9912345"])
def test_patient_id_not_inside_longer_numbers(text):
    assert list(_m(("PatientID", "LO", "00123-45")).find(text)) == []


def test_a_short_core_is_not_searched_alone():
    """00002024 without its zeros would be any year."""
    m = _m(("PatientID", "LO", "00002024"))
    assert list(m.find(b"plan 2024")) == [] and _kinds(m, b"00002024") == {"the patient ID"}


def test_digit_run_of_an_alphanumeric_id():
    m = _m(("PatientID", "LO", "HOSP483920"))
    assert _kinds(m, b"MRN 483920") == {"the patient ID"}
    assert _kinds(m, b"hosp-483920") == {"the patient ID"}
    assert list(m.find(b"12.483920\\4")) == []


def test_every_encoding_of_every_spelling_is_a_pattern():
    m = _m(BIRTH)
    n = len(date_spellings("19521104"))
    assert n > 60
    # ASCII spellings: one pattern for UTF-8/Latin-1, one per UTF-16 order
    assert m.patterns == 3 * n
    assert set(BASE_ENCODINGS) <= set(m.encodings)


def test_one_matcher_for_many_patients():
    pairs = []
    for k in range(50):
        pairs += [("PatientName", "PN", f"Family{k:02d}x^Given{k:02d}y"), ("PatientID", "LO", f"ID{100000 + k}"),
                  ("PatientBirthDate", "DA", f"19{40 + k}0{1 + k % 9}1{k % 10}")]
    m = _m(*pairs)
    text = b"note: family37x, given12y; ID 100041; born 1" + b"9.0" * 3 + b" 1988-04-18"
    assert {i.value for _, i in m.find(text)} == {"Family37x", "Given12y", "ID100041", "19880418"}


def test_tolerant_search_at_binary_neighbours():
    """A value touching a tag's bytes (here group 0x0070: 'p\\x00') may still be a hit inside its element."""
    m = _m(("PatientName", "PN", "Quixtable^Marguerite"))
    assert list(m.find(b"\x00Quixtablep\x00\x01\x00")) == []
    assert m.may_match(b"\x00Quixtablep\x00\x01\x00")
    assert not m.may_match(b"QuixtableParade")


def _tg263_names():
    text = files("validator").joinpath("data/tg263.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return [r["name"] for r in rows if r["name"]]


def test_tg263_names_are_never_flagged_as_names():
    names = _tg263_names()
    assert len(names) > 500
    m = _m(("PatientName", "PN", "Li^Na"), ("PatientName", "PN", "Wu^An^Do"), ("PatientName", "PN", "Ng^Le"),
           ("PatientName", "PN", "Ho^Yu"), ("OperatorsName", "PN", "Le^Ly"))
    text = "\n".join(names).encode()
    assert list(m.find(text)) == []


def test_spellings_of_an_id_are_distinct():
    texts = [t for t, _ in spellings("id", "00123-45")]
    assert len(texts) == len(set(texts)) and "12345" in texts
