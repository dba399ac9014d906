"""Shared fixtures: generated coherent RT studies and an isolated site folder."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sdu.studygen import CLINICAL_ROIS, StudySpec, generate_study


@pytest.fixture(autouse=True)
def site_dir(tmp_path, monkeypatch) -> Path:
    """Every test gets its own site folder (key, linkage store): nothing leaks between tests."""
    site = tmp_path / "site"
    monkeypatch.setenv("SDU_SITE_DIR", str(site))
    for var in ("SDU_SITE_KEY", "SDU_SITE_KEY_FILE", "SDU_LINKAGE_DB"):
        monkeypatch.delenv(var, raising=False)
    return site


@pytest.fixture(scope="session")
def _rt_study_master(tmp_path_factory):
    """A 50-slice coherent study (CT + RTSTRUCT + RTPLAN + RTDOSE), generated once."""
    return generate_study(tmp_path_factory.mktemp("rt_study"), StudySpec(slices=50, rows=64, columns=64))


@pytest.fixture
def rt_study(_rt_study_master, tmp_path):
    """A private copy of the 50-slice study (tests may damage their copy)."""
    dest = tmp_path / "study"
    shutil.copytree(_rt_study_master.root, dest)
    s = _rt_study_master
    rel = lambda p: dest / p.relative_to(s.root)  # noqa: E731
    return type(s)(dest, [rel(p) for p in s.ct], rel(s.rtstruct), rel(s.rtplan), rel(s.rtdose), s.patient, s.uids)


@pytest.fixture
def small_study(tmp_path):
    """A 5-slice study, quick to build and to run through every step."""
    return generate_study(tmp_path / "small", StudySpec(slices=5, rows=32, columns=32))


@pytest.fixture
def clinical_study(tmp_path):
    """A study with clinical-style ROI names ('Lt Femoral Head', 'PTV 60', 'BODY', 'RECTUM')."""
    return generate_study(tmp_path / "clinical", StudySpec(slices=8, rows=32, columns=32, roi_names=list(CLINICAL_ROIS)))


def have(program: str) -> bool:
    return shutil.which(program) is not None
