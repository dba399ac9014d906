"""`sdu script check` and `sdu script dry-run`, in-process and as a real subprocess."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from pydicom.data import get_testdata_file

from anonymiser.dicomedit.script import default_site_script
from sdu.cli.main import cli


def _write(tmp_path, text, name="s.das"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_check_reports_statements_and_variables(tmp_path):
    path = _write(tmp_path, default_site_script() + "describe modalityLabel hidden\n")
    result = CliRunner().invoke(cli, ["script", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "OK, DicomEdit 6.6" in result.output and "statements" in result.output
    assert "variable subject" in result.output and "[hidden]" in result.output


def test_check_error_exits_6_with_line_and_column(tmp_path):
    path = _write(tmp_path, 'version "6.6"\n(0010,0010) := \n')
    result = CliRunner().invoke(cli, ["script", "check", str(path)])
    assert result.exit_code == 6
    assert "line 2, column 16" in result.output and "expected" in result.output


def test_dry_run_shows_changes_and_writes_nothing(tmp_path):
    dicom = get_testdata_file("CT_small.dcm")
    digest = hashlib.sha256(open(dicom, "rb").read()).hexdigest()
    path = _write(tmp_path, 'version "6.6"\n(0010,0010) := subject\n-(0010,0030)\necho "done"\n')
    result = CliRunner().invoke(cli, ["script", "dry-run", str(path), dicom, "--var", "subject=S-9"])
    assert result.exit_code == 0, result.output
    assert "(0010,0010) PatientName: CompressedSamples^CT1 → S-9" in result.output
    assert "(0010,0030) PatientBirthDate: " in result.output and "→ (removed)" in result.output
    assert "echo: done" in result.output and "2 change(s)" in result.output
    assert hashlib.sha256(open(dicom, "rb").read()).hexdigest() == digest


def test_dry_run_rejects_a_bad_var(tmp_path):
    path = _write(tmp_path, 'version "6.6"\n')
    result = CliRunner().invoke(cli, ["script", "dry-run", str(path), get_testdata_file("CT_small.dcm"), "--var", "x"])
    assert result.exit_code == 2 and "name=value" in result.output


def test_real_subprocess_check(tmp_path):
    sdu = Path(sys.executable).with_name("sdu")
    path = _write(tmp_path, 'version "6.6"\n-(0010,0010)\n')
    proc = subprocess.run([str(sdu), "script", "check", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "2 statements" in proc.stdout
    bad = _write(tmp_path, 'version "6.6"\n-(0010,0010) := x\n', "bad.das")
    proc = subprocess.run([str(sdu), "script", "check", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 6 and "line 2, column 14" in proc.stderr


def test_dry_run_json_lists_every_changed_element(tmp_path):
    import json
    dicom = get_testdata_file("CT_small.dcm")
    digest = hashlib.sha256(open(dicom, "rb").read()).hexdigest()
    path = _write(tmp_path, 'version "6.6"\n(0010,0010) := subject\n-(0010,0030)\n-(0010,1002)[0]\n'
                            '(0019,{NOBODY}02) = "x" ? (0010,4000) := "never"\n(0010,1002)[1]/(0010,0020) := "X"\n')
    result = CliRunner().invoke(cli, ["script", "dry-run", str(path), dicom, "--var", "subject=S-9", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert "identifiable" in out["note"]
    by_path = {c["path"]: c for c in out["changes"]}
    assert by_path["(0010,0010)"] == {"path": "(0010,0010)", "keyword": "PatientName", "vr": "PN",
                                      "old": "CompressedSamples^CT1", "new": "S-9"}
    assert by_path["(0010,0030)"]["new"] is None and by_path["(0010,0030)"]["old"] == ""
    # the emptied item's elements, the creator a read added, the element in the second item
    assert by_path["(0010,1002)[0]/(0010,0020)"]["new"] is None
    assert by_path["(0019,0011)"] == {"path": "(0019,0011)", "keyword": "PrivateCreator", "vr": "LO",
                                      "old": None, "new": "NOBODY"}
    assert by_path["(0010,1002)[1]/(0010,0020)"]["old"] == "1234ABCD" and by_path["(0010,1002)[1]/(0010,0020)"]["new"] == "X"
    assert len(out["changes"]) == 6
    assert hashlib.sha256(open(dicom, "rb").read()).hexdigest() == digest


def test_a_script_without_version_is_refused_the_same_way_by_check_and_anonymise(tmp_path, small_study):
    """XNAT runs a script with no version line as DicomEdit 4: SDU never runs it as DicomEdit 6 silently."""
    path = _write(tmp_path, "// no version line\n-(0010,0010)\n", name="old-site.das")
    check = CliRunner().invoke(cli, ["script", "check", str(path)])
    out = tmp_path / "out"
    anonymise = CliRunner().invoke(cli, ["anonymise", str(small_study.root), str(out), "--trial-id", "T",
                                         "--site-id", "S", "--auto-id", "--script", str(path)])
    for result in (check, anonymise):
        assert result.exit_code == 6, result.output  # ScriptError
        assert "old-site.das" in result.output and "line 1" in result.output
        assert "DicomEdit 4" in result.output and 'version "6.6"' in result.output
    assert not list(out.rglob("*.dcm"))  # refused before any file is written
    path.write_text('version "6.6"\n-(0010,0010)\n')
    assert CliRunner().invoke(cli, ["script", "check", str(path)]).exit_code == 0


def test_check_lists_statements_xnat_fails_a_file_on_when_reached(tmp_path):
    path = _write(tmp_path, 'version "6.6"\n(0008,0060) = "CT" ? (0010,00X0) := "x"\n')
    result = CliRunner().invoke(cli, ["script", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning: line 2, column 22" in result.output and "':=' assigns one element" in result.output
    path.write_text('version "6.6"\n(0010,00X0) := "x"\n')  # every file reaches it: refused outright
    result = CliRunner().invoke(cli, ["script", "check", str(path)])
    assert result.exit_code == 6 and "line 2" in result.output
