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
