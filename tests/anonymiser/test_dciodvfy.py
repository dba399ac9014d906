"""Outputs are still valid DICOM: dciodvfy (Debian dicom3tools) finds no error the input did not have."""
import re
import shutil
import subprocess

import pydicom
import pytest

from anonymiser import AnonymiseOptions, anonymise_folder

pytestmark = pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dciodvfy (dicom3tools) not installed")


def dciodvfy_errors(path) -> set[str] | None:
    """Error lines, values stripped so the same problem compares equal; None when it crashed."""
    try:
        run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None
    if run.returncode not in (0, 1):
        return None  # crashed (it can on 32-bit RTDOSE): "not checked"
    lines = (run.stdout + run.stderr).splitlines()
    return {re.sub(r"<[^>]*>|\[[^]]*\]|\"[^\"]*\"", "", l).strip() for l in lines if l.startswith("Error")}


def test_no_new_errors_on_ct_rtstruct_rtplan_rtdose(rt_study, tmp_path):
    anonymise_folder(rt_study.root, tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S", verify=False))
    outputs = {}
    for p in (tmp_path / "out").rglob("*.dcm"):
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        outputs.setdefault(ds.Modality, p)
    inputs = {"CT": rt_study.ct[0], "RTSTRUCT": rt_study.rtstruct, "RTPLAN": rt_study.rtplan, "RTDOSE": rt_study.rtdose}
    checked = 0
    for modality, src in inputs.items():
        before, after = dciodvfy_errors(src), dciodvfy_errors(outputs[modality])
        if before is None or after is None:
            continue
        assert after <= before, f"{modality}: new errors {sorted(after - before)}"
        checked += 1
    assert checked >= 3
