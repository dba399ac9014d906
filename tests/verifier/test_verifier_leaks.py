"""Each kind of leak, planted alone in an otherwise clean set, is caught and named by its tag path."""
from __future__ import annotations

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from verifier import VerifyOptions, verify_folder
from verifier_cleanset import new_uid


def _edit(path, change):
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(path, enforce_file_format=True)


def _verify(clean, source_study):
    report = verify_folder(clean.root, VerifyOptions(against=source_study.root))
    failed = [f for f in report.files if not f.ok]
    return report, failed


def _only(clean, source_study, modality):
    """The set fails, through exactly one file (the edited one): return its findings."""
    report, failed = _verify(clean, source_study)
    assert not report.ok
    assert [f.path for f in failed] == [clean.rel(modality)]
    return failed[0].findings


def _private_name(ds):
    ds.private_block(0x0013, "SITE NOTES 1", create=True).add_new(0x10, "LO", "note for Quixtable")


def test_name_in_a_private_tag(clean, source_study):
    _edit(clean.path("CT"), _private_name)
    found = {(x.check, x.tag_path, x.message) for x in _only(clean, source_study, "CT")}
    assert ("identifiers", "(0013,1010)", "contains the patient's family name (from source)") in found
    assert ("private", "(0013,1010)", "private element remains") in found
    assert ("private", "(0013,0010)", "private creator remains") in found


def test_name_in_a_nested_sequence_staff(clean, source_study):
    _edit(clean.path("RTSTRUCT"), lambda ds: setattr(ds.RTROIObservationsSequence[0], "ROIInterpreter", "Falconbridge^L"))
    f, z = sorted(_only(clean, source_study, "RTSTRUCT"), key=lambda x: x.check)
    assert (f.check, f.tag_path, f.keyword_path) == (
        "identifiers", "(3006,0080)[0]/(3006,00A6)", "RTROIObservationsSequence[0].ROIInterpreter")
    assert f.message == "contains a person's name (from source)"
    # ROI Interpreter is Z in Table E.1-1: a value there is also a profile finding
    assert (z.check, z.tag_path) == ("profile", "(3006,0080)[0]/(3006,00A6)")
    assert z.message == "has a value, but the profile empties this element (Z)"


def test_name_in_a_nested_sequence_request(clean, source_study):
    def plant(ds):
        req = Dataset()
        req.RequestedProcedureDescription = "CT for Marguerite"
        ds.RequestAttributesSequence = Sequence([req])
    _edit(clean.path("CT"), plant)
    [f] = _only(clean, source_study, "CT")
    assert f.keyword_path == "RequestAttributesSequence[0].RequestedProcedureDescription"
    assert f.tag_path == "(0040,0275)[0]/(0032,1060)" and "given name" in f.message


@pytest.mark.parametrize("modality,plant,path", [
    ("CT", lambda ds: setattr(ds, "ImageComments", "re-scan, QUIXTABLE moved"), "ImageComments"),
    ("RTSTRUCT", lambda ds: setattr(ds.StructureSetROISequence[1], "ROIName", "PTV_Quixtable"),
     "StructureSetROISequence[1].ROIName"),
    ("RTSTRUCT", lambda ds: setattr(ds, "StructureSetLabel", "Wexcombe"), "StructureSetLabel"),
    ("RTPLAN", lambda ds: setattr(ds, "RTPlanLabel", "HOSP483920 v2"), "RTPlanLabel"),
])
def test_identifier_in_free_text(clean, source_study, modality, plant, path):
    _edit(clean.path(modality), plant)
    [f] = _only(clean, source_study, modality)
    assert (f.check, f.keyword_path) == ("identifiers", path)


def test_original_uid_in_a_reference(clean, source_study):
    original = source_study.uids["ct2"]
    def plant(ds):
        ds.ROIContourSequence[0].ContourSequence[1].ContourImageSequence[0].ReferencedSOPInstanceUID = original
    _edit(clean.path("RTSTRUCT"), plant)
    findings = _only(clean, source_study, "RTSTRUCT")
    path = "ROIContourSequence[0].ContourSequence[1].ContourImageSequence[0].ReferencedSOPInstanceUID"
    checks = {(x.check, x.keyword_path) for x in findings}
    assert ("uids", path) in checks
    assert ("references", path) in checks      # and it no longer resolves within the set
    uid = next(x for x in findings if x.check == "uids")
    assert uid.tag_path == "(3006,0039)[0]/(3006,0040)[1]/(3006,0016)[0]/(0008,1155)"
    assert original not in uid.message


def test_an_x_element_present(clean, source_study):
    _edit(clean.path("RTDOSE"), lambda ds: setattr(ds, "PatientAge", "066Y"))
    [f] = _only(clean, source_study, "RTDOSE")
    assert (f.check, f.tag_path, f.keyword_path) == ("profile", "(0010,1010)", "PatientAge")


def test_x_element_allowed_when_the_file_declares_the_option(clean, source_study):
    def plant(ds):
        ds.PatientAge = "066Y"
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator = "113108", "DCM"
        item.CodeMeaning = "Retain Patient Characteristics Option"
        ds.DeidentificationMethodCodeSequence.append(item)
    _edit(clean.path("RTDOSE"), plant)
    assert _verify(clean, source_study)[0].ok


def test_x_z_sequence_with_items(clean, source_study):
    def plant(ds):
        ref = Dataset()
        ref.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.3.1"
        ref.ReferencedSOPInstanceUID = "2.25.1234"
        ds.ReferencedStudySequence = Sequence([ref])
    _edit(clean.path("CT"), plant)
    [f] = _only(clean, source_study, "CT")
    assert (f.check, f.keyword_path) == ("profile", "ReferencedStudySequence") and "X/Z" in f.message


def test_name_only_in_the_preamble_is_found_by_the_raw_scan(clean, source_study):
    path = clean.path("CT")
    data = bytearray(path.read_bytes())
    data[10:10 + len(b"Quixtable Marguerite")] = b"Quixtable Marguerite"
    path.write_bytes(bytes(data))
    findings = _only(clean, source_study, "CT")
    assert {f.check for f in findings} == {"raw bytes"}
    assert sorted(f.offset for f in findings) == [10, 20]
    assert all(f.tag_path == "" and "preamble" in f.message for f in findings)


def test_original_uid_after_the_pixel_data_is_found_by_the_raw_scan(clean, source_study):
    path = clean.path("CT")
    original = source_study.uids["study"].encode()
    # a trailing element the header-only parse never reaches: (FFFC,FFFC) Data Set Trailing Padding
    pad = b"\xfc\xff\xfc\xffOB\x00\x00" + len(original).to_bytes(4, "little") + original
    path.write_bytes(path.read_bytes() + pad)
    [f] = _only(clean, source_study, "CT")
    assert f.check == "raw bytes" and "original UID" in f.message and f.offset > 128


@pytest.mark.parametrize("modality,plant,path", [
    ("RTDOSE", lambda ds: setattr(ds.ReferencedRTPlanSequence[0], "ReferencedSOPInstanceUID", new_uid("elsewhere")),
     "ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID"),
    ("RTPLAN", lambda ds: setattr(ds.ReferencedStructureSetSequence[0], "ReferencedSOPInstanceUID", new_uid("x")),
     "ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID"),
    ("RTSTRUCT", lambda ds: setattr(ds.ReferencedFrameOfReferenceSequence[0], "FrameOfReferenceUID", new_uid("f")),
     "ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID"),
    ("RTSTRUCT", lambda ds: setattr(ds.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0]
                                    .RTReferencedSeriesSequence[0].ContourImageSequence[3],
                                    "ReferencedSOPInstanceUID", new_uid("i")),
     "ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0]"
     ".ContourImageSequence[3].ReferencedSOPInstanceUID"),
])
def test_dangling_rt_reference(clean, source_study, modality, plant, path):
    _edit(clean.path(modality), plant)
    [f] = _only(clean, source_study, modality)
    assert (f.check, f.keyword_path) == ("references", path)


def test_missing_referenced_file_fails_the_referencing_file(clean, source_study):
    clean.path("RTPLAN").unlink()
    [f] = _only(clean, source_study, "RTDOSE")
    assert f.check == "references" and "RT plan" in f.message


def test_identity_removed_not_yes(clean, source_study):
    _edit(clean.path("CT"), lambda ds: setattr(ds, "PatientIdentityRemoved", "NO"))
    [f] = _only(clean, source_study, "CT")
    assert (f.check, f.tag_path) == ("record", "(0012,0062)")


def test_basic_profile_code_missing(clean, source_study):
    def plant(ds):
        ds.DeidentificationMethodCodeSequence = Sequence(
            [i for i in ds.DeidentificationMethodCodeSequence if i.CodeValue != "113100"])
    _edit(clean.path("CT"), plant)
    [f] = _only(clean, source_study, "CT")
    assert (f.check, f.tag_path) == ("record", "(0012,0064)")


def test_non_dicom_file_with_a_name_is_caught(clean, source_study):
    (clean.root / "report.json").write_text('{"subject": "TRIAL-S001", "ok": true}')
    assert _verify(clean, source_study)[0].ok
    (clean.root / "report.json").write_text('{"note": "from Pennywhistle", "ok": true}')
    report, failed = _verify(clean, source_study)
    [f] = failed
    assert f.path == "report.json" and f.kind == "other"
    [finding] = f.findings
    assert finding.check == "raw bytes" and finding.offset == 15 and "person's name" in finding.message
    assert "preamble" not in finding.message


def test_damaged_output_file_fails_alone(clean, source_study):
    path = clean.path("RTPLAN")
    path.write_bytes(path.read_bytes()[:400])
    report, failed = _verify(clean, source_study)
    assert clean.rel("RTPLAN") in {f.path for f in failed}
    assert len(report.files) == 9


def _resave_as(path, transfer_syntax, change=None):
    ds = pydicom.dcmread(path)
    if change:
        change(ds)
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.save_as(path, implicit_vr=transfer_syntax == pydicom.uid.ImplicitVRLittleEndian, little_endian=True,
               enforce_file_format=True)


def test_implicit_vr_and_deflated_outputs_are_checked_too(clean, source_study):
    implicit, deflated = pydicom.uid.ImplicitVRLittleEndian, pydicom.uid.DeflatedExplicitVRLittleEndian
    for path in clean.root.rglob("*.dcm"):
        _resave_as(path, implicit)
    _resave_as(clean.path("RTPLAN"), deflated)
    assert _verify(clean, source_study)[0].ok
    # a name touching the next item's binary tag bytes (implicit VR, even length: no padding)
    _resave_as(clean.path("RTSTRUCT"), implicit,
               lambda ds: setattr(ds.RTROIObservationsSequence[1], "ROIInterpreter", "Falconbridge"))
    _resave_as(clean.path("RTPLAN"), deflated, lambda ds: setattr(ds, "RTPlanLabel", "Quixtable"))
    report, failed = _verify(clean, source_study)
    found = {(f.path, x.keyword_path) for f in failed for x in f.findings}
    assert found == {(clean.rel("RTSTRUCT"), "RTROIObservationsSequence[1].ROIInterpreter"),
                     (clean.rel("RTPLAN"), "RTPlanLabel")}


def test_progress_is_reported(clean, source_study):
    calls = []
    verify_folder(clean.root, VerifyOptions(), progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (9, 9)


def test_a_value_left_where_the_profile_empties_is_caught_even_if_not_an_identifier(clean, source_study):
    """Z (zero-length) elements: any value is a finding, whether or not it matches an
    identifier of the subject (an accession number the originals never held, here)."""
    _edit(clean.path("CT"), lambda ds: setattr(ds, "AccessionNumber", "Q99ZZ7"))
    [f] = _only(clean, source_study, "CT")
    assert (f.check, f.tag_path, f.keyword_path) == ("profile", "(0008,0050)", "AccessionNumber")
    assert f.message == "has a value, but the profile empties this element (Z)"
