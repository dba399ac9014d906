"""An emulated XNAT on a free loopback port per test, and an approved anonymised session."""
from __future__ import annotations

import pytest

from xnat_scenario import ADMIN, PASSWORD
from xnatemu import Emulator


@pytest.fixture
def xnat_server(monkeypatch):
    """A fresh emulator with the site and trial projects; the uploader's credentials in the env."""
    emu = Emulator(ADMIN, PASSWORD).start()
    emu.archive.create_project("SITE01")
    emu.archive.create_project("TRIAL")
    monkeypatch.setenv("SDU_XNAT_USER", ADMIN)
    monkeypatch.setenv("SDU_XNAT_PASS", PASSWORD)
    yield emu
    emu.stop()


@pytest.fixture
def anonymised_session(tmp_path):
    """A multi-series anonymised session (CT, RTSTRUCT, RTPLAN, RTDOSE) with a PDF and a CSV beside
    the DICOM, not yet approved."""
    from anonymiser import AnonymiseOptions, anonymise_folder
    from sdu.studygen import StudySpec, generate_study

    study = generate_study(tmp_path / "study", StudySpec(slices=6, rows=32, columns=32))
    out = tmp_path / "anonymised"
    report = anonymise_folder(study.root, out, AnonymiseOptions(trial_id="T1", site_id="SITE01"))
    assert report.verified
    session_dir = next(p for p in out.iterdir() if p.is_dir())
    session_dir = next(p for p in session_dir.iterdir() if p.is_dir())
    (session_dir / "consent-form.pdf").write_bytes(b"%PDF-1.4\n% a form\n" + bytes(range(256)) * 8)
    (session_dir / "dose-summary.csv").write_text("roi,mean_gy\nPTV,60.1\n")
    return out
