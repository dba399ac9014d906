"""Real-style exports, as a treatment planning system writes them: files and folders named after
the patient, a partial export (the RTSTRUCT references CT slices that were not exported), several
patients, files without preamble, links, odd names, a destination that cannot be written.

Each test runs the command line a site runs and asserts on the bytes that leave the site."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner
from pydicom.fileset import FileSet

from sdu.cli.main import cli
from sdu.studygen import Patient, StudySpec, generate_study

PATIENT = Patient(family="Müller", given="Jürgen", middle="Zoë", patient_id="0048213", station="ALDHELM-CT-07")


def tps_export(root: Path, patient: Patient = PATIENT, slices: int = 12, drop: tuple[int, ...] = (0, 1)) -> Path:
    """A planning export: ``<family>_<given>_<id>/CT.<id>.<n>.dcm`` + ``RS``/``RP``/``RD`` files,
    without the CT slices numbered in ``drop`` (the RTSTRUCT still references them)."""
    study = generate_study(root / "generated", StudySpec(slices=slices, rows=32, columns=32, patient=patient,
                                                         seed=patient.patient_id))
    folder = root / "export" / f"{patient.family}_{patient.given}_{patient.patient_id}"
    folder.mkdir(parents=True)
    for n, ct in enumerate(study.ct):
        if n not in drop:
            shutil.copy(ct, folder / f"CT.{patient.patient_id}.{n + 1}.dcm")
    for prefix, path in (("RS", study.rtstruct), ("RP", study.rtplan), ("RD", study.rtdose)):
        shutil.copy(path, folder / f"{prefix}.{patient.patient_id}.{patient.family}.dcm")
    shutil.rmtree(root / "generated")
    return root / "export"


def anonymise(src: Path, dest: Path, *extra: str):
    return CliRunner().invoke(cli, ["anonymise", str(src), str(dest), "--trial-id", "TRIAL1", "--site-id", "SITE9",
                                    *(extra or ("--auto-id",))])


def identifiable_forms(p: Patient, folder_name: str) -> list[bytes]:
    values = [p.family, p.given, p.patient_id, folder_name, p.family.upper()]
    return [v.encode(enc) for v in values for enc in ("utf-8", "latin-1")] + [b"\\u00fc", b"\\u00dc"]


def test_a_partial_planning_export_named_after_the_patient_anonymises_and_verifies(tmp_path):
    src = tps_export(tmp_path)
    dest = tmp_path / "out"
    result = anonymise(src, dest, "--subject-id", "SUBJ01")
    assert result.exit_code == 0, result.output
    report = json.loads((dest / "sdu-report.anonymise.json").read_text(encoding="utf-8"))
    assert report["ok"] and report["verification"] == {"report": "sdu-report.verify.json"}
    assert report["counts"] == {"in": 13, "out": 13, "failed": 0, "skipped": 0}
    # the contour references to the two slices that were never exported dangle in the source too
    verify = json.loads((dest / "sdu-report.verify.json").read_text(encoding="utf-8"))
    warned = [w for f in verify["files"] for w in f.get("warnings", ())]
    assert warned and all("also unresolved in the source" in w["message"] for w in warned)
    assert verify["findings_total"] == 0
    # nothing from the identifiable side in anything that leaves: files, reports, names
    folder_name = next(src.iterdir()).name
    for path in dest.rglob("*"):
        assert not any(form in str(path).encode() for form in identifiable_forms(PATIENT, folder_name)), path
        if path.is_file():
            data = path.read_bytes()
            for form in identifiable_forms(PATIENT, folder_name):
                assert form not in data, (path.name, form)
    # references that resolved in the source still resolve: the independent verifier, from the CLI
    again = CliRunner().invoke(cli, ["verify", str(dest), "--against", str(src)])
    assert again.exit_code == 0, again.output
    # the site keeps the mapping: its own report names the source files
    site_report = json.loads(Path(next((tmp_path / "site" / "reports" / "TRIAL1").iterdir())).read_text("utf-8"))
    assert {f["source"] for f in site_report["files"]} == {str(p.relative_to(src)) for p in src.rglob("*.dcm")}
    assert site_report["run"] == report["run"]


def test_a_truncated_file_does_not_make_a_second_patient(tmp_path):
    src = tps_export(tmp_path, drop=())
    folder = next(src.iterdir())
    victim = folder / f"CT.{PATIENT.patient_id}.5.dcm"
    ds = pydicom.dcmread(victim)
    ds.PatientID = PATIENT.patient_id + "7"  # the header says another patient, but the file is cut short
    ds.save_as(victim)
    victim.write_bytes(victim.read_bytes()[:-300])
    dest = tmp_path / "out"
    result = anonymise(src, dest, "--subject-id", "SUBJ01")
    assert result.exit_code == 1  # one file failed: said, but the rest went through
    assert "patients" not in result.output
    report = json.loads((dest / "sdu-report.anonymise.json").read_text(encoding="utf-8"))
    assert report["counts"] == {"in": 15, "out": 14, "failed": 1, "skipped": 0}
    assert report["failed"][0]["reason"].startswith("truncated")
    assert report["subjects"] == ["SUBJ01"]
    # the verifier says what is incomplete: the contours on the slice that failed lost their image
    verify = json.loads((dest / "sdu-report.verify.json").read_text(encoding="utf-8"))
    findings = [(f["path"], g["check"]) for f in verify["files"] for g in f["findings"]]
    assert findings and {check for _, check in findings} == {"references"}
    assert len({path for path, _ in findings}) == 1


def test_two_patients_in_one_folder_with_a_subject_id_are_refused(tmp_path):
    src = tps_export(tmp_path / "a")
    other = tps_export(tmp_path / "b", Patient(family="Okafor", given="Li", patient_id="7731"))
    shutil.copytree(next(other.iterdir()), src / "other")
    result = anonymise(src, tmp_path / "out", "--subject-id", "SUBJ01")
    assert result.exit_code == 2 and "holds 2 patients" in result.output
    both = anonymise(src, tmp_path / "out2")
    assert both.exit_code == 0, both.output
    report = json.loads((tmp_path / "out2" / "sdu-report.anonymise.json").read_text(encoding="utf-8"))
    assert len(report["subjects"]) == 2 and report["counts"]["out"] == 26


def test_every_input_is_accounted_for(tmp_path):
    src = tps_export(tmp_path, drop=())
    folder = next(src.iterdir())
    cts = sorted(folder.glob("CT.*"))
    cts[0].rename(folder / f".{cts[0].name}")                 # hidden
    cts[1].rename(folder / "slice2.txt")                       # any suffix
    cts[2].rename(folder / "DICOMDIR")                         # an image called DICOMDIR
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    cts[3].rename(outside / "CT.outside.dcm")
    (folder / "outside-link.dcm").symlink_to(outside / "CT.outside.dcm")   # leaves SRC: reported
    linked = src / "linked"
    linked.mkdir()
    cts[4].rename(linked / "CT.linked.dcm")
    (folder / "file-link.dcm").symlink_to(linked / "CT.linked.dcm")        # same file twice: once
    (folder / "folder-link").symlink_to(linked, target_is_directory=True)  # same folder twice: once
    (linked / "loop").symlink_to(src, target_is_directory=True)            # a loop: once
    (folder / "notes.txt").write_text("planning notes")                     # not DICOM: reported
    media = FileSet()
    media.add(pydicom.dcmread(cts[5]))
    media.write(tmp_path / "media")
    shutil.copy(tmp_path / "media" / "DICOMDIR", src / "DICOMDIR")        # a real DICOMDIR: an index, reported
    dest = tmp_path / "out"
    result = anonymise(src, dest)
    assert result.exit_code == 0, result.output
    report = json.loads((dest / "sdu-report.anonymise.json").read_text(encoding="utf-8"))
    c = report["counts"]
    assert c["out"] == 15 - 1 and c["failed"] == 0  # every slice but the one outside SRC
    assert c["in"] == c["out"] + c["failed"] + c["skipped"]
    reasons = report["skipped_by_reason"]
    assert reasons == {
        "DICOMDIR: an index of a medium, not an object to send": 1,
        "folder already visited (a symbolic link loops back)": 2,
        "not DICOM (no DICM marker and no data set at the start)": 1,
        "same file as another path already counted (a link)": 1,
        "symbolic link leading outside the source folder (not followed)": 1}


def _deflated_bomb(path: Path, template: Path, megabytes: int) -> None:
    ds = pydicom.dcmread(template)
    ds.add_new(0x00431029, "OB", b"\0" * (megabytes << 20))  # a private blob of zeros: deflates to almost nothing
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.save_as(path)


def test_caps_on_inflated_size_and_element_length(tmp_path):
    src = tps_export(tmp_path, drop=())
    folder = next(src.iterdir())
    cts = sorted(folder.glob("CT.*"))
    _deflated_bomb(folder / "bomb.dcm", cts[0], 40)
    assert (folder / "bomb.dcm").stat().st_size < 200_000
    big = pydicom.dcmread(cts[1])
    big.add_new(0x00431029, "OB", b"\1" * (3 << 20))
    big.SOPInstanceUID = "2.25.1"
    big.save_as(folder / "big.dcm")
    result = anonymise(src, tmp_path / "out", "--auto-id", "--max-inflated-size", "16MiB", "--max-element-size", "2MiB")
    assert result.exit_code == 1
    assert "bomb.dcm: deflated data set inflates past the cap of 16777216 bytes" in result.output
    assert "big.dcm: element (0043,1029) is 3145728 bytes, over the cap of 2097152" in result.output
    report = json.loads((tmp_path / "out" / "sdu-report.anonymise.json").read_text(encoding="utf-8"))
    assert report["counts"]["out"] == 15 and report["counts"]["failed"] == 2


@pytest.fixture
def small_mount(tmp_path):
    """A small tmpfs (root only): a destination that fills up, or is read-only."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount a small tmpfs")
    mounts = []

    def make(options: str) -> Path:
        point = tmp_path / f"mnt{len(mounts)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
        if done.returncode:
            pytest.skip("cannot mount a tmpfs here")
        mounts.append(point)
        return point
    yield make
    for point in mounts:
        subprocess.run(["umount", str(point)], check=False)


def test_a_full_destination_is_one_clear_error_and_leaves_no_temp_files(tmp_path, small_mount):
    src = tps_export(tmp_path, slices=40, drop=())
    generate = [p for p in src.rglob("CT.*")]
    assert sum(p.stat().st_size for p in generate) > 128 << 10
    dest = small_mount("size=64k")
    result = anonymise(src, dest / "out")
    assert result.exit_code == 2, result.output
    assert f"sdu: error: {dest / 'out'}: cannot write to the destination folder: No space left on device" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not [p for p in (dest / "out").rglob("*") if p.name.endswith(".tmp")]


def test_a_read_only_destination_is_one_clear_error(tmp_path, small_mount):
    src = tps_export(tmp_path, drop=())
    dest = small_mount("size=1m,ro")
    result = anonymise(src, dest)
    assert result.exit_code == 2
    assert f"sdu: error: {dest}: cannot write to the destination folder: Read-only file system" in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_station_named_by_an_ordinary_word_does_not_fail_the_report(tmp_path):
    """The report holds words like "actions": a station called ACTIONS identifies nothing there
    (the element itself still gets its dummy value from the profile)."""
    src = tps_export(tmp_path, Patient(family="Quillfeather", patient_id="HOSP5521", station="ACTIONS"))
    dest = tmp_path / "out"
    result = anonymise(src, dest)
    assert result.exit_code == 0, result.output
    assert b'"actions"' in (dest / "sdu-report.anonymise.json").read_bytes()
    assert all(pydicom.dcmread(p).get("StationName") != "ACTIONS" for p in dest.rglob("*.dcm"))  # a dummy
    # a station name that is not an ordinary word is still searched for everywhere, the report included
    report = dest / "sdu-report.anonymise.json"
    report.write_bytes(report.read_bytes().replace(b'"actions"', b'"ALDHELM-CT-07"'))
    other = tps_export(tmp_path / "b", Patient(family="Quillfeather", patient_id="HOSP5521"))
    again = CliRunner().invoke(cli, ["verify", str(dest), "--against", str(other), "--json"])
    assert again.exit_code == 5
    failed = {f["path"]: {g["check"] for g in f["findings"]} for f in json.loads(again.output)["files"] if not f["ok"]}
    assert failed == {"sdu-report.anonymise.json": {"raw bytes"}}
