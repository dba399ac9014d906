"""The emulator scenario (xnat_scenario.py) and `sdu upload` against a real XNAT, when
SDU_XNAT_URL and credentials (SDU_XNAT_USER/SDU_XNAT_PASS or a ~/.netrc entry) are set; the
account must be allowed to create projects. Skipped otherwise, saying why."""
from __future__ import annotations

import netrc
import os
import secrets
from urllib.parse import urlsplit

import pytest

from sdu.studygen import StudySpec, generate_study
from xnat_scenario import dicom_zip, run_pyxnat, run_xnatpy

URL = os.environ.get("SDU_XNAT_URL")


def _credentials():
    user, password = os.environ.get("SDU_XNAT_USER"), os.environ.get("SDU_XNAT_PASS")
    if user and password:
        return user, password
    try:
        entry = netrc.netrc().authenticators(urlsplit(URL).hostname or "")
    except (OSError, netrc.NetrcParseError):
        entry = None
    return (entry[0], entry[2]) if entry else (None, None)


pytestmark = pytest.mark.skipif(not URL, reason="no real XNAT: set SDU_XNAT_URL (+ SDU_XNAT_USER/SDU_XNAT_PASS "
                                                "or a ~/.netrc entry) to run these against one")


@pytest.fixture
def live():
    user, password = _credentials()
    if not user:
        pytest.skip("SDU_XNAT_URL is set but no credentials (SDU_XNAT_USER/SDU_XNAT_PASS or ~/.netrc)")
    return URL, user, password


@pytest.mark.parametrize("client", [run_xnatpy, run_pyxnat], ids=["xnatpy", "pyxnat"])
def test_live_scenario(client, live, tmp_path):
    study = generate_study(tmp_path / "study", StudySpec(slices=4, rows=16, columns=16))
    tag = secrets.token_hex(3).upper()
    names = {"src": f"SDUT_{tag}_S", "dest": f"SDUT_{tag}_D", "subject": f"SUBJ_{tag}", "manual": f"A_{tag}",
             "imported": f"B_{tag}"}
    result = client(*live, names, dicom_zip(study.files))
    assert result["listed"] == {"notes.csv": len(b"roi,volume_cc\nPTV,123.4\n")}
    assert result["scan_files"] == len(study.files) and result["shared_same_files"] and result["shared_id"]


def test_live_sdu_upload(live, tmp_path, monkeypatch):
    import xnat

    from anonymiser import AnonymiseOptions, anonymise_folder
    from approval import approve
    from uploader import UploadOptions, upload

    url, user, password = live
    monkeypatch.setenv("SDU_XNAT_USER", user)
    monkeypatch.setenv("SDU_XNAT_PASS", password)
    tag = secrets.token_hex(3).upper()
    site, trial = f"SDUT_{tag}_SITE", f"SDUT_{tag}_TRIAL"
    with xnat.connect(url, user=user, password=password, loglevel="ERROR") as s:
        for p in (site, trial):
            s.put(f"/data/projects/{p}")
    study = generate_study(tmp_path / "study", StudySpec(slices=4, rows=16, columns=16))
    anonymise_folder(study.root, tmp_path / "out", AnonymiseOptions(trial_id="LIVE", site_id=site))
    approve(tmp_path / "out", "live tester")
    result = upload(tmp_path / "out", UploadOptions(url, site, trial))
    assert result.ok and [c.where for c in result.checks] == [site, trial]
