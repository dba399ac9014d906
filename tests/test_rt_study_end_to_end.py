"""Scenario: a coherent identifiable RT study (50 CT slices + RTSTRUCT/RTPLAN/RTDOSE) through
``sdu anonymise`` with its verification, the independent ``sdu verify`` on input and output,
and deliberate under-anonymisation that the verifier must catch, naming the tag path."""
import shutil
import subprocess
import sys

import pydicom
import pytest
from click.testing import CliRunner

from anonymiser import AnonymiseOptions, anonymise_folder
from sdu.cli.main import cli
from sdu.studygen import PLANTED
from verifier import VerifyOptions, verify_folder


@pytest.fixture
def anonymised(rt_study, tmp_path):
    report = anonymise_folder(rt_study.root, tmp_path / "out", AnonymiseOptions(trial_id="TRIAL1", site_id="SITE01"))
    return report, tmp_path / "out"


def test_output_passes_verification_and_input_fails(rt_study, anonymised):
    report, out = anonymised
    assert report.ok and report.verified
    assert report.verification["files"] == report.verification["passed"] == 54  # 53 DICOM + the anonymise report
    result = CliRunner().invoke(cli, ["verify", str(out), "--against", str(rt_study.root)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["verify", str(rt_study.root)])
    assert result.exit_code == 5


def test_output_has_no_planted_identifier_in_its_bytes(anonymised):
    _, out = anonymised
    blobs = [p.read_bytes().lower() for p in out.rglob("*") if p.is_file()]
    assert len(blobs) == 55
    for kind, value in PLANTED.items():
        assert not any(value.lower().encode() in b for b in blobs), kind


def _output(out, modality):
    for p in sorted(out.rglob("*.dcm")):
        if pydicom.dcmread(p, stop_before_pixels=True).Modality == modality:
            return p
    raise AssertionError(modality)


def _findings(out, src, path):
    report = verify_folder(out, VerifyOptions(against=src))
    rel = str(path.relative_to(out))
    return [(f.check, f.keyword_path, f.tag_path) for r in report.files if r.path == rel for f in r.findings], report


LEAKS = {
    "name in a private tag": ("CT", lambda ds, p: ds.private_block(0x0029, "LEAKY 1.0", create=True).add_new(
        0x01, "LO", p.family), "(0029,1001)"),
    "name in a nested sequence": ("RTSTRUCT", lambda ds, p: setattr(
        ds.RTROIObservationsSequence[2], "ROIObservationLabel", f"by {p.given}"), "RTROIObservationsSequence[2]"),
    "name in free text": ("CT", lambda ds, p: setattr(ds, "ImageComments", f"patient {p.family}"), "ImageComments"),
}


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_each_kind_of_leak_is_caught_naming_the_tag_path(rt_study, anonymised, leak):
    _, out = anonymised
    modality, plant, where = LEAKS[leak]
    path = _output(out, modality)
    ds = pydicom.dcmread(path)
    plant(ds, rt_study.patient)
    ds.save_as(path)
    findings, report = _findings(out, rt_study.root, path)
    assert not report.ok
    assert any(where in kp or where in tp for _, kp, tp in findings), findings
    assert sum(not r.ok for r in report.files) == 1


def test_an_original_uid_left_in_a_reference_is_caught(rt_study, anonymised):
    _, out = anonymised
    path = _output(out, "RTSTRUCT")
    ds = pydicom.dcmread(path)
    img = ds.ROIContourSequence[1].ContourSequence[0].ContourImageSequence[0]
    img.ReferencedSOPInstanceUID = rt_study.uids["ct20"]
    ds.save_as(path)
    findings, _ = _findings(out, rt_study.root, path)
    paths = [kp for check, kp, _ in findings if check == "uids"]
    assert "ROIContourSequence[1].ContourSequence[0].ContourImageSequence[0].ReferencedSOPInstanceUID" in paths


def test_anonymise_and_verify_as_real_processes(rt_study, tmp_path, site_dir):
    env_cmd = [sys.executable, "-m", "sdu.cli.main"]
    run = subprocess.run([*env_cmd, "anonymise", str(rt_study.root), str(tmp_path / "o"), "--trial-id", "T",
                          "--site-id", "S", "--auto-id", "--json"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert '"ok": true' in run.stdout and rt_study.patient.family not in run.stdout + run.stderr
    run = subprocess.run([*env_cmd, "verify", str(rt_study.root)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 5
    assert rt_study.patient.family not in run.stdout + run.stderr


def test_site_script_then_profile_then_verification(rt_study, tmp_path):
    from importlib.resources import files
    script = files("anonymiser.dicomedit").joinpath("scripts/xnat-default-site.das")
    result = CliRunner().invoke(cli, ["anonymise", str(rt_study.root), str(tmp_path / "out"), "--trial-id", "TRIAL1",
                                      "--site-id", "SITE01", "--subject-id", "TR-007", "--script", str(script), "--json"])
    assert result.exit_code == 0, result.output
    import json
    report = json.loads(result.output)
    assert report["verification"]["ok"] and report["counts"]["out"] == 53
    assert all(f["script_changes"] > 0 for f in report["files"])
    ds = pydicom.dcmread(_output(tmp_path / "out", "RTPLAN"))
    assert ds.PatientName == "TR-007" and ds.PatientIdentityRemoved == "YES"


def test_a_broken_site_script_stops_the_run_before_any_file(rt_study, tmp_path, site_dir):
    (site_dir / "scripts").mkdir(parents=True)
    (site_dir / "scripts" / "site.das").write_text('version "6.6"\n(0010,0010) := nosuchfunction["x"]\n')
    result = CliRunner().invoke(cli, ["anonymise", str(rt_study.root), str(tmp_path / "out"), "--trial-id", "T",
                                      "--site-id", "S", "--auto-id"])
    assert result.exit_code == 6 and "line 2" in result.output
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_two_patients_in_one_batch_become_two_subjects(tmp_path, site_dir):
    from sdu.studygen import Patient, StudySpec, generate_study
    from sdu.linkage import LinkageStore
    src = tmp_path / "src"
    a = generate_study(src / "a", StudySpec(slices=4, rows=16, columns=16, seed="a"))
    b = generate_study(src / "b", StudySpec(slices=4, rows=16, columns=16, seed="b", patient=Patient(
        family="Yarrowby", given="Clement", middle="Ansel", patient_id="HOSP777001", other_id="NHS1234567881",
        birth_date="19700102", accession="ACC1000001")))
    report = anonymise_folder(src, tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S"))
    assert report.ok and len(report.subjects) == 2 and len(report.sessions) == 2
    with LinkageStore(site_dir / "linkage.sqlite") as store:
        ids = {store.patient_for_subject("T", s).patient_id for s in report.subjects}
    assert ids == {a.patient.patient_id, b.patient.patient_id}
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "out").rglob("*.dcm"))
    for name in (b"Quixtable", b"Yarrowby", b"HOSP777001", b"HOSP483920"):
        assert name not in blobs
    # a trial-assigned ID names one patient: refused, before anything is written
    with pytest.raises(Exception, match="2 patients"):
        anonymise_folder(src, tmp_path / "out2", AnonymiseOptions(trial_id="T2", site_id="S", subject_id="TR-1"))
    assert not list((tmp_path / "out2").rglob("*.dcm"))


def test_library_warnings_quoting_values_never_reach_the_terminal(small_study, tmp_path):
    # a site script that copies the name into a date: pydicom warns "Invalid value for VR DA: '<name>'"
    script = tmp_path / "copy.das"
    script.write_text('version "6.6"\n(0008,0021) := (0010,0010)\n')
    run = subprocess.run([sys.executable, "-m", "sdu.cli.main", "anonymise", str(small_study.root), str(tmp_path / "o"),
                          "--trial-id", "T", "--site-id", "S", "--auto-id", "--script", str(script), "--workers", "1"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode in (0, 1)
    assert "Quixtable" not in run.stdout + run.stderr


@pytest.mark.parametrize("options,kept", [
    (("retain-patient-characteristics",), {"PatientSex": "F", "PatientAge": "066Y"}),
    # the generated station and machine names carry the hospital's name: device identity alone
    # would reveal the institution (see the next test), so it is retained with it here
    (("retain-device-identity", "retain-institution-identity"),
     {"DeviceSerialNumber": "SN-99817345", "StationName": "ALDHELM-CT-07"}),
    (("retain-institution-identity",), {"InstitutionName": "St Aldhelm Royal Infirmary"}),
])
def test_each_retain_option_keeps_its_attributes_and_still_verifies(small_study, tmp_path, options, kept):
    report = anonymise_folder(small_study.root, tmp_path / "out",
                              AnonymiseOptions(trial_id="T", site_id="S", profile_options=(
                                  "clean-descriptors", "retain-modified-dates", *options)))
    assert report.ok and report.verified, report.verification
    ds = pydicom.dcmread(_output(tmp_path / "out", "CT"))
    for keyword, value in kept.items():
        assert str(ds.get(keyword)) == value, keyword
    baseline = anonymise_folder(small_study.root, tmp_path / "base", AnonymiseOptions(trial_id="T", site_id="S"))
    ds = pydicom.dcmread(_output(tmp_path / "base", "CT"))
    assert baseline.ok and all(str(ds.get(k, "")) != v for k, v in kept.items())


def test_device_names_that_name_the_hospital_are_blocked_without_institution_identity(small_study, tmp_path):
    report = anonymise_folder(small_study.root, tmp_path / "out", AnonymiseOptions(
        trial_id="T", site_id="S", profile_options=("clean-descriptors", "retain-modified-dates",
                                                    "retain-device-identity")))
    assert report.failed == 0 and not report.verified
    result = verify_folder(tmp_path / "out", VerifyOptions(against=small_study.root))
    messages = {f.message for r in result.files for f in r.findings}
    assert messages and all("institution" in m for m in messages), messages


def test_a_session_mounted_as_xnat_lays_it_out(small_study, tmp_path):
    """XNAT mounts a session as SCANS/<id>/DICOM/*.dcm beside catalog XML files."""
    session = tmp_path / "session"
    for scan, files in enumerate([small_study.ct, [small_study.rtstruct], [small_study.rtplan], [small_study.rtdose]], 1):
        folder = session / "SCANS" / str(scan) / "DICOM"
        folder.mkdir(parents=True)
        (folder / f"scan_{scan}_catalog.xml").write_text('<cat:DCMCatalog xmlns:cat="http://nrg.wustl.edu/catalog"/>')
        for i, f in enumerate(files):
            shutil.copy(f, folder / f"{scan}-{i}.dcm")
    (session / "RESOURCES").mkdir()
    (session / "RESOURCES" / "notes.txt").write_text("session notes")
    report = anonymise_folder(session, tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S"))
    assert report.ok and report.verified and report.written == len(small_study.files)
    assert report.failed == 0 and not report.unreadable
    from validator import find_protocol, validate_session
    checked = validate_session(session, find_protocol("EXAMPLE-PROSTATE"), "prostate_only")
    assert checked.files == len(small_study.files)
