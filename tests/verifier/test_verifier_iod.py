"""The verifier's ``iod`` check: a public element the object's IOD does not define at its position,
an unknown public tag, or a wrong VR on the wire is a finding named by its tag path, on both of
the verifier's paths (the byte path declines, the pydicom path names it); a file that declares
non-IOD elements kept (De-identification Method) is not checked."""
from __future__ import annotations

import pydicom
from pydicom.dataelem import DataElement

from sdu.standard import iod
from verifier import VerifyOptions, verify_folder
from verifier import filecheck
from verifier.bytecheck import clean_result
from verifier.collect import gather

PLANTED = {
    "(0018,0015)": "not defined by this object's IOD at this position",      # General Series, not RT
    "(3006,0039)[0]/(3006,0026)": "not defined by this object's IOD at this position",  # ROI Name in a contour item
    "(3006,0006)": "written with VR UT, the data dictionary gives ST",
    "(0018,FFF0)": "unknown public tag (not in the data dictionary)",
}


def plant(ds) -> None:
    ds.add_new(0x00180015, "CS", "ZQXWOTHER")
    ds.ROIContourSequence[0].add_new(0x30060026, "LO", "ZQXW NESTED")
    ds[0x30060006] = DataElement(0x30060006, "UT", "ZQXW WRONG VR")
    ds.add_new(0x0018FFF0, "LO", "ZQXW UNKNOWN")


def _edit(path, change) -> None:
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(path, enforce_file_format=True)


def _iod_findings(result) -> dict[str, str]:
    return {f.tag_path: f.message for f in result.findings if f.check == "iod"}


def _both(path, orig):
    filecheck.BYTE_READER = False
    try:
        slow = filecheck.check_file(path, path.name, orig)[0]
    finally:
        filecheck.BYTE_READER = True
    return filecheck.check_file(path, path.name, orig)[0], slow


def test_clean_set_has_no_iod_finding(clean, source_study):
    report = verify_folder(clean.root, VerifyOptions(against=source_study.root))
    assert report.ok and "iod" in report.checks


def test_each_planted_kind_is_named_on_both_paths(clean, source_study):
    path = clean.path("RTSTRUCT")
    _edit(path, plant)
    orig = gather(source_study.root, None, None, 1)
    assert clean_result(path, "rs.dcm", orig) is None  # the byte path declines
    fast, slow = _both(path, orig)
    assert fast == slow
    assert _iod_findings(slow) == PLANTED
    report = verify_folder(clean.root, VerifyOptions(against=source_study.root))
    assert [f.path for f in report.files if not f.ok] == [clean.rel("RTSTRUCT")]


def test_a_file_that_declares_non_iod_elements_kept_is_not_checked(clean, source_study):
    path = clean.path("RTSTRUCT")

    def plant_and_declare(ds):
        plant(ds)
        ds.DeidentificationMethod = ["SDU test", iod.keep_declaration()]
    _edit(path, plant_and_declare)
    orig = gather(source_study.root, None, None, 1)
    fast, slow = _both(path, orig)
    assert fast == slow and not _iod_findings(slow)
    assert verify_folder(clean.root, VerifyOptions(against=source_study.root)).ok


def test_wrong_vr_in_an_implicit_file_cannot_exist_and_dictionary_multi_vrs_pass(clean, source_study):
    """Implicit VR: the VR is the dictionary's (``US or SS`` included); explicit ``SS`` for a
    ``US or SS`` element is one of the dictionary's VRs."""
    path = clean.path("CT")

    def signed_pixels(ds):
        ds.PixelRepresentation = 1
        ds[0x00280106] = DataElement(0x00280106, "SS", -5)  # Smallest Image Pixel Value: US or SS
    _edit(path, signed_pixels)
    orig = gather(source_study.root, None, None, 1)
    fast, slow = _both(path, orig)
    assert fast == slow and not _iod_findings(slow)
    ds = pydicom.dcmread(path)
    implicit = path.with_name("implicit.dcm")
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    ds.save_as(implicit, implicit_vr=True, little_endian=True)
    assert clean_result(implicit, "implicit.dcm", orig) is not None  # proved clean on the byte path
    fast, slow = _both(implicit, orig)
    assert fast == slow and not _iod_findings(slow)


def test_unknown_sop_class_is_judged_by_the_common_modules(clean, source_study):
    path = clean.path("CT")

    def unknown_class(ds):
        ds.SOPClassUID = "1.2.826.0.1.3680043.9.7433.99.1"
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    _edit(path, unknown_class)
    fast, slow = _both(path, gather(source_study.root, None, None, 1))
    assert fast == slow
    assert "(0018,0060)" in _iod_findings(slow)  # KVP: CT Image module, not a common module
