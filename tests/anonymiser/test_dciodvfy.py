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


NOT_IN_IOD = re.compile(r"not present in standard DICOM IOD - \(0x([0-9a-f]{4}),0x([0-9a-f]{4})\)")
#: Removed although dciodvfy does not call it outside the IOD: trailing padding can carry anything.
REMOVED_ANYWAY = {0xFFFCFFFC}
#: Kept at the top level whatever the IOD (sdu/standard/data/README.md): the pixel data needs them.
KEPT_ANYWAY = {0x00280008, 0x00280009}


def _not_in_iod(path) -> set[int] | None:
    try:
        run = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None
    if run.returncode not in (0, 1):
        return None
    return {int(g + e, 16) for g, e in NOT_IN_IOD.findall(run.stdout + run.stderr)}


def _tags(ds) -> set[int]:
    out = set()
    for elem in ds:
        if not elem.tag.is_private:
            out.add(int(elem.tag))
        if elem.VR == "SQ":
            for item in elem.value:
                out |= _tags(item)
    return out


def test_iod_table_agrees_with_dciodvfy(small_study, tmp_path):
    """The IOD rule cross-checked against dicom3tools' own IOD tables, on the generated RT study and
    pydicom's files: every element it removes, dciodvfy calls "not present in standard DICOM IOD"
    in the input; no output holds an element dciodvfy calls so."""
    from pathlib import Path

    from anonymiser import single
    from sdu import site

    files = [*small_study.files, *sorted(Path(pydicom.__file__).parent.joinpath("data", "test_files").glob("*.dcm"))]
    key = site.load_site_key(None)
    runs = {keep: single.Settings(AnonymiseOptions(trial_id="T", site_id="S", verify=False, keep_non_iod=keep), key,
                                  "/", str(tmp_path / str(keep)), {}, {}) for keep in (True, False)}
    checked = 0
    for src in files:
        outcomes = {keep: single.anonymise_file(str(src), s) for keep, s in runs.items()}
        if any(o.status != "written" for o in outcomes.values()):
            continue
        kept, trial = (pydicom.dcmread(tmp_path / str(k) / outcomes[k].output) for k in (True, False))
        removed = _tags(kept) - _tags(trial)
        before, after = _not_in_iod(src), _not_in_iod(tmp_path / "False" / outcomes[False].output)
        if before is None or after is None:
            continue
        assert removed - REMOVED_ANYWAY <= before, (src.name, sorted(hex(t) for t in removed - before))
        assert after <= KEPT_ANYWAY, (src.name, sorted(hex(t) for t in after))
        checked += 1
    assert checked >= 30  # the rest: not written (damaged, big endian) or dciodvfy could not check them
