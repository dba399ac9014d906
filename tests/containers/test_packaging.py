"""The package builds (as containers/build builds it) without a deprecation warning: the licence is
the SPDX string and the build needs a setuptools that reads it."""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_license_is_an_spdx_expression_with_a_setuptools_that_reads_it():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "BSD-3-Clause"
    assert "setuptools>=77" in project["build-system"]["requires"]


def test_wheel_builds_without_deprecation_warnings(tmp_path):
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "-v",
                           "--wheel-dir", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert list(tmp_path.glob("secure_dicom_uploader-*.whl"))
    log = done.stdout + done.stderr
    assert "Deprecat" not in log and "deprecat" not in log, [l for l in log.splitlines() if "eprecat" in l]
