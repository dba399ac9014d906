"""Benchmark `sdu verify` on a generated 512x512 CT study (+ RTSTRUCT, RTPLAN, RTDOSE).

    python benchmarks/verify.py [--slices 300] [--workers 2]

Prints files/s, MB/s and peak RSS of the `sdu verify` process tree for: a clean set (the fast path:
raw scan misses, no value search) and the identifiable input against itself (worst case: every file
hits, every value searched). The clean set comes from the verifier tests' helper, not the anonymiser,
so this runs whether or not the anonymiser is built.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "verifier"))

from sdu.studygen import StudySpec, generate_study  # noqa: E402
from verifier_cleanset import make_clean_set  # noqa: E402


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _run(label: str, folder: Path, against: Path, workers: int) -> None:
    sdu = Path(sys.executable).with_name("sdu")
    cmd = [str(sdu), "verify", str(folder), "--against", str(against), "--json", "--workers", str(workers)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    data = json.loads(out.stdout)
    n, mb = data["files_total"], _size(folder) / 1e6
    print(f"{label:<28} {n:>6} files {dt:7.2f} s {n / dt:8.1f} files/s {mb / dt:8.1f} MB/s "
          f"peak RSS {max(peak, before) / 1024:7.1f} MB  ok={data['ok']} exit={out.returncode}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = generate_study(Path(tmp, "src"), StudySpec(slices=args.slices, rows=512, columns=512)).root
        clean = Path(tmp, "clean")
        make_clean_set(src, clean)
        os.sync()
        print(f"study: {args.slices} CT slices 512x512 + RTSTRUCT/RTPLAN/RTDOSE, {_size(src) / 1e6:.0f} MB; "
              f"workers={args.workers}; cpus={os.cpu_count()}")
        _run("clean set (fast path)", clean, src, args.workers)
        _run("identifiable input (worst)", src, src, args.workers)


if __name__ == "__main__":
    main()
