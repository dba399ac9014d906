"""Validation on generated and real RT data: each failure is reported by the right check."""
import json
import shutil
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

from sdu.studygen import PLANTED, StudySpec, generate_study
from validator import find_protocol, validate_session

DATA = Path(__file__).parent / "data"
PROSTATE = find_protocol("EXAMPLE-PROSTATE")


def _status(report, check_id):
    return report.check(check_id).status


def _edit(path, change):
    ds = pydicom.dcmread(path)
    change(ds)
    ds.save_as(path, enforce_file_format=True)


def test_standard_study_passes(small_study):
    report = validate_session(small_study.root, PROSTATE, arm="prostate_only")
    assert report.ok, [c for c in report.checks if c.status != "pass"]
    assert {n.status for n in report.names} == {"standard"}
    assert _status(report, "prescription.fractions") == "pass"


def test_clinical_names_fail_with_the_right_suggestions(clinical_study):
    report = validate_session(clinical_study.root, PROSTATE, arm="prostate_only")
    assert not report.ok
    top = {n.roi_name: n.suggestions[0].name for n in report.unknown_names()}
    assert top == {"BODY": "External", "PTV 60": "PTV_High", "CTV prostate": "CTV_High", "BLADDER": "Bladder",
                   "RECTUM": "Rectum", "Lt Femoral Head": "Femur_Head_L", "Rt Femoral Head": "Femur_Head_R"}
    assert {n.roi_name for n in report.names if n.status == "standard"} == {"GTV"}
    assert _status(report, "names.nomenclature") == "fail"
    assert _status(report, "structure.Femur_Head_L") == "fail"
    assert "'Lt Femoral Head' may be it" in report.check("structure.Femur_Head_L").reason
    # the session itself is coherent: only names fail
    assert {c.id for c in report.checks if c.status == "fail"} == {
        "names.nomenclature", *(f"structure.{s}" for s in
                                ("External", "PTV_High", "CTV_High", "Bladder", "Rectum", "Femur_Head_L", "Femur_Head_R"))}


def test_report_never_contains_patient_values(clinical_study):
    report = validate_session(clinical_study.root, PROSTATE)
    text = json.dumps(report.to_dict())
    for what, value in PLANTED.items():
        assert value not in text, what
    assert "Lt Femoral Head" in text  # ROI names are shown


def test_empty_required_structure_fails(tmp_path):
    study = generate_study(tmp_path / "s", StudySpec(slices=4, rows=16, columns=16, empty_rois=("Rectum", "GTVp")))
    report = validate_session(study.root, PROSTATE, arm="prostate_only")
    assert report.check("structure.Rectum").status == "fail"
    assert "empty" in report.check("structure.Rectum").reason
    assert report.check("structure.GTVp").status == "warn"  # optional, empty
    assert report.check("structure.Bladder").status == "pass"


def test_dangling_image_reference_fails(small_study):
    _edit(small_study.rtstruct, lambda ds: setattr(
        ds.ROIContourSequence[2].ContourSequence[0].ContourImageSequence[0], "ReferencedSOPInstanceUID", "2.25.1234"))
    report = validate_session(small_study.root, PROSTATE)
    check = report.check("rtstruct.image_references")
    assert check.status == "fail" and "1 of" in check.reason and "CTV_High" in check.reason
    assert report.check("rtstruct.frame_of_reference").status == "pass"


def test_missing_ct_slice_is_its_own_finding_not_a_dangling_reference(small_study):
    small_study.ct[2].unlink()  # a partial export: the RTSTRUCT lists the slice, the session lacks it
    report = validate_session(small_study.root, PROSTATE)
    missing = report.check("session.referenced_images")
    assert missing.status == "warn" and missing.reason.startswith("1 image(s)")
    check = report.check("rtstruct.image_references")
    assert check.status == "pass" and "the rest name images the RTSTRUCT lists" in check.reason


def test_frame_of_reference_mismatch_fails(small_study):
    def change(ds):
        ds.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID = "2.25.99"
    _edit(small_study.rtstruct, change)
    assert validate_session(small_study.root, PROSTATE).check("rtstruct.frame_of_reference").status == "fail"


def test_plan_and_dose_references_must_resolve(small_study):
    _edit(small_study.rtplan, lambda ds: setattr(ds.ReferencedStructureSetSequence[0], "ReferencedSOPInstanceUID", "2.25.7"))
    report = validate_session(small_study.root, PROSTATE)
    assert report.check("rtplan.structure_set").status == "fail"
    assert report.check("rtdose.plan").status == "pass"
    small_study.rtplan.unlink()
    report = validate_session(small_study.root, PROSTATE)
    assert report.check("rtdose.plan").status == "fail"
    assert report.check("objects.RTPLAN").status == "fail"


def test_objects_from_two_patients_fail(small_study, tmp_path):
    other = generate_study(tmp_path / "other", StudySpec(slices=2, rows=16, columns=16, seed="other",
                                                         patient=type(small_study.patient)(patient_id="OTHER1")))
    shutil.copy(other.ct[0], small_study.root / "CT" / "stray.dcm")
    report = validate_session(small_study.root, PROSTATE)
    assert report.check("session.patient").status == "fail"
    assert report.check("objects.CT").status == "fail"  # two CT series now
    assert "OTHER1" not in json.dumps(report.to_dict())


def test_prescription_mismatch_and_arm_prescription(small_study):
    _edit(small_study.rtplan, lambda ds: setattr(ds.FractionGroupSequence[0], "NumberOfFractionsPlanned", 39))
    report = validate_session(small_study.root, PROSTATE)
    assert report.check("prescription.fractions").status == "fail"
    assert "39" in report.check("prescription.fractions").reason
    assert report.check("prescription.dose_per_fraction").status == "fail"
    hn = validate_session(small_study.root, find_protocol("EXAMPLE-HN"), arm="deescalated")
    assert hn.check("prescription.total_dose").status == "pass"  # 60 Gy
    assert hn.check("structure.Musc_Constrict").status == "fail"  # required in this arm only
    assert "structure.Musc_Constrict" not in {c.id for c in validate_session(
        small_study.root, find_protocol("EXAMPLE-HN"), arm="standard").checks}


def test_duplicates_and_ignore_patterns(tmp_path):
    names = ["External", "PTV_High", "CTV_High", "Bladder", "bladder", "Rectum", "Femur_Head_L", "Femur_Head_R",
             "Couch Surface", "PTV_6000"]
    study = generate_study(tmp_path / "d", StudySpec(slices=4, rows=16, columns=16, roi_names=names))
    report = validate_session(study.root, PROSTATE)
    assert report.check("names.duplicates").status == "fail"
    statuses = {n.roi_name: n.status for n in report.names}
    assert statuses["Couch Surface"] == "ignored" and statuses["PTV_6000"] == "synonym"
    assert statuses["bladder"] == "unknown"


def test_non_dicom_files_are_skipped_not_fatal(small_study):
    (small_study.root / "catalog.xml").write_text("<cat/>")
    (small_study.root / "CT" / "notes").write_bytes(b"not dicom at all")
    (small_study.root / "CT" / "CT0002.dcm").write_bytes(small_study.ct[1].read_bytes()[:300])
    report = validate_session(small_study.root, PROSTATE)
    skipped = {s["path"]: s["reason"] for s in report.skipped}
    assert {"CT/notes", "CT/CT0002.dcm", "catalog.xml"} <= set(skipped)  # every input accounted for
    assert skipped["catalog.xml"].startswith("not DICOM (XML")
    assert report.check("files.read").status == "warn"


def test_pydicom_rtstruct_without_part10_header(tmp_path):
    shutil.copy(get_testdata_file("rtstruct.dcm"), tmp_path / "rtstruct.dcm")
    report = validate_session(tmp_path, PROSTATE)
    assert report.check("files.read").status == "warn" and "without a Part 10 header" in report.check("files.read").reason
    assert [n.roi_name for n in report.names] == ["patient", "Isocenter 1", "Isocenter 2"]
    assert all(n.status == "unknown" for n in report.names)
    assert report.check("rtstruct.frame_of_reference").status == "fail"  # no CT to match
    assert report.check("objects.CT").status == "fail"
    assert report.check("structure.External").status == "fail"


def test_pymedphys_rtplans(tmp_path):
    for f in DATA.glob("pymedphys_*.dcm"):
        shutil.copy(f, tmp_path / f.name)
    report = validate_session(tmp_path, find_protocol("EXAMPLE-LUNG-SABR"))
    assert report.files == 2
    assert report.check("objects.RTPLAN").status == "fail"  # two plans, trial wants one
    assert report.check("rtplan.structure_set").status == "fail"  # no RTSTRUCT shipped with them
    assert report.check("session.patient").status == "fail"  # two phantoms
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(DATA / "pymedphys_06MV_plan.dcm", one)
    report = validate_session(one, find_protocol("EXAMPLE-LUNG-SABR"))
    assert report.check("prescription.fractions").reason.startswith("plan has 1,")
    assert report.check("prescription.total_dose").reason.startswith("plan has 2 Gy")
