"""Benchmark `sdu verify` on a generated 512x512 CT study (+ RTSTRUCT, RTPLAN, RTDOSE).

    python benchmarks/verify.py [--slices 300] [--workers 2]
    python benchmarks/verify.py --rt-batch [--workers 2]

Prints files/s, MB/s and peak RSS of the `sdu verify` process tree for: a clean set (the fast path:
raw scan misses, no value search) and the identifiable input against itself (worst case: every file
hits, every value searched). The clean set comes from the verifier tests' helper, not the anonymiser,
so this runs whether or not the anonymiser is built.

``--rt-batch``: six patients in one SRC with RT objects of a real size (:mod:`rt_batch`: a ~10 MB
RTDOSE, a ~4 MB RTSTRUCT). Besides the two runs, prints in-process CPU milliseconds per file by
modality: the whole check (``filecheck.check_file``) and the raw-byte identifier search alone
(``rawscan.scan`` over the bytes outside pixel data, against every patient's identifiers).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "verifier"))

from sdu.studygen import StudySpec, generate_study  # noqa: E402
from verifier_cleanset import make_clean_set  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from rt_batch import make_rt_batch  # noqa: E402


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _peak_rss(proc: subprocess.Popen) -> int:
    """Peak summed RSS (bytes) of ``proc`` and its children, sampled every 10 ms until it ends."""
    import psutil  # noqa: PLC0415 - the bench extra

    peak, root = 0, psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, sum(q.memory_info().rss for q in [root, *root.children(recursive=True)]))
        except psutil.Error:
            pass
        time.sleep(0.01)
    return peak


def _run(label: str, folder: Path, against: Path, workers: int) -> None:
    sdu = Path(sys.executable).with_name("sdu")
    cmd = [str(sdu), "verify", str(folder), "--against", str(against), "--json", "--workers", str(workers)]
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as stdout:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.DEVNULL)
        peak = _peak_rss(proc) // 1024  # sampled: getrusage would count this process's own memory
        dt = time.perf_counter() - t0
        stdout.seek(0)
        data = json.loads(stdout.read())
    out, before = proc, 0
    n, mb = data["files_total"], _size(folder) / 1e6
    print(f"{label:<28} {n:>6} files {dt:7.2f} s {n / dt:8.1f} files/s {mb / dt:8.1f} MB/s "
          f"peak RSS {max(peak, before) / 1024:7.1f} MB  ok={data['ok']} exit={out.returncode}")


def _cpu_per_file(src: Path, folders: dict[str, Path], repeat: int = 3) -> None:
    """CPU ms per file by modality: whole check and raw identifier search (best of ``repeat``)."""
    import pydicom  # noqa: PLC0415
    from verifier.collect import gather  # noqa: PLC0415
    from verifier.filecheck import check_file  # noqa: PLC0415
    from verifier.rawscan import pixel_value_range, scan, segments  # noqa: PLC0415

    orig = gather(src, None, None, 1)
    matcher = orig.identifiers.matcher(())
    print(f"originals: {orig.counts['identifiers']} identifiers of {len(list(src.iterdir()))} patients")
    print(f"{'set':<14} {'modality':<9} {'files':>5} {'MB/file':>8} {'check ms/file':>14} {'id search ms/file':>18}")
    for label, folder in folders.items():
        by_mod: dict[str, list[Path]] = {}
        for p in sorted(q for q in folder.rglob("*") if q.is_file()):
            by_mod.setdefault(str(pydicom.dcmread(p, stop_before_pixels=True).Modality), []).append(p)
        for mod, paths in sorted(by_mod.items()):
            parts = {}
            for p in paths:
                data = p.read_bytes()
                with open(p, "rb") as f:
                    pydicom.dcmread(f, stop_before_pixels=True)
                    stop = f.tell()
                parts[p] = (data, segments(len(data), pixel_value_range(data, stop)))

            def check():
                for p in paths:
                    check_file(p, p.name, orig)

            def search():
                for data, segs in parts.values():
                    scan(data, segs, matcher, None)

            times = []
            for fn in (check, search):
                best = float("inf")
                for _ in range(repeat):
                    t0 = time.process_time()
                    fn()
                    best = min(best, time.process_time() - t0)
                times.append(1000 * best / len(paths))
            mb = sum(len(d) for d, _ in parts.values()) / len(paths) / 1e6
            print(f"{label:<14} {mod:<9} {len(paths):>5} {mb:>8.2f} {times[0]:>14.2f} {times[1]:>18.2f}")


def _rt_batch(workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = make_rt_batch(Path(tmp, "src"))
        clean = Path(tmp, "clean")
        make_clean_set(src, clean)
        os.sync()
        n = sum(1 for p in src.rglob("*") if p.is_file())
        print(f"RT batch: {n} files of 6 patients, {_size(src) / 1e6:.0f} MB; workers={workers}; cpus={os.cpu_count()}")
        _run("clean set (fast path)", clean, src, workers)
        _run("identifiable input (worst)", src, src, workers)
        _cpu_per_file(src, {"clean set": clean, "identifiable": src})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rt-batch", action="store_true", help="six patients, large RT objects (see rt_batch.py)")
    args = ap.parse_args()
    if args.rt_batch:
        _rt_batch(args.workers)
        return
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
