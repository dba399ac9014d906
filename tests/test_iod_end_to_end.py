"""Keep only what the IOD defines, end to end: anonymise (trial default) then verify.

* A generated RT study with non-IOD elements planted (top level, nested in a ROI contour item,
  wrong VR, unknown tag) anonymises and verifies with exit 0: the planted values are gone.
* With ``--keep-non-iod`` they pass (the old behaviour), the files say so, and the verifier
  accepts that; the same files without the declaration fail with one ``iod`` finding per plant.
* False-positive guard: every pydicom test file the anonymiser writes verifies with no ``iod``
  finding, on both verifier paths.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
from click.testing import CliRunner

from anonymiser import AnonymiseOptions, anonymise_folder
from sdu.cli.main import cli
from sdu.standard import iod
from verifier import VerifyOptions, filecheck, verify_folder
from verifier.collect import gather

from iod_plants import MARKERS, plant_ct, plant_rtstruct


def _planted_study(study) -> None:
    for path, plant in ((study.rtstruct, plant_rtstruct), (study.ct[0], plant_ct)):
        ds = pydicom.dcmread(path)
        plant(ds)
        ds.save_as(path)


def _all_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*.dcm")))


def test_planted_study_anonymises_and_verifies_clean(small_study, tmp_path):
    _planted_study(small_study)
    report = anonymise_folder(small_study.root, tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S"))
    assert report.ok and report.verified, report.verification
    data = _all_bytes(tmp_path / "out")
    assert not [name for name, m in MARKERS.items() if m in data]
    assert report.to_dict()["actions"]["IOD"] >= 7


def test_keep_non_iod_declares_it_and_the_verifier_flags_the_undeclared_copy(small_study, tmp_path):
    _planted_study(small_study)
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["anonymise", str(small_study.root), str(out), "--trial-id", "T",
                                   "--site-id", "S", "--auto-id", "--keep-non-iod", "--json"])
    assert run.exit_code == 0, run.output
    data = _all_bytes(out)
    assert all(m in data for m in MARKERS.values())  # kept: only the profile's scrub ran
    rtstruct = next(p for p in out.rglob("*.dcm") if pydicom.dcmread(p).Modality == "RTSTRUCT")
    ds = pydicom.dcmread(rtstruct)
    assert iod.keep_declaration() in ds.DeidentificationMethod
    ds.DeidentificationMethod = [v for v in ds.DeidentificationMethod if v != iod.keep_declaration()]
    ds.save_as(rtstruct)
    report = verify_folder(out, VerifyOptions(against=small_study.root))
    failed = [f for f in report.files if not f.ok]
    assert [f.path for f in failed] == [str(rtstruct.relative_to(out))]
    flagged = {f.tag_path for f in failed[0].findings if f.check == "iod"}
    assert {"(0018,0015)", "(3006,0039)[0]/(3006,0026)", "(3006,0006)", "(0018,FFF0)"} <= flagged
    assert "(0018,5100)" in flagged  # and what the generator itself put outside the IOD (Patient Position)


def test_every_pydicom_test_file_verifies_without_iod_findings(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    files = sorted(Path(pydicom.__file__).parent.joinpath("data", "test_files").rglob("*.dcm"))
    for i, p in enumerate(files):
        shutil.copy(p, src / f"{i:03d}_{p.name}")
    report = anonymise_folder(src, tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S", verify=False))
    written = [tmp_path / "out" / f.output for f in report.files if f.output]
    assert len(written) > 40
    orig = gather(src, None, None, 1)
    for path in written:
        fast = filecheck.check_file(path, path.name, orig)[0]
        filecheck.BYTE_READER = False
        try:
            slow = filecheck.check_file(path, path.name, orig)[0]
        finally:
            filecheck.BYTE_READER = True
        assert fast == slow, path.name
        assert not [f for f in slow.findings if f.check == "iod"], (path.name, slow.findings)


def test_cli_says_what_the_rule_did_and_what_keeping_risks(small_study, tmp_path):
    _planted_study(small_study)
    runner = CliRunner()
    base = ["anonymise", str(small_study.root), "--trial-id", "T", "--site-id", "S", "--auto-id"]
    run = runner.invoke(cli, [*base[:2], str(tmp_path / "a"), *base[2:]])
    assert run.exit_code == 0, run.output
    line = next(l for l in run.output.splitlines() if l.startswith("IOD rule:"))
    assert int(line.split()[2]) >= 7
    run = runner.invoke(cli, [*base[:2], str(tmp_path / "b"), *base[2:], "--keep-non-iod"])
    assert run.exit_code == 0 and "IOD rule: OFF (--keep-non-iod)" in run.output
    help_text = " ".join(runner.invoke(cli, ["anonymise", "--help"]).output.split())
    assert "--keep-non-iod" in help_text and "nobody reviewed" in help_text
