"""`sdu verify`: table or JSON, report file, exit 0 only when every file passes (5 otherwise)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from sdu.cli.main import cli
from sdu.studygen import PLANTED


def test_clean_set_exits_0_and_writes_the_report(clean, source_study, tmp_path):
    report_file = tmp_path / "verify.json"
    result = CliRunner().invoke(cli, ["verify", str(clean.root), "--against", str(source_study.root),
                                      "--report", str(report_file)])
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "9 passed" in result.output
    data = json.loads(report_file.read_text())
    assert data["ok"] is True and data["files_total"] == 9


def test_leak_exits_5_and_json_names_the_tag_path(clean, source_study):
    import pydicom
    ds = pydicom.dcmread(clean.path("RTSTRUCT"))
    ds.RTROIObservationsSequence[2].ROIInterpreter = "Thistlewood"
    ds.save_as(clean.path("RTSTRUCT"), enforce_file_format=True)
    result = CliRunner().invoke(cli, ["verify", str(clean.root), "--against", str(source_study.root), "--json"])
    assert result.exit_code == 5
    data = json.loads(result.output)
    assert data["ok"] is False and data["files_failed"] == 1
    [failed] = [f for f in data["files"] if not f["ok"]]
    assert failed["findings"][0]["keyword_path"] == "RTROIObservationsSequence[2].ROIInterpreter"
    assert failed["findings"][0]["tag_path"] == "(3006,0080)[2]/(3006,00A6)"
    assert "Thistlewood" not in result.output


def test_table_names_file_and_path_never_the_value(clean, source_study):
    import pydicom
    ds = pydicom.dcmread(clean.path("CT"))
    ds.ImageComments = "Quixtable"
    ds.save_as(clean.path("CT"), enforce_file_format=True)
    result = CliRunner().invoke(cli, ["verify", str(clean.root), "--against", str(source_study.root)])
    assert result.exit_code == 5
    assert "FAIL" in result.output and "ImageComments" in result.output and "family name" in result.output
    assert "Quixtable" not in result.output


def test_missing_linkage_store_is_a_usage_error(clean, tmp_path):
    result = CliRunner().invoke(cli, ["verify", str(clean.root), "--linkage-db", str(tmp_path / "nope.db")])
    assert result.exit_code == 2


def test_real_subprocess_fails_on_the_identifiable_input(source_study):
    sdu = os.path.join(os.path.dirname(sys.executable), "sdu")
    out = subprocess.run([sdu, "verify", str(source_study.root), "--against", str(source_study.root), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 5, out.stderr
    data = json.loads(out.stdout)
    assert data["files_failed"] == 9
    for value in PLANTED.values():
        assert value not in out.stdout and value not in out.stderr
