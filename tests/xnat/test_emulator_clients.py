"""Fidelity: xnatpy and pyxnat, two independent clients, run the same scenario against the
emulator and see the same archive (scenario.py); plus the emulator's XNAT behaviours SDU relies on:
authentication (basic, JSESSIONID, alias tokens, 401/403), import semantics (overwrite none /
append / delete, prearchive and the archive service), catalog checksums, the request log."""
from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
import zipfile

import pydicom
import pytest
import requests

from sdu.studygen import StudySpec, generate_study

from xnat_scenario import ADMIN, NOTE, PASSWORD, dicom_zip, run_pyxnat, run_xnatpy


@pytest.fixture
def study(tmp_path):
    return generate_study(tmp_path / "study", StudySpec(slices=4, rows=16, columns=16))


@pytest.mark.parametrize("client", [run_xnatpy, run_pyxnat], ids=["xnatpy", "pyxnat"])
def test_two_clients_run_the_same_scenario(client, xnat_server, study):
    names = {"src": "SRC", "dest": "DEST", "subject": "SUBJ01", "manual": "SESS_A", "imported": "SESS_B"}
    result = client(xnat_server.url, ADMIN, PASSWORD, names, dicom_zip(study.files))
    assert result == {"listed": {"notes.csv": len(NOTE)}, "scans": 4, "scan_files": len(study.files),
                      "shared_same_files": True, "shared_id": True}
    # Both clients leave the same archive behind: one subject, two sessions, shared once.
    a = xnat_server.archive
    (subject,) = a.subjects.values()
    assert subject.label == "SUBJ01" and subject.shares == {"DEST": "SUBJ01"}
    assert sorted(e.label for e in a.experiments.values()) == ["SESS_A", "SESS_B"]
    imported = next(e for e in a.experiments.values() if e.label == "SESS_B")
    assert imported.xsi_type == "xnat:ctSessionData" and imported.shares == {"DEST": "SESS_B"}
    # One scan per series, scan ID = SeriesNumber, files byte-identical to what was sent.
    series = {}
    for p in study.files:
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        series.setdefault(str(ds.SeriesNumber), set()).add(hashlib.md5(p.read_bytes()).hexdigest())
    stored = {sid: {hashlib.md5(d).hexdigest() for d in s.resources["DICOM"].files.values()}
              for sid, s in imported.scans.items()}
    assert stored == series


def _get(emu, path, **kw):
    return requests.get(emu.url + path, timeout=10, **kw)


def test_authentication_basic_jsession_and_alias_tokens(xnat_server):
    emu = xnat_server
    assert _get(emu, "/data/projects").status_code == 401
    assert _get(emu, "/data/projects", auth=(ADMIN, "wrong")).status_code == 401
    r = _get(emu, "/data/projects", auth=(ADMIN, PASSWORD), params={"format": "json"})
    assert r.status_code == 200 and {p["ID"] for p in r.json()["ResultSet"]["Result"]} == {"SITE01", "TRIAL"}
    jsession = _get(emu, "/data/JSESSION", auth=(ADMIN, PASSWORD)).text
    assert len(jsession) == 32
    assert _get(emu, "/data/projects", cookies={"JSESSIONID": jsession}).status_code == 200
    requests.delete(emu.url + "/data/JSESSION", cookies={"JSESSIONID": jsession}, timeout=10)
    assert _get(emu, "/data/projects", cookies={"JSESSIONID": jsession}).status_code == 401
    token = _get(emu, "/data/services/tokens/issue", auth=(ADMIN, PASSWORD)).json()
    assert set(token) >= {"alias", "secret", "estimatedExpirationTime"}
    assert _get(emu, "/data/auth", auth=(token["alias"], token["secret"])).text == f"User '{ADMIN}' is logged in"
    # A user without access to a project gets 403 there, 200 on its own.
    emu.add_user("site", "site-pw", {"SITE01"})
    assert _get(emu, "/data/projects/TRIAL", auth=("site", "site-pw")).status_code == 403
    assert _get(emu, "/data/projects/SITE01", auth=("site", "site-pw")).status_code == 200
    assert _get(emu, "/data/projects/NOPE", auth=(ADMIN, PASSWORD)).status_code == 404


def _import(emu, body, **params):
    return requests.post(emu.url + "/data/services/import", params={"import-handler": "DICOM-zip", **params},
                         data=body, auth=(ADMIN, PASSWORD), headers={"Content-Type": "application/zip"}, timeout=30)


def test_import_overwrite_semantics_and_prearchive(xnat_server, study):
    emu, zipped = xnat_server, dicom_zip(study.files)
    dest = "/archive/projects/SITE01/subjects/S1/experiments/E1"
    first = _import(emu, zipped, dest=dest)
    assert first.status_code == 200 and first.text.strip() == "/data/archive/projects/SITE01/subjects/S1/experiments/E1"
    assert _import(emu, zipped, dest=dest).status_code == 409  # overwrite=none: the session exists
    assert _import(emu, zipped, dest=dest, overwrite="append").status_code == 200  # same files: no duplicates
    (exp,) = emu.archive.experiments.values()
    assert sum(len(s.resources["DICOM"].files) for s in exp.scans.values()) == len(study.files)
    ct_only = dicom_zip(study.ct)
    assert _import(emu, ct_only, dest=dest, overwrite="delete").status_code == 200
    assert sum(len(s.resources["DICOM"].files) for s in exp.scans.values()) == len(study.ct)
    # Not DICOM: 400, unless Ignore-Unparsable.
    junk = io.BytesIO()
    with zipfile.ZipFile(junk, "w") as z:
        z.writestr("readme.txt", "not dicom")
    assert _import(emu, junk.getvalue(), dest="/archive/projects/SITE01").status_code == 400
    # Prearchive: listed, then archived through the archive service.
    pre = _import(emu, zipped, dest="/prearchive/projects/SITE01", subject="S2", session="E2")
    assert pre.status_code == 200 and pre.text.startswith("/data/prearchive/projects/SITE01/")
    rows = _get(emu, "/data/prearchive/projects/SITE01", auth=(ADMIN, PASSWORD)).json()["ResultSet"]["Result"]
    assert [(r["subject"], r["name"], r["status"]) for r in rows] == [("S2", "E2", "READY")]
    done = requests.post(emu.url + "/data/services/archive", params={"src": rows[0]["url"]},
                         auth=(ADMIN, PASSWORD), timeout=30)
    assert done.status_code == 200 and done.text.strip().endswith("/subjects/S2/experiments/E2")
    assert not emu.archive.prearchive
    # Direct-Archive sends a /prearchive destination straight to the archive.
    direct = _import(emu, zipped, dest="/prearchive/projects/SITE01", subject="S3", session="E3",
                     **{"Direct-Archive": "true"})
    assert direct.text.strip() == "/data/archive/projects/SITE01/subjects/S3/experiments/E3"


def test_catalog_lists_sizes_and_md5_and_the_request_log_counts_bytes(xnat_server):
    emu = xnat_server
    auth = (ADMIN, PASSWORD)
    requests.put(emu.url + "/data/projects/SITE01/subjects/S1", auth=auth, timeout=10)
    requests.put(emu.url + "/data/projects/SITE01/subjects/S1/experiments/E1",
                 params={"xsiType": "xnat:ctSessionData"}, auth=auth, timeout=10)
    uri = emu.url + "/data/projects/SITE01/subjects/S1/experiments/E1/resources/NOTES/files/a.csv"
    emu.clear_requests()
    assert requests.put(uri, data=NOTE, auth=auth, timeout=10).status_code == 200
    assert requests.put(uri, data=NOTE, auth=auth, timeout=10).status_code == 409  # exists, no overwrite
    assert requests.put(uri, data=NOTE, params={"overwrite": "true"}, auth=auth, timeout=10).status_code == 200
    (row,) = _get(emu, "/data/experiments/" + next(iter(emu.archive.experiments)) + "/resources/NOTES/files",
                  auth=auth).json()["ResultSet"]["Result"]
    assert row["Name"] == "a.csv" and row["Size"] == str(len(NOTE)) and row["digest"] == hashlib.md5(NOTE).hexdigest()
    log = requests.get(emu.url + "/emulator/requests", timeout=10).json()
    assert [(e["method"], e["status"], e["bytes_in"]) for e in log[:3]] == [
        ("PUT", 200, len(NOTE)), ("PUT", 409, len(NOTE)), ("PUT", 200, len(NOTE))]
    assert all(PASSWORD not in str(e) for e in log)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runs_on_its_own_with_admin_from_the_environment():
    port = _free_port()
    env = {**os.environ, "XNATEMU_USER": "root", "XNATEMU_PASS": "from-env"}
    proc = subprocess.Popen([sys.executable, "-m", "xnatemu", "--host", "127.0.0.1", "--port", str(port),
                             "--project", "P1"], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert "XNAT emulator on" in proc.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        r = requests.get(url + "/data/projects", auth=("root", "from-env"), timeout=10)
        assert [p["ID"] for p in r.json()["ResultSet"]["Result"]] == ["P1"]
        assert requests.get(url + "/data/projects", auth=("admin", "admin"), timeout=10).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    missing = subprocess.run([sys.executable, "-m", "xnatemu"], env={k: v for k, v in os.environ.items()
                                                                       if not k.startswith("XNATEMU_")},
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode != 0 and "XNATEMU_USER" in missing.stderr
