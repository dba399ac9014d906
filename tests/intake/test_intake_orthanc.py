"""Orthanc (Debian) holds a study and pushes it to `sdu receive` as a PACS would (C-STORE)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from intake_helpers import dataset_bytes, free_port, stored_files

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"


def _http(url: str, data: bytes | None = None, content_type: str = "application/dicom", timeout: float = 120):
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    if data is not None:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"null")


def start_orthanc(tmp_path: Path, scp_port: int):
    """Orthanc on loopback with a temp config naming the SDU SCP, or a skip saying why it can't start."""
    if not os.path.exists(ORTHANC):
        pytest.skip("Orthanc is not installed (/usr/sbin/Orthanc)")
    http_port, dicom_port = free_port(), free_port()
    root = tmp_path / "orthanc"
    root.mkdir()
    config = {
        "Name": "sdu-test-pacs", "StorageDirectory": str(root / "storage"), "IndexDirectory": str(root / "index"),
        "HttpPort": http_port, "DicomPort": dicom_port, "DicomAet": "ORTHANC",
        "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "HttpServerEnabled": True,
        "DicomServerEnabled": True, "Plugins": [], "DicomModalities": {"sdu": ["SDU", "127.0.0.1", scp_port]},
        "DicomScuTimeout": 30, "StorageCompression": False,
    }
    (root / "orthanc.json").write_text(json.dumps(config))
    log = open(root / "orthanc.log", "wb")
    proc = subprocess.Popen([ORTHANC, str(root / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            _http(base + "/system", timeout=2)
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.close()
                tail = (root / "orthanc.log").read_text(errors="replace")[-400:]
                pytest.skip(f"Orthanc could not be started here: {tail}")
            time.sleep(0.2)
    return base, proc, log


@pytest.fixture
def orthanc(tmp_path):
    """Factory: start Orthanc pointing its 'sdu' modality at a port; stopped at teardown."""
    running = []

    def start(scp_port: int) -> str:
        base, proc, log = start_orthanc(tmp_path, scp_port)
        running.append((proc, log))
        return base

    yield start
    for proc, log in running:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_orthanc_pushes_study_which_arrives_bit_identical_once(orthanc, rt_study, receiver, tmp_path):
    store = tmp_path / "store"
    rx = receiver(store, quiet=1.0)
    base = orthanc(rx.port)
    study_ids = {_http(base + "/instances", Path(p).read_bytes())["ParentStudy"] for p in rt_study.files}
    assert len(study_ids) == 1
    (orthanc_study,) = study_ids
    assert len(_http(f"{base}/studies/{orthanc_study}/instances")) == len(rt_study.files)

    # the PACS pushes the study (C-STORE from Orthanc's SCU to sdu receive)
    _http(f"{base}/modalities/sdu/store", orthanc_study.encode(), content_type="text/plain")

    files = stored_files(store)
    sources = {dataset_bytes(p) for p in rt_study.files}
    received = [dataset_bytes(p) for p in files]
    assert len(received) == len(rt_study.files)
    assert set(received) == sources and len(set(received)) == len(received)

    # a second push (a PACS retrying) stores nothing new
    _http(f"{base}/modalities/sdu/store", orthanc_study.encode(), content_type="text/plain")
    code, report = rx.stop()
    assert code == 0 and report["stored"] == len(rt_study.files) and report["duplicates"] == len(rt_study.files)
    assert len(stored_files(store)) == len(rt_study.files)
