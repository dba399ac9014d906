"""A site XNAT (emulated) with the SDU commands installed, a session holding a generated RT study
whose ROI 'Lt Femoral Head' breaks the trial's nomenclature, and a central XNAT to upload to."""
from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sdu.studygen import STANDARD_ROIS, StudySpec, generate_study
from xnatemu import Emulator
from xnatemu.sdurunner import run as sdu_run
from xnatemu.sdurunner import sdu_commands

ADMIN, PASSWORD = "admin", "admin-pw"
#: One user per project role; all share one password.
OWNER, MEMBER, READER = "olivia", "mateo", "rhea"
SITE_PROJECT, CENTRAL_PROJECT = "SITE01", "SITE01_TRIAL"
#: The failing ROI: a clinical-style name the trial's nomenclature rejects (suggestion: Femur_Head_L).
BAD_ROI, GOOD_ROI = "Lt Femoral Head", "Femur_Head_L"
TRIAL = "EXAMPLE-PROSTATE"


def shared_dir() -> Path | None:
    """NRG's jars and oracles: $SDU_SHARED, else ../shared beside the checkout."""
    root = Path(os.environ.get("SDU_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
    return root if root.is_dir() else None


def commands() -> list[dict]:
    """The images' command JSON (containers/commands/*.json) when present, else the contract's."""
    import json

    folder = Path(__file__).resolve().parents[2] / "containers" / "commands"
    found = [json.loads(p.read_text()) for p in sorted(folder.glob("sdu-*.json"))] if folder.is_dir() else []
    return found or sdu_commands()


@dataclass
class Site:
    emu: Emulator
    central: Emulator
    session: str            # the session's XNAT ID
    study: object           # the GeneratedStudy (its planted identity is what must never show)

    def http(self, user: str) -> requests.Session:
        s = requests.Session()
        s.auth = (user, PASSWORD if user != ADMIN else PASSWORD)
        return s


def study_zip(root: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(root).as_posix())
    return buf.getvalue()


@pytest.fixture
def site(tmp_path, monkeypatch):
    roi_names = [GOOD_ROI if n == "Femur_Head_L" else n for n in STANDARD_ROIS]
    roi_names[roi_names.index(GOOD_ROI)] = BAD_ROI
    study = generate_study(tmp_path / "study", StudySpec(slices=5, rows=32, columns=32, roi_names=roi_names))
    central = Emulator(ADMIN, PASSWORD).start()
    central.archive.create_project(CENTRAL_PROJECT)
    emu = Emulator(ADMIN, PASSWORD).start()
    emu.archive.create_project(SITE_PROJECT)
    for user, role in ((OWNER, "owner"), (MEMBER, "member"), (READER, "collaborator")):
        emu.add_user(user, PASSWORD)
        emu.set_role(SITE_PROJECT, user, role)
    emu.archive.import_zip(study_zip(study.root), SITE_PROJECT, "P001", "P001_RT", True, "none", False)
    emu.containers.runner = sdu_run
    emu.containers._workdir = tmp_path / "cs"
    emu.containers.env.update({"SDU_SITE_ID": "SITE01", "SDU_REMOTE_XNAT": central.url,
                               "SDU_REMOTE_PROJECT": CENTRAL_PROJECT, "SDU_XNAT_USER": ADMIN,
                               "SDU_XNAT_PASS": PASSWORD})
    for cmd in commands():
        emu.containers.install(cmd)
    yield Site(emu, central, emu.archive.find_experiment(SITE_PROJECT, "P001_RT").id, study)
    emu.containers.wait()
    emu.stop()
    central.stop()


REPO = Path(__file__).resolve().parents[2]
#: Screenshots of the UI tests (kept after the run; build/ is not committed).
ARTEFACTS = Path(os.environ.get("SDU_ARTEFACTS") or REPO / "build" / "test-artefacts" / "plugin")


@pytest.fixture(scope="session")
def plugin_build(tmp_path_factory):
    """``gradle jar test`` of the repository into a scratch build folder: (jar path, gradle output)."""
    import shutil
    import subprocess

    shared = shared_dir()
    if shared is None or not (shared / "xnat-libs").is_dir():
        pytest.skip("NRG's framework jar is absent (../shared/xnat-libs, or $SDU_SHARED/xnat-libs): "
                    "the plugin jar cannot be built offline")
    if shutil.which("gradle") is None:
        pytest.skip("gradle is not installed (Debian package gradle)")
    out = tmp_path_factory.mktemp("gradle")
    proc = subprocess.run(["gradle", "--no-daemon", "--console=plain", "--project-cache-dir", str(out / ".gradle"),
                           f"-PsduBuildDir={out / 'build'}", "jar", "test"],
                          cwd=REPO, env={**os.environ, "SDU_SHARED": str(shared)}, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    jars = list((out / "build" / "libs").glob("sdu-xnat-plugin-*.jar"))
    assert len(jars) == 1, jars
    return jars[0], out / "build", proc.stdout


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright for Python (no downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        yield b
        b.close()


def launch_and_wait(site: Site, user: str, wrapper: str, timeout: float = 120, **params) -> dict:
    """Launch ``wrapper`` on the site's session as ``user`` through the REST API; the final workflow."""
    import time

    http = site.http(user)
    wid = next(w["id"] for c in http.get(f"{site.emu.url}/xapi/commands").json() for w in c["xnat"]
               if w["name"] == wrapper)
    r = http.post(f"{site.emu.url}/xapi/projects/{SITE_PROJECT}/wrappers/{wid}/root/session/launch",
                  json={"session": f"/archive/experiments/{site.session}", **params})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wf = http.get(f"{site.emu.url}/xapi/workflows/{r.json()['workflow-id']}").json()
        if wf["status"] not in ("Queued", "Running"):
            return wf
        time.sleep(0.1)
    raise AssertionError(f"{wrapper} did not finish in {timeout}s")
