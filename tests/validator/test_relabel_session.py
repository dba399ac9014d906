"""Relabel: validate fails, relabel into a copy, validate passes; originals untouched, links kept."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import pydicom
import pytest
from click.testing import CliRunner
from pydicom.data import get_testdata_file

from sdu.cli.main import cli
from sdu.errors import ConfigError
from sdu.studygen import PLANTED
from validator import find_protocol, relabel_session, suggested_mapping, validate_session

PROSTATE = find_protocol("EXAMPLE-PROSTATE")


def _hashes(root):
    return {p.relative_to(root): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_validate_relabel_validate(clinical_study, tmp_path, site_dir):
    before = _hashes(clinical_study.root)
    assert not validate_session(clinical_study.root, PROSTATE, "prostate_only").ok
    mapping, refused = suggested_mapping(clinical_study.root, PROSTATE, "prostate_only")
    assert not refused
    assert mapping["Lt Femoral Head"] == "Femur_Head_L" and mapping["PTV 60"] == "PTV_High"
    out = tmp_path / "relabelled"
    report = relabel_session(clinical_study.root, out, mapping)

    assert _hashes(clinical_study.root) == before  # originals untouched
    after = validate_session(out, PROSTATE, "prostate_only")
    assert after.ok, [c for c in after.checks if c.status != "pass"]
    assert [f.modality for f in report.rewritten] == ["RTSTRUCT", "RTPLAN", "RTDOSE"]

    old = {k: pydicom.dcmread(getattr(clinical_study, k)) for k in ("rtstruct", "rtplan", "rtdose")}
    new = {k: pydicom.dcmread(out / getattr(clinical_study, k).relative_to(clinical_study.root))
           for k in ("rtstruct", "rtplan", "rtdose")}
    for k in old:
        assert new[k].SOPInstanceUID != old[k].SOPInstanceUID
        assert new[k].file_meta.MediaStorageSOPInstanceUID == new[k].SOPInstanceUID
        assert new[k].PatientID == old[k].PatientID  # everything else kept
    assert new["rtplan"].ReferencedStructureSetSequence[0].ReferencedSOPInstanceUID == new["rtstruct"].SOPInstanceUID
    assert new["rtdose"].ReferencedRTPlanSequence[0].ReferencedSOPInstanceUID == new["rtplan"].SOPInstanceUID
    assert [r.ROIName for r in new["rtstruct"].StructureSetROISequence] == [
        "External", "PTV_High", "CTV_High", "GTV", "Bladder", "Rectum", "Femur_Head_L", "Femur_Head_R"]
    assert new["rtstruct"].ROIContourSequence == old["rtstruct"].ROIContourSequence
    assert new["rtdose"].PixelData == old["rtdose"].PixelData
    ct = clinical_study.ct[0]
    assert (out / ct.relative_to(clinical_study.root)).read_bytes() == ct.read_bytes()

    log = (site_dir / "audit.jsonl").read_text().splitlines()
    entry = json.loads(log[-1])
    assert entry["action"] == "relabel" and entry["renamed"]["Lt Femoral Head"] == "Femur_Head_L"
    assert entry["rewritten"] == {"RTDOSE": 1, "RTPLAN": 1, "RTSTRUCT": 1}
    for what, value in PLANTED.items():
        assert value not in log[-1], what
    assert old["rtstruct"].SOPInstanceUID not in log[-1]


def test_explicit_map_and_not_found(clinical_study, tmp_path):
    report = relabel_session(clinical_study.root, tmp_path / "o", {"Lt Femoral Head": "Femur_Head_L", "Nope": "X"})
    assert report.renamed == {"Lt Femoral Head": "Femur_Head_L"}
    assert report.not_found == ["Nope"]
    names = [v.roi_name for v in validate_session(tmp_path / "o", PROSTATE).names]
    assert "Femur_Head_L" in names and "Rt Femoral Head" in names


def test_refuses_bad_output_folders(clinical_study, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        relabel_session(clinical_study.root, tmp_path / "full", {"BODY": "External"})
    with pytest.raises(ConfigError, match="outside"):
        relabel_session(clinical_study.root, clinical_study.root / "out", {"BODY": "External"})
    with pytest.raises(ConfigError):
        relabel_session(clinical_study.root, tmp_path / "o", {"BODY": "x" * 65})


def test_forced_rtstruct_is_written_as_part10(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(get_testdata_file("rtstruct.dcm"), src / "rtstruct.dcm")
    before = _hashes(src)
    relabel_session(src, tmp_path / "out", {"patient": "External"})
    assert _hashes(src) == before
    raw = (tmp_path / "out" / "rtstruct.dcm").read_bytes()
    assert raw[128:132] == b"DICM"
    ds = pydicom.dcmread(tmp_path / "out" / "rtstruct.dcm")
    assert ds.StructureSetROISequence[0].ROIName == "External"
    assert ds.StructureSetROISequence[1].ROIName == "Isocenter 1"


def test_cli_accept_suggestions_then_validate(clinical_study, tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["validate", str(clinical_study.root), "--trial", "EXAMPLE-PROSTATE", "--json"])
    assert res.exit_code == 1
    assert json.loads(res.output)["result"] == "fail"
    out = tmp_path / "out"
    res = runner.invoke(cli, ["relabel", str(clinical_study.root), "--out", str(out), "--accept-suggestions",
                              "--trial", "EXAMPLE-PROSTATE"])
    assert res.exit_code == 0, res.output
    assert "'Rt Femoral Head' -> 'Femur_Head_R'" in res.output
    report_file = tmp_path / "report.json"
    res = runner.invoke(cli, ["validate", str(out), "--trial", "EXAMPLE-PROSTATE", "--arm", "prostate_only",
                              "--report", str(report_file)])
    assert res.exit_code == 0, res.output
    assert json.loads(report_file.read_text())["result"] == "pass"


def test_cli_accept_suggestions_refuses_weak_ones(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(get_testdata_file("rtstruct.dcm"), src / "rtstruct.dcm")
    runner = CliRunner()
    res = runner.invoke(cli, ["relabel", str(src), "--out", str(tmp_path / "o"), "--accept-suggestions",
                              "--trial", "EXAMPLE-PROSTATE"])
    assert res.exit_code == 1
    assert "'Isocenter 1'" in res.output and "refusing" in res.output
    assert not (tmp_path / "o").exists()
    res = runner.invoke(cli, ["relabel", str(src), "--out", str(tmp_path / "o"), "--map", "patient=External"])
    assert res.exit_code == 0 and (tmp_path / "o" / "rtstruct.dcm").exists()


def test_cli_usage_errors(clinical_study, tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["validate", str(clinical_study.root)]).exit_code == 2
    res = runner.invoke(cli, ["validate", str(clinical_study.root), "--trial", "EXAMPLE-PROSTATE", "--arm", "x"])
    assert res.exit_code == 7 and "no arm 'x'" in res.output
    assert runner.invoke(cli, ["relabel", str(clinical_study.root), "--out", str(tmp_path / "o")]).exit_code == 2
    res = runner.invoke(cli, ["relabel", str(clinical_study.root), "--out", str(tmp_path / "o"), "--map", "BODY"])
    assert res.exit_code == 2 and "OLD=NEW" in res.output


def test_real_subprocess_validate(clinical_study, site_dir):
    exe = [sys.executable, "-c", "from sdu.cli.main import cli; cli()"]
    res = subprocess.run([*exe, "validate", str(clinical_study.root), "--trial", "EXAMPLE-PROSTATE"],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert res.returncode == 1
    assert "Femur_Head_L (95)" in res.stdout
    for value in PLANTED.values():
        assert value not in res.stdout + res.stderr
