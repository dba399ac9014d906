"""Names and helpers of the plugin tests: a site XNAT (emulated) with the SDU commands installed, a
session holding a generated RT study whose ROI 'Lt Femoral Head' breaks the trial's nomenclature,
and a central XNAT to upload to (the fixtures are in conftest.py)."""
from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import requests

from xnatemu import Emulator
from xnatemu.sdurunner import sdu_commands

ADMIN, PASSWORD = "admin", "admin-pw"
#: One user per project role; all share one password.
OWNER, MEMBER, READER = "olivia", "mateo", "rhea"
SITE_PROJECT, CENTRAL_PROJECT = "SITE01", "SITE01_TRIAL"
#: Where anonymisation imports the anonymised session (verify, approve, upload run there).
ANON_PROJECT = "SITE01_ANON"
#: The failing ROI: a clinical-style name the trial's nomenclature rejects (suggestion: Femur_Head_L).
BAD_ROI, GOOD_ROI = "Lt Femoral Head", "Femur_Head_L"
TRIAL = "EXAMPLE-PROSTATE"


def shared_dir() -> Path | None:
    """NRG's jars and oracles: $SDU_SHARED, else ../shared beside the checkout."""
    root = Path(os.environ.get("SDU_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
    return root if root.is_dir() else None


def commands() -> list[dict]:
    """The images' command JSON (containers/commands/*.json): what XNAT installs from the image."""
    found = sdu_commands()
    assert found, "containers/commands holds no command"
    return found


#: CONTRACT-18-19: command -> (wrapper, output resource labels).
CONTRACT = {
    "sdu-validate": ("sdu-validate-session", ("SDU_VALIDATION",)),
    "sdu-relabel": ("sdu-relabel-session", ("SDU_RELABEL", "SDU_RELABELLED")),
    "sdu-anonymise": ("sdu-anonymise-session", ("SDU_ANONYMISE",)),
    "sdu-verify": ("sdu-verify-session", ("SDU_VERIFY",)),
    "sdu-approve": ("sdu-approve-session", ("SDU_APPROVAL",)),
    "sdu-upload": ("sdu-upload-session", ("SDU_UPLOAD",)),
}


@dataclass
class Site:
    emu: Emulator
    central: Emulator
    session: str            # the session's XNAT ID
    study: object           # the GeneratedStudy (its planted identity is what must never show)

    def anonymised(self):
        """The anonymised session anonymisation imported into ANON_PROJECT (the emulator's object)."""
        found = [e for e in self.emu.archive.experiments.values() if e.project == ANON_PROJECT]
        assert len(found) == 1, found
        return found[0]

    def http(self, user: str) -> requests.Session:
        s = requests.Session()
        s.auth = (user, PASSWORD)
        return s


def study_zip(root: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(root).as_posix())
    return buf.getvalue()


REPO = Path(__file__).resolve().parents[2]
#: Screenshots of the UI tests (kept after the run; build/ is not committed).
ARTEFACTS = Path(os.environ.get("SDU_ARTEFACTS") or REPO / "build" / "test-artefacts" / "plugin")


CHROMIUM = Path("/usr/bin/chromium")


def launch_and_wait(site: Site, user: str, wrapper: str, timeout: float = 120, on=None, **params) -> dict:
    """Launch ``wrapper`` on the site's session (or the experiment ``on``) as ``user`` through the
    REST API; the final workflow."""
    import time

    http = site.http(user)
    wid = next(w["id"] for c in http.get(f"{site.emu.url}/xapi/commands").json() for w in c["xnat"]
               if w["name"] == wrapper)
    project, session = (on.project, on.id) if on is not None else (SITE_PROJECT, site.session)
    r = http.post(f"{site.emu.url}/xapi/projects/{project}/wrappers/{wid}/root/session/launch",
                  json={"session": f"/archive/experiments/{session}", **params})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wf = http.get(f"{site.emu.url}/xapi/workflows/{r.json()['workflow-id']}").json()
        if wf["status"] not in ("Queued", "Running"):
            return wf
        time.sleep(0.1)
    raise AssertionError(f"{wrapper} did not finish in {timeout}s")
