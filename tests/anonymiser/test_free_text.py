"""Free text leaves without any spelling of an identifier (issue 14, item 4), on real DICOM.

Each case plants an identifier written another way in free-text elements of one of pydicom's
files, anonymises it on both walks (byte path and Dataset path: the same bytes), and asserts
that the identifier's bytes are absent from the output in every encoding the file could use.
"""
from __future__ import annotations

import io
import shutil
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from anonymiser import AnonymiseOptions, anonymise_folder, single
from sdu import site

OPTIONS = AnonymiseOptions(trial_id="T", site_id="S")


def _anonymise(ds: pydicom.Dataset, tmp: Path) -> tuple[bytes, object]:
    """Both walks on one file: their outputs must be the same bytes."""
    src = tmp / "src"
    src.mkdir(exist_ok=True)
    ds.save_as(src / "in.dcm", enforce_file_format=True)
    outputs = []
    for byte_path in (True, False):
        settings = single.Settings(OPTIONS, site.load_site_key(None), str(src), str(tmp / f"out-{byte_path}"), {}, {},
                                   byte_path=byte_path)
        outcome = single.anonymise_file(str(src / "in.dcm"), settings)
        assert outcome.status == "written", outcome.reason
        outputs.append(((tmp / f"out-{byte_path}" / outcome.output).read_bytes(), outcome))
    assert outputs[0][0] == outputs[1][0]
    assert outputs[0][1].actions == outputs[1][1].actions
    return outputs[0]


def _absent(data: bytes, *needles: str, codecs=("utf_8", "latin_1")) -> None:
    low = data.lower()
    for needle in needles:
        for codec in codecs:
            for form in {needle, needle.lower(), needle.upper()}:
                try:
                    encoded = form.encode(codec)
                except UnicodeEncodeError:
                    continue
                assert encoded not in data and encoded.lower() not in low, f"{needle!r} ({codec}) in the output"


def _ct(**values) -> pydicom.Dataset:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def test_dates_written_other_ways(tmp_path):
    ds = _ct(PatientBirthDate="19521104", StudyDate="20240315",
             StudyDescription="born 04/11/1952", SeriesDescription="11/04/52 and 4th Nov 1952",
             ImageComments="Study of 15 March 2024, 2024-03-15, 15.03.2024; dob 1952-11-04, November 4, 1952",
             ProtocolName="ct 3/15/24")
    out, _ = _anonymise(ds, tmp_path)
    _absent(out, "04/11/1952", "11/04/52", "4th Nov 1952", "15 March 2024", "2024-03-15", "15.03.2024",
            "1952-11-04", "November 4, 1952", "3/15/24", "19521104")
    assert b"born XXXX" in out  # the rest of the text stays


def test_short_name_parts_are_whole_words(tmp_path):
    ds = _ct(PatientName="Li^Na", StudyDescription="Li Na chest", SeriesDescription="LINAC NA-LI")
    out, _ = _anonymise(ds, tmp_path)
    read = pydicom.dcmread(io.BytesIO(out))
    assert read.StudyDescription == "XXXX XXXX chest"
    assert read.SeriesDescription == "LINAC XXXX-XXXX"  # 'LINAC' is not 'Li' nor 'Na'


@pytest.mark.parametrize("charset, name, written, forms", [
    ("ISO_IR 100", "Müller^Jürgen", "MÜLLER JURGEN, Mueller", ["MÜLLER", "Müller", "JURGEN", "Mueller"]),
    ("ISO_IR 192", "Иванов^Пётр", "ИВАНОВ ПЁТР", ["ИВАНОВ", "ПЁТР", "Иванов"]),
    ("ISO_IR 192", "Wang^XiaoDong=王^小東", "患者 王小東 CT", ["王", "小東"]),
    ("ISO_IR 144", "Иванов^Пётр", "ИВАНОВ Пётр", ["ИВАНОВ", "Пётр"]),
])
def test_non_ascii_names_in_any_case(tmp_path, charset, name, written, forms):
    ds = _ct(SpecificCharacterSet=charset, PatientName=name, StudyDescription=written, ImageComments=written.lower())
    out, _ = _anonymise(ds, tmp_path)
    codecs = pydicom.charset.convert_encodings([charset]) + ["utf_8", "latin_1"]
    for form in forms:
        for codec in codecs:
            try:
                assert form.encode(codec) not in out and form.lower().encode(codec) not in out, (form, codec)
            except UnicodeEncodeError:
                pass


def test_punctuation_free_and_reordered_names(tmp_path):
    ds = _ct(PatientName="O'Brien^Marisol-Kestrel", StudyDescription="OBRIEN MARISOLKESTREL",
             SeriesDescription="Kestrel O Brien", ImageComments="Marisol Kestrel O-Brien, kestrel")
    out, _ = _anonymise(ds, tmp_path)
    _absent(out, "OBRIEN", "Brien", "MARISOLKESTREL", "Kestrel", "Marisol")


def _without_uids(data: bytes) -> bytes:
    """The file's bytes less its UID values: a keyed replacement UID is a long random number that
    may hold any short digit run by chance (a digit ID inside one is not a leak)."""
    read = pydicom.dcmread(io.BytesIO(data))
    uids = {str(v) for e in [*read.file_meta.iterall(), *read.iterall()] if e.VR == "UI"
            for v in (e.value if e.VM > 1 else [e.value]) if v}
    for uid in sorted(uids, key=len, reverse=True):
        data = data.replace(uid.encode(), b"")
    return data


def test_patient_ids_with_zeros_and_separators(tmp_path):
    ds = _ct(PatientID="0004711", OtherPatientIDs="AB-98765", AccessionNumber="A77001",
             StudyDescription="pid 4711", SeriesDescription="MRN00004711X ab98765",
             ImageComments="ref 000-4711 / AB 98765 / acc a77001")
    out, _ = _anonymise(ds, tmp_path)
    _absent(_without_uids(out), "4711", "98765", "77001")


def test_staff_names_only_in_free_text(tmp_path):
    ds = _ct(StudyDescription="Contoured by Dr Fairweather", SeriesDescription="Planned by J. Quillfeather",
             ImageComments="Checked: Prof. Anneliese Van Houten; John Smith reviewed")
    out, _ = _anonymise(ds, tmp_path)
    _absent(out, "Fairweather", "Quillfeather", "Anneliese", "Houten", "Smith")
    assert b"Contoured by XXXX" in out


def test_patient_comments_are_removed_descriptors_stay(tmp_path):
    ds = _ct(PatientComments="lives alone, daughter visits", AdditionalPatientHistory="smoker since 1970",
             MedicalAlerts="pacemaker", StudyDescription="Chest routine", SeriesDescription="Lung 1mm")
    out, outcome = _anonymise(ds, tmp_path)
    read = pydicom.dcmread(io.BytesIO(out))
    assert "PatientComments" not in read and "AdditionalPatientHistory" not in read and "MedicalAlerts" not in read
    _absent(out, "daughter", "smoker", "pacemaker")
    assert read.StudyDescription == "Chest routine" and read.SeriesDescription == "Lung 1mm"


def test_names_of_the_batch_are_scrubbed_in_every_file(tmp_path):
    """An ROI interpreter named in one file's RTSTRUCT, written out in a CT slice's free text."""
    src = tmp_path / "src"
    src.mkdir()
    rs = _rtstruct()
    rs.RTROIObservationsSequence[0].ROIInterpreter = "Thistlewood^Oriel"
    rs.save_as(src / "rs.dcm", enforce_file_format=True)
    ct = _ct(ImageComments="contours checked with thistlewood", SeriesDescription="Oriel's series")
    ct.save_as(src / "ct.dcm", enforce_file_format=True)
    report = anonymise_folder(src, tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S", verify=False))
    assert report.failed == 0, [f.reason for f in report.files]
    for f in (tmp_path / "out").rglob("*.dcm"):
        _absent(f.read_bytes(), "Thistlewood", "Oriel")


def test_name_lists_do_not_touch_anatomy():
    """Surnames that are words (Brain, Heart, Long, Bladder) stay; the given-name rule needs both lists."""
    from anonymiser.spellings import Terms, scrubber
    s = scrubber(Terms())
    for text in ("Brain", "Heart Long", "Bladder Wall", "DR Chest", "MR Brain", "Lung Left", "Mark 1"):
        assert s.sub(text) == text
    assert s.sub("reviewed by Mary Poppins") == "reviewed by XXXX"
    assert s.sub("John Smith") == "XXXX XXXX"


def _rtstruct() -> pydicom.Dataset:
    """pydicom's RTSTRUCT (stored without a preamble), with its file meta for writing."""
    ds = pydicom.dcmread(get_testdata_file("rtstruct.dcm"), force=True)
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ds.file_meta.get("TransferSyntaxUID") or pydicom.uid.ImplicitVRLittleEndian
    return ds


def _plant_roi_interpreter(ds: Dataset, name: str) -> None:
    item = Dataset()
    item.ObservationNumber = 99
    item.ReferencedROINumber = 1
    item.ROIInterpreter = name
    ds.RTROIObservationsSequence = Sequence([*ds.get("RTROIObservationsSequence", []), item])


def test_person_name_anywhere_in_the_file(tmp_path):
    ds = _rtstruct()
    _plant_roi_interpreter(ds, "Ravenscroft^Ilsabet")
    ds.StructureSetLabel = "ravenscroft"
    ds.StructureSetROISequence[0].ROIName = "GTV Ilsabet"
    src = tmp_path / "src"
    src.mkdir()
    ds.save_as(src / "rs.dcm", enforce_file_format=True)
    report = anonymise_folder(src, tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S", verify=False))
    assert report.failed == 0
    (out,) = (tmp_path / "out").rglob("*.dcm")
    _absent(out.read_bytes(), "Ravenscroft", "Ilsabet")
    assert pydicom.dcmread(out).StructureSetROISequence[0].ROIName == "GTV XXXX"


def test_the_batch_pre_pass_reads_names_at_any_depth(tmp_path):
    from anonymiser.batchterms import gather
    ds = _rtstruct()
    _plant_roi_interpreter(ds, "Ravenscroft^Ilsabet")
    ds.save_as(tmp_path / "rs.dcm", enforce_file_format=True)
    shutil.copy(get_testdata_file("CT_small.dcm"), tmp_path / "ct.dcm")
    names = gather([str(tmp_path / "rs.dcm"), str(tmp_path / "ct.dcm"), str(tmp_path / "missing.dcm")])
    assert "Ravenscroft^Ilsabet" in names
    assert str(pydicom.dcmread(tmp_path / "ct.dcm").PatientName) in names


def test_batch_names_in_any_spelling_and_at_no_cost_per_name():
    """The batch's names are looked up word by word: any case, accents, joined parts; the
    compiled pattern does not grow with the number of names in the batch."""
    from anonymiser.spellings import Terms, scrubber
    subject = Terms(("Doe^Jane",), ("12345",), ("19600101",))
    s = scrubber(subject, ("O'Brien^Müller-Lüdenscheidt", "Li^Na"))
    assert s.sub("OBRIEN o brien MUELLER-LUDENSCHEIDT Mullerludenscheidt LINAC li na Brienne") == \
        "XXXX XXXX XXXX XXXX-XXXX XXXX LINAC XXXX XXXX Brienne"
    many = tuple(f"Surname{chr(65 + i % 26)}{chr(97 + i // 26 % 26)}^Given" for i in range(2000))
    assert len(scrubber(subject, many).pattern.pattern) == len(scrubber(subject, ()).pattern.pattern)
    assert scrubber(subject, many).sub("seen by surnameBc") == "seen by XXXX"


def test_patient_text_tags_are_the_standards_text_rows():
    """Every tag removed as patient free text is a text element that Table E.1-1 removes in the
    basic profile (X) and would only clean under an option (C): removal is never less private."""
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    from anonymiser.patienttext import PATIENT_TEXT
    from sdu.standard import annex_e
    rows = annex_e.exact_rows()
    for keyword, tag in PATIENT_TEXT.items():
        assert tag_for_keyword(keyword) == tag and dictionary_VR(tag) in ("LO", "LT", "ST", "UT", "SH", "UC")
        assert rows[tag].action(frozenset()) == "X"
        assert rows[tag].action(frozenset({"cleanDescOpt"})) in ("C", "X")
