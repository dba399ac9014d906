"""`sdu review`: what will leave, from the anonymised side only; original values never appear."""
from __future__ import annotations

import json

import pydicom
import pytest
from click.testing import CliRunner

from anonymiser import AnonymiseOptions, anonymise_folder
from approval.review import review_folder
from sdu.cli.main import cli
from sdu.studygen import PLANTED


@pytest.fixture
def anonymised(rt_study, tmp_path):
    out = tmp_path / "out"
    report = anonymise_folder(rt_study.root, out, AnonymiseOptions(trial_id="T1", site_id="S1"))
    assert report.verified
    return out


def _assert_no_originals(text: str, study) -> None:
    for what, value in PLANTED.items():
        assert value not in text, what
    for name, uid in study.uids.items():
        assert uid not in text, name
    assert str(study.root) not in text


def test_review_json_shows_what_leaves_and_no_original_value(anonymised, rt_study):
    result = CliRunner().invoke(cli, ["review", str(anonymised), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    _assert_no_originals(result.output, rt_study)
    original = pydicom.dcmread(rt_study.ct[0], stop_before_pixels=True)
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "PatientID", "StudyDate"):
        assert str(original.data_element(keyword).value) not in result.output, keyword

    assert data["ready_to_approve"] and data["values_shown"]
    assert data["verification"]["status"] == "passed" and data["approval"]["status"] == "none"
    assert {(s["modality"], s["files"]) for s in data["series"]} == {("CT", 50), ("RTSTRUCT", 1), ("RTPLAN", 1),
                                                                    ("RTDOSE", 1)}
    assert data["files"]["dicom"] == 53 and data["files"]["total"] == 55
    (rois,) = data["rois"]
    assert [r["name"] for r in rois["rois"]][:3] == ["External", "PTV_High", "CTV_High"]
    assert rois["rois"][0]["type"] == "EXTERNAL" and rois["rois"][0]["contours"] == 50
    a = data["anonymisation"]
    assert a["trial_id"] == "T1" and len(a["subjects"]) == 1 and len(a["sessions"]) == 1
    codes = {row["code"]: row for row in a["actions"]}
    assert codes["X"]["meaning"] == "removed" and codes["U"]["count"] > 0
    assert a["by_outcome"]["removed"] == codes["X"]["count"] + codes.get("IOD", {}).get("count", 0) + \
        codes.get("private", {}).get("count", 0)
    assert a["script_changes"] == {"elements": 0, "files": 0}

    tags = {t["keyword"]: t for t in data["tags"]}
    subject = a["subjects"][0]
    assert tags["PatientName"]["outcome"] == "replaced" and tags["PatientName"]["values"] == [
        {"value": subject, "files": 53}]
    assert tags["PatientBirthDate"]["outcome"] == "emptied" and tags["PatientBirthDate"]["empty"] == 53
    assert tags["AccessionNumber"]["outcome"] == "emptied"
    assert tags["StudyDescription"]["outcome"] == "cleaned"
    assert tags["StudyDate"]["outcome"] == "shifted"
    assert tags["StudyInstanceUID"]["outcome"] == "replaced (UID)" and "values" not in tags["StudyInstanceUID"]
    assert tags["StudyInstanceUID"]["distinct_values"] == 1
    assert tags["ClinicalTrialSubjectID"]["values"][0]["value"] == subject
    assert tags["PatientIdentityRemoved"]["values"] == [{"value": "YES", "files": 53}]
    assert {c["code"] for c in data["deidentification_codes"]} >= {"113100"}


def test_review_table_for_people(anonymised, rt_study):
    result = CliRunner().invoke(cli, ["review", str(anonymised)])
    assert result.exit_code == 0, result.output
    for heading in ("verification: passed", "Series", "ROIs of", "elements by action", "Per tag", "PatientName",
                    "DicomEdit scripts: 0 change(s)"):
        assert heading in result.output
    _assert_no_originals(result.output, rt_study)


def test_failing_or_missing_verification_withholds_values(anonymised, rt_study, site_dir):
    victim = next(p for p in anonymised.rglob("*.dcm") if pydicom.dcmread(p, stop_before_pixels=True).Modality == "CT")
    ds = pydicom.dcmread(victim)
    ds.PatientName = rt_study.patient.name  # an original value back in the output
    ds.save_as(victim)
    (anonymised / "sdu-report.verify.json").unlink()
    data = review_folder(anonymised)
    assert data["verification"]["status"] == "missing" and not data["ready_to_approve"]
    assert not data["values_shown"]
    text = json.dumps(data)
    _assert_no_originals(text, rt_study)
    assert all("values" not in t for t in data["tags"]) and data["rois"][0]["rois"][0]["name"] is None

    verify = CliRunner().invoke(cli, ["verify", str(anonymised), "--linkage-db", str(site_dir / "linkage.sqlite"),
                                      "--trial", "T1", "--report", str(anonymised / "sdu-report.verify.json")])
    assert verify.exit_code == 5
    result = CliRunner().invoke(cli, ["review", str(anonymised), "--json"])
    assert result.exit_code == 9
    data = json.loads(result.output)
    assert data["verification"]["status"] == "failed" and not data["values_shown"]
    _assert_no_originals(result.output, rt_study)


def test_a_stale_verification_report_is_not_a_pass(anonymised):
    (anonymised / "notes.csv").write_text("a,b\n1,2\n")  # a file the verification never saw
    data = review_folder(anonymised)
    assert data["verification"]["status"] == "stale" and not data["values_shown"]
    assert data["files"]["other"] == [{"path": "notes.csv", "size": 8}]
