"""Real files in every common transfer syntax (pydicom's test files) anonymise and verify."""
import shutil

import numpy
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import DeflatedExplicitVRLittleEndian

from anonymiser import AnonymiseOptions, anonymise_folder

#: Their JPEG 2000 codestreams carry a comment (COM) segment, which the anonymiser strips.
WITH_COMMENTS = {"JPEG2000.dcm"}
FILES = ["CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "deflated CT_small.dcm",
         "JPEG2000.dcm", "MR_small_RLE.dcm", "SC_rgb_jpeg_dcmtk.dcm"]


def _source(name, folder):
    folder.mkdir()
    if name.startswith("deflated "):
        ds = pydicom.dcmread(get_testdata_file(name.split()[1]))
        ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
        ds.save_as(folder / "in.dcm", enforce_file_format=True)
    else:
        shutil.copy(get_testdata_file(name), folder / "in.dcm")
    return pydicom.dcmread(folder / "in.dcm")


@pytest.mark.parametrize("name", FILES)
def test_anonymise_then_verify(name, tmp_path):
    original = _source(name, tmp_path / "src")
    report = anonymise_folder(tmp_path / "src", tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S"))
    assert report.failed == 0, [f.reason for f in report.files]
    assert report.verified, report.verification
    (out,) = list((tmp_path / "out").rglob("*.dcm"))
    ds = pydicom.dcmread(out)
    assert ds.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert ds.SOPInstanceUID != original.SOPInstanceUID and ds.PatientIdentityRemoved == "YES"
    if "PixelData" in original and name in WITH_COMMENTS:  # comment segments stripped, image data as it was
        assert ds.PixelData != original.PixelData and b"\xff\x64" not in ds.PixelData[:200]
        assert numpy.array_equal(ds.pixel_array, original.pixel_array)
    elif "PixelData" in original:
        assert ds.PixelData == original.PixelData  # never decoded, never re-encoded


def test_a_plan_without_its_structure_set_is_judged_against_the_source(tmp_path):
    """pydicom's rtplan.dcm references an RTSTRUCT that is not in the batch. The reference already
    dangled in the source, so it is a warning, not a failure; without the source to compare with
    (no --against, no linkage store), the verifier cannot tell, and fails it."""
    (tmp_path / "src").mkdir()
    shutil.copy(get_testdata_file("rtplan.dcm"), tmp_path / "src" / "plan.dcm")
    report = anonymise_folder(tmp_path / "src", tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S"))
    assert report.failed == 0 and report.verified and report.verification["warnings"] == 1
    from verifier import VerifyOptions, verify_folder
    result = verify_folder(tmp_path / "out", VerifyOptions(against=tmp_path / "src"))
    assert result.ok
    warnings = [f for r in result.files for f in r.warnings]
    assert [(f.check, f.keyword_path) for f in warnings] == [
        ("references", "ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID")]
    assert "also unresolved in the source" in warnings[0].message
    blind = verify_folder(tmp_path / "out", VerifyOptions())
    findings = [f for r in blind.files for f in r.findings]
    assert [(f.check, f.keyword_path) for f in findings] == [
        ("references", "ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID")]
