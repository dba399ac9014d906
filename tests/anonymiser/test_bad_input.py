"""Bad input: each kind is reported with its path and reason, the batch completes, nothing is lost."""
import os

from click.testing import CliRunner
from pydicom.dataset import Dataset

from anonymiser import AnonymiseOptions, anonymise_folder
from sdu.cli.main import cli


def _plant_bad_files(root):
    (root / "bad").mkdir()
    (root / "bad" / "empty.dcm").write_bytes(b"")
    data = (root / "CT" / "CT0001.dcm").read_bytes()
    (root / "bad" / "truncated.dcm").write_bytes(data[: len(data) // 2])
    (root / "bad" / "notes.dcm").write_bytes(b"This is a note, not DICOM.\n" * 20)
    ds = Dataset()  # a bare dataset: no preamble, no file meta
    ds.PatientName, ds.PatientID = "Nometa^Ned", "NOMETA1"
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", "1.2.3.4.5"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = "1.2.3.4", "1.2.3.4.6", "CT"
    ds.save_as(root / "bad" / "nometa.dcm", enforce_file_format=False, implicit_vr=True, little_endian=True)
    (root / "SCANS" / "1").mkdir(parents=True)
    (root / "SCANS" / "1" / "catalog.xml").write_text("<catalog/>")  # XNAT catalog: skipped, not an error
    return {"bad/truncated.dcm": "truncated"}


SKIPPED = {"bad/empty.dcm": "empty file", "bad/notes.dcm": "not DICOM", "SCANS/1/catalog.xml": "not DICOM (XML"}


def test_each_bad_file_is_reported_and_the_rest_anonymised(small_study, tmp_path):
    expected = _plant_bad_files(small_study.root)
    report = anonymise_folder(small_study.root, tmp_path / "out",
                              AnonymiseOptions(trial_id="T", site_id="S", verify=False))
    failed = {f.source: f.reason for f in report.files if f.status == "failed"}
    assert set(failed) == set(expected)
    for path, words in expected.items():
        assert words in failed[path], (path, failed[path])
    skipped = {s["path"]: s["reason"] for s in report.skipped}
    assert set(skipped) == set(SKIPPED)
    for path, words in SKIPPED.items():
        assert skipped[path].startswith(words), (path, skipped[path])
    # the bare data set (no preamble, no file meta) is read, anonymised, and says how it was read
    nometa = next(f for f in report.files if f.source == "bad/nometa.dcm")
    assert nometa.status == "written" and nometa.notes == ["no preamble or file meta (read as Implicit VR Little Endian)"]
    assert b"Nometa" not in (tmp_path / "out" / nometa.output).read_bytes()
    assert report.written == len(small_study.files) + 1
    d = report.to_dict()["counts"]
    assert d["in"] == d["out"] + d["failed"] + d["skipped"] == len(small_study.files) + 5
    assert not report.ok
    for path in [*expected, *SKIPPED]:  # originals still there, untouched
        assert (small_study.root / path).exists()


def test_unreadable_folder_is_reported(small_study, tmp_path, monkeypatch):
    locked = small_study.root / "locked"
    locked.mkdir()
    (locked / "x.dcm").write_bytes(small_study.ct[0].read_bytes())
    if os.geteuid() == 0:  # root reads every folder: make the walk meet the error a user would
        real = os.scandir

        def scandir(path="."):
            if os.fspath(path) == str(locked):
                raise PermissionError(13, "Permission denied", str(locked))
            return real(path)
        monkeypatch.setattr(os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        report = anonymise_folder(small_study.root, tmp_path / "out",
                                  AnonymiseOptions(trial_id="T", site_id="S", verify=False, workers=1))
    finally:
        locked.chmod(0o755)
    assert [u["path"] for u in report.skipped] == ["locked"]
    assert "cannot read folder" in report.skipped[0]["reason"]
    assert report.written == len(small_study.files) and not report.ok


def test_cli_exit_code_and_messages_name_the_file(small_study, tmp_path):
    _plant_bad_files(small_study.root)
    result = CliRunner().invoke(cli, ["anonymise", str(small_study.root), str(tmp_path / "out"), "--trial-id", "T",
                                      "--site-id", "S", "--auto-id", "--no-verify"])
    assert result.exit_code == 1
    assert "FAILED bad/truncated.dcm: truncated" in result.output
    assert "skipped bad/empty.dcm: empty file" in result.output
    assert "Nometa" not in result.output and "Quixtable" not in result.output


def test_cli_refuses_ambiguous_identity_and_unsafe_ids(small_study, tmp_path):
    runner = CliRunner()
    both = runner.invoke(cli, ["anonymise", str(small_study.root), str(tmp_path / "o"), "--trial-id", "T",
                               "--site-id", "S", "--auto-id", "--subject-id", "X"])
    assert both.exit_code == 2 and "exactly one" in both.output
    unsafe = runner.invoke(cli, ["anonymise", str(small_study.root), str(tmp_path / "o"), "--trial-id", "T",
                                 "--site-id", "S", "--subject-id", "../../etc"])
    assert unsafe.exit_code == 2 and "subject ID must be" in unsafe.output
