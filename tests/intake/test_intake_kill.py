"""SIGKILL `sdu receive` in the middle of an association: no partial file; a re-send completes."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from intake_helpers import dataset_bytes, stored_files, temp_leftovers

from sdu.studygen import StudySpec, generate_study

pytestmark = pytest.mark.skipif(not shutil.which("storescu"), reason="dcmtk storescu not installed")


def send(port: int, folder) -> subprocess.Popen:
    return subprocess.Popen(["storescu", "-aec", "SDU", "+sd", "+r", "127.0.0.1", str(port), str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_kill_mid_association_then_resend_completes_and_resend_again_is_idempotent(tmp_path, receiver):
    study = generate_study(tmp_path / "study", StudySpec(slices=150, rows=256, columns=256, with_private=False))
    sources = {dataset_bytes(p): p for p in study.files}
    store = tmp_path / "store"

    rx = receiver(store, quiet=30)
    sender = send(rx.port, study.root)
    deadline = time.monotonic() + 30
    while len(stored_files(store)) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    rx.kill()  # SIGKILL, mid-transfer
    sender.wait(timeout=60)
    assert sender.returncode != 0, "storescu should have seen the association die"
    before = stored_files(store)
    assert 20 <= len(before) < len(study.files)
    # every file under a real name is whole and one of the sources; temp files are never .dcm
    assert all(dataset_bytes(p) in sources for p in before)

    rx2 = receiver(store, quiet=30)  # restart: leftovers of the killed process are swept
    assert not temp_leftovers(store)
    assert subprocess.run(["storescu", "-aec", "SDU", "+sd", "+r", "127.0.0.1", str(rx2.port), str(study.root)],
                          capture_output=True, timeout=120).returncode == 0
    after = stored_files(store)
    assert len(after) == len(study.files)
    assert {dataset_bytes(p) for p in after} == set(sources)

    mtimes = {p: p.stat().st_mtime_ns for p in after}
    assert subprocess.run(["storescu", "-aec", "SDU", "+sd", "+r", "127.0.0.1", str(rx2.port), str(study.root)],
                          capture_output=True, timeout=120).returncode == 0
    code, report = rx2.stop()
    assert code == 0
    # first re-send: what survived the kill is a duplicate; second re-send: everything is
    assert report["stored"] == len(study.files) - len(before)
    assert report["duplicates"] == len(before) + len(study.files)
    assert report["conflicts"] == 0
    assert {p: p.stat().st_mtime_ns for p in stored_files(store)} == mtimes  # nothing rewritten
    assert not temp_leftovers(store)
