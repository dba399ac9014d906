"""Benchmark: MB/s of ``sdu upload`` to the XNAT emulator against a raw HTTP POST of the same
bytes to the same server in the same run.

    python benchmarks/upload.py [--slices 200] [--size 512] [--repeat 7]

The study is generated, anonymised and approved once (not timed). ``sdu upload`` (the library call
the CLI makes) is timed whole: the approval gate before connecting, xnatpy's login, the zip made
while it is sent with every file's SHA-256 checked against the approval before its bytes leave,
the import service, the attachments (also checked), the sharing, the remote check in both projects
and the logout. The raw peer is a best case: ``requests`` on one kept-alive session posting a
prebuilt zip of the same DICOM bytes (built outside the timing, sent with a Content-Length) to the
same import service of the same server and putting the same attachments, nothing else. Runs
alternate (sdu, raw, sdu, raw, ...), each into a fresh session; best and median of ``--repeat``
runs are shown side by side, with the split of sdu's median run. Target: sdu >= 80 % of the raw
MB/s.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, default=200)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdu-bench-upload-"))
    os.environ["SDU_SITE_DIR"] = str(work / "site")
    os.environ["SDU_XNAT_USER"], os.environ["SDU_XNAT_PASS"] = "bench", "bench-pw"

    from anonymiser import AnonymiseOptions, anonymise_folder
    from approval import approve
    from sdu.studygen import StudySpec, generate_study
    from uploader import UploadOptions, upload
    import xnat  # noqa: F401 - imported as a process starts, outside either side's timing

    study = generate_study(work / "study", StudySpec(slices=args.slices, rows=args.size, columns=args.size))
    out = work / "out"
    anonymise_folder(study.root, out, AnonymiseOptions(trial_id="BENCH", site_id="SITE"))
    approve(out, "bench")
    dicom = sorted(p for p in out.rglob("*.dcm"))
    others = sorted(p for p in out.rglob("*") if p.is_file() and p.suffix != ".dcm")
    total = sum(p.stat().st_size for p in dicom + others)
    zipped = work / "raw.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_STORED) as z:
        for p in dicom:
            z.write(p, p.relative_to(out).as_posix())

    sdu_runs, raw_runs = [], []
    port = _free_port()
    env = {**os.environ, "XNATEMU_USER": "bench", "XNATEMU_PASS": "bench-pw"}
    server = subprocess.Popen([sys.executable, "-m", "xnatemu", "--port", str(port), "--project", "SITE",
                               "--project", "TRIAL"], env=env, stdout=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        server.stdout.readline()
        for run in range(args.repeat):
            for p in (work / "site" / "uploads").glob("*.json"):
                p.unlink()
            start = time.perf_counter()
            result = upload(out, UploadOptions(url, "SITE", "TRIAL"))
            sdu_runs.append((time.perf_counter() - start, result.phases))
            assert result.ok and not result.resumed
            http = requests.Session()
            http.auth = ("bench", "bench-pw")
            http.delete(f"{url}/data/projects/SITE/subjects/{result.subject}").raise_for_status()
            start = time.perf_counter()
            with open(zipped, "rb") as f:
                r = http.post(url + "/data/services/import", data=f, headers={"Content-Type": "application/zip"},
                              params={"import-handler": "DICOM-zip", "overwrite": "append", "Direct-Archive": "true",
                                      "dest": f"/archive/projects/SITE/subjects/RAW/experiments/RAW{run}"})
            r.raise_for_status()
            for p in others:
                with open(p, "rb") as f:
                    http.put(f"{url}/data/projects/SITE/subjects/RAW/experiments/RAW{run}/resources/R/files/"
                             f"{p.name}", data=f, params={"overwrite": "true"}).raise_for_status()
            raw_runs.append(time.perf_counter() - start)
            http.delete(f"{url}/data/projects/SITE/subjects/RAW").raise_for_status()
            http.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    mb = total / 1e6
    sdu_times = sorted(t for t, _ in sdu_runs)
    best_sdu, med_sdu = sdu_times[0], statistics.median(sdu_times)
    best_raw, med_raw = min(raw_runs), statistics.median(raw_runs)
    print(f"{len(dicom)} DICOM + {len(others)} other files, {mb:.1f} MB, {args.repeat} alternating runs each")
    print("             best            median")
    print(f"sdu upload : {best_sdu:5.2f} s {mb / best_sdu:6.1f} MB/s  {med_sdu:5.2f} s {mb / med_sdu:6.1f} MB/s"
          "  (gate, login, checked zip, import, attachments, share, remote checks, logout)")
    print(f"raw POST   : {best_raw:5.2f} s {mb / best_raw:6.1f} MB/s  {med_raw:5.2f} s {mb / med_raw:6.1f} MB/s"
          "  (the same bytes, same server, one kept-alive session)")
    print(f"sdu / raw  : {100 * best_raw / best_sdu:5.0f} %            {100 * med_raw / med_sdu:5.0f} %"
          "            (target >= 80 %)")
    phases = min(sdu_runs, key=lambda r: abs(r[0] - med_sdu))[1]
    print("sdu median run, seconds: " + ", ".join(f"{k} {v:.3f}" for k, v in phases.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
