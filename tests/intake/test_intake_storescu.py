"""dcmtk `storescu` sends a generated RT study to `sdu receive` running as a real process."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time

import pytest
from intake_helpers import dataset_bytes, stored_files, temp_leftovers

from sdu.studygen import PLANTED, StudySpec, generate_study

pytestmark = pytest.mark.skipif(not shutil.which("storescu"), reason="dcmtk storescu not installed")


def storescu(port: int, *paths, aet: str = "STORESCU", check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["storescu", "-aet", aet, "-aec", "SDU", "+sd", "+r", "127.0.0.1", str(port),
                           *map(str, paths)], capture_output=True, text=True, timeout=120, check=check)


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_rt_study_arrives_bit_identical_once_and_completes(rt_study, receiver, tmp_path):
    store = tmp_path / "store"
    rx = receiver(store, quiet=1.0)
    storescu(rx.port, rt_study.root)

    files = stored_files(store)
    assert len(files) == len(rt_study.files) == 53
    sources = {dataset_bytes(p) for p in rt_study.files}
    received = [dataset_bytes(p) for p in files]
    assert set(received) == sources and len(set(received)) == len(received)  # every one, once, bit-identical

    # patient -> study -> series -> sop, named by hashes only
    assert {len(p.relative_to(store).parts) for p in files} == {4}
    path_text = "\n".join(str(p.relative_to(store)) for p in files)
    assert rt_study.patient.patient_id not in path_text and rt_study.uids["study"] not in path_text
    assert len({p.parent for p in files}) == 4  # CT, RTSTRUCT, RTPLAN, RTDOSE series

    # completion after the quiet period: one event naming keys and counts, no identifiers
    events = lambda: sorted((store / ".events").glob("*.json"))  # noqa: E731
    assert wait_for(lambda: len(events()) == 1)
    event = json.loads(events()[0].read_text())
    assert event["event"] == "complete" and event["instances"] == 53
    assert sorted(s["modality"] for s in event["series"]) == ["CT", "RTDOSE", "RTPLAN", "RTSTRUCT"]

    code, report = rx.stop(signal.SIGTERM)
    assert code == 0 and report["stored"] == 53 and report["failed"] == 0
    log = rx.log.read_text()
    assert "complete" in log
    for label, value in PLANTED.items():
        assert value not in log, f"{label} leaked into the receiver log"
        assert value not in events()[0].read_text(), f"{label} leaked into the event file"
    assert not temp_leftovers(store)


def test_sigterm_during_transfer_exits_cleanly_and_loses_nothing(tmp_path, receiver):
    study = generate_study(tmp_path / "big", StudySpec(slices=400, rows=256, columns=256, with_private=False))
    store = tmp_path / "store"
    rx = receiver(store, "--shutdown-grace", "0.2", quiet=30)
    sender = subprocess.Popen(["storescu", "-aec", "SDU", "+sd", "+r", "127.0.0.1", str(rx.port), str(study.root)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: len(stored_files(store)) >= 10)
    code, report = rx.stop(signal.SIGTERM)
    sender.wait(timeout=60)
    assert code == 0
    # everything acknowledged is on disk, whole; nothing half-written under a real name
    files = stored_files(store)
    assert report["stored"] == len(files) >= 10
    assert len(files) < len(study.files), "the transfer should have been cut short by the shutdown"
    sources = {dataset_bytes(p) for p in study.files}
    assert all(dataset_bytes(p) in sources for p in files)
    assert not temp_leftovers(store)


def test_echo_allow_list_and_refused_caller(rt_study, receiver, tmp_path):
    rx = receiver(tmp_path / "store", "--allow-ae", "PACS1")
    assert subprocess.run(["echoscu", "-aet", "PACS1", "-aec", "SDU", "127.0.0.1", str(rx.port)],
                          capture_output=True, timeout=30).returncode == 0
    refused = storescu(rx.port, rt_study.rtplan, aet="INTRUDER", check=False)
    assert refused.returncode != 0
    assert stored_files(tmp_path / "store") == []
    storescu(rx.port, rt_study.rtplan, aet="PACS1")
    assert len(stored_files(tmp_path / "store")) == 1
    assert rx.stop()[0] == 0
