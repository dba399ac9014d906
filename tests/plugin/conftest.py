"""Fixtures of the plugin tests (helpers and names in :mod:`plugin_site`)."""
from __future__ import annotations

import json
import os
import secrets

import pytest

from plugin_site import (ADMIN, ANON_PROJECT, BAD_ROI, CENTRAL_PROJECT, CHROMIUM, GOOD_ROI, MEMBER, OWNER, PASSWORD,
                         READER, REPO, SITE_PROJECT, Site, commands, shared_dir, study_zip)
from sdu.studygen import STANDARD_ROIS, StudySpec, generate_study
from xnatemu import Emulator


@pytest.fixture
def site(tmp_path, monkeypatch):
    roi_names = [GOOD_ROI if n == "Femur_Head_L" else n for n in STANDARD_ROIS]
    roi_names[roi_names.index(GOOD_ROI)] = BAD_ROI
    study = generate_study(tmp_path / "study", StudySpec(slices=5, rows=32, columns=32, roi_names=roi_names))
    central = Emulator(ADMIN, PASSWORD).start()
    central.archive.create_project(CENTRAL_PROJECT)
    emu = Emulator(ADMIN, PASSWORD).start()
    emu.archive.create_project(SITE_PROJECT)
    emu.archive.create_project(ANON_PROJECT)
    for user, role in ((OWNER, "owner"), (MEMBER, "member"), (READER, "collaborator")):
        emu.add_user(user, PASSWORD)
        emu.set_role(SITE_PROJECT, user, role)
        emu.set_role(ANON_PROJECT, user, role)
    emu.archive.import_zip(study_zip(study.root), SITE_PROJECT, "P001", "P001_RT", True, "none", False)
    emu.containers._workdir = tmp_path / "cs"
    # The plugin's site settings (XNAT's config service) hold what is not secret; the rest are the
    # commands' secrets, from XNAT's system properties.
    emu.config.put(None, "sdu", "settings", json.dumps({"site_id": "SITE01", "anon_project": ANON_PROJECT,
                                                        "remote_url": central.url}))
    emu.containers.system_properties.update({
        "sdu.site.key": secrets.token_hex(32), "sdu.central.project": CENTRAL_PROJECT, "sdu.central.user": ADMIN,
        "sdu.central.pass": PASSWORD})
    for cmd in commands():
        emu.containers.install(cmd)
    yield Site(emu, central, emu.archive.find_experiment(SITE_PROJECT, "P001_RT").id, study)
    emu.containers.wait()
    emu.stop()
    central.stop()


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
