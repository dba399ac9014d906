"""Benchmark: ``sdu anonymise`` (verification included) against dicognito and Kitware's
dicom-anonymizer on the same generated 512x512 RT study, with ``cp -r`` as the floor.

    python benchmarks/anonymise.py [--slices 300] [--sweep 100,500,2000] [--no-peers]
    python benchmarks/anonymise.py --rt-batch [--no-peers]
    python benchmarks/anonymise.py --compare a0855bb [--repeat 7]

``--rt-batch``: six patients with RT objects of a real size (a ~10 MB RTDOSE, a ~4 MB RTSTRUCT;
``rt_batch.py``) instead of one generated study.

Prints files/s, MB/s and peak RSS (whole process tree, sampled every 20 ms) per tool. Peers get
their best configuration: each is run as its CLI in one process, and as two processes on two
halves of the study (dicognito with one shared --seed, so UIDs stay consistent) — the faster
counts. Target: sdu >= 2x the files/s of the fastest peer (peers do not verify); sdu's peak
memory flat from 100 to 2,000 files (--sweep).

Besides wall time, each row gives the CPU seconds the run's processes used (user + system, all
processes, median): other work on a shared machine stretches wall time, much less CPU time.
``--compare REV`` runs SDU as of a git revision too (extracted with ``git archive``), interleaved
with today's, so a change is judged in one run under the same load.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import resource

from sdu.studygen import StudySpec, generate_study

BIN = Path(sys.executable).parent


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(cmds: list[list[str]], env=None, cpu: list | None = None) -> tuple[float, int]:
    """Run commands concurrently; return (wall seconds, peak summed RSS of all process trees).
    ``cpu`` gets the CPU seconds (user + system) of all their processes appended."""
    cpu_before = _children_cpu()
    start = time.perf_counter()
    procs = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env) for c in cmds]
    peak, stop = [0], threading.Event()

    def sample():
        ps = [psutil.Process(p.pid) for p in procs]
        while not stop.is_set():
            total = 0
            for p in ps:
                try:
                    total += sum(q.memory_info().rss for q in [p, *p.children(recursive=True)])
                except psutil.Error:
                    pass
            peak[0] = max(peak[0], total)
            time.sleep(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    errs = [p.communicate()[1] for p in procs]
    stop.set()
    t.join()
    wall = time.perf_counter() - start
    if cpu is not None:
        cpu.append(_children_cpu() - cpu_before)
    for p, e in zip(procs, errs):
        if p.returncode not in (0,):
            raise SystemExit(f"{p.args[0]} failed ({p.returncode}): {e.decode(errors='replace')[-500:]}")
    return wall, peak[0]


def flat_study(work: Path, name: str, n_ct: int, size: int) -> Path:
    """A coherent study of n_ct slices (RT objects referencing exactly those), in one flat
    folder (dicom-anonymizer reads only the top level); ``<name>-ct`` beside it holds the CT
    series alone."""
    study = generate_study(work / f"{name}-tree", StudySpec(slices=n_ct, rows=size, columns=size))
    dest, ct_only = work / name, work / f"{name}-ct"
    dest.mkdir(parents=True)
    ct_only.mkdir()
    for p in study.files:
        os.link(p, dest / p.name)
        if p in study.ct:
            os.link(p, ct_only / p.name)
    return dest


def rt_batch_flat(work: Path) -> Path:
    """The six-patient RT batch (``rt_batch.py``) in one flat folder."""
    sys.path.insert(0, str(Path(__file__).parent))
    from rt_batch import make_rt_batch  # noqa: PLC0415

    tree = make_rt_batch(work / "rt-tree")
    dest = work / "rt"
    dest.mkdir()
    for p in sorted(tree.rglob("*.dcm")):
        os.link(p, dest / f"{p.parents[1].name}-{p.name}")
    return dest


def halves(src: Path, work: Path) -> tuple[Path, Path]:
    files = sorted(src.iterdir())
    a, b = work / "half-a", work / "half-b"
    for d, part in ((a, files[::2]), (b, files[1::2])):
        d.mkdir()
        for f in part:
            os.link(f, d / f.name)
    return a, b


def count_outputs(*folders: Path) -> int:
    return sum(1 for f in folders for p in f.rglob("*.dcm"))


def checked(name: str, n: int, *folders: Path) -> None:
    """A peer that wrote fewer files than it was given did not do the work: stop, don't time it."""
    got = count_outputs(*folders)
    if got < n:
        raise SystemExit(f"{name} wrote {got} of {n} files: not a valid run")


def size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def row(name: str, n: int, mb: float, wall: float, rss: int, cpu: float, note: str = "") -> str:
    return f"{name:<34} {n / wall:>9.1f} {mb / wall:>8.1f} {rss / 2**20:>10.0f}  {wall:>7.2f} {cpu:>6.2f}  {note}"


def sdu_at(rev: str, work: Path, root: Path, env: dict) -> Path:
    """SDU as of git revision ``rev``, extracted beside the benchmark (compiled, as installed)."""
    dest = work / f"sdu-{rev}"
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(root), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(dest)], check=False, env=env)
    return dest


#: Runs ``sdu`` from the folder given first (ahead of the current folder and the editable install).
RUN_FROM = "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); runpy.run_module('sdu.cli.main', run_name='__main__')"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--sweep", default="", help="comma-separated CT counts for the memory sweep, e.g. 100,500,2000")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs per tool; the median is shown")
    ap.add_argument("--rt-batch", action="store_true", help="six patients, large RT objects (rt_batch.py)")
    ap.add_argument("--compare", metavar="REV", default="",
                    help="also run SDU as of this git revision, interleaved (same load for both)")
    args = ap.parse_args()
    sweep = [int(s) for s in args.sweep.split(",") if s]
    work = Path(tempfile.mkdtemp(prefix="sdu-bench-"))
    env = {**os.environ, "SDU_SITE_DIR": str(work / "site")}
    # Every tool runs from compiled bytecode, as pip leaves an installed package (the peers'
    # wheels are compiled at install; an editable SDU under PYTHONDONTWRITEBYTECODE would not be).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    *(str(root / d) for d in ("sdu", "anonymiser", "verifier", "validator", "intake", "approval"))],
                   check=False, env=env)
    try:
        t = time.perf_counter()
        if args.rt_batch:
            src = rt_batch_flat(work)
            print(f"generated six patients with large RT objects in {time.perf_counter() - t:.1f} s")
        else:
            src = flat_study(work, "src", args.slices, args.size)
            print(f"generated {args.slices} CT slices {args.size}x{args.size} + RTSTRUCT/RTPLAN/RTDOSE "
                  f"in {time.perf_counter() - t:.1f} s")
        n, mb = len(list(src.iterdir())), size_mb(src)
        print(f"\n{n} files, {mb:.0f} MB; {os.cpu_count()} cores\n")
        print(f"{'tool':<34} {'files/s':>9} {'MB/s':>8} {'peak RSS MB':>10}  {'wall s':>7} {'CPU s':>6}  note")
        sdu_cmd = [str(BIN / "sdu"), "anonymise", str(src), "OUT", "--trial-id", "BENCH",
                   "--site-id", "S1", "--auto-id", "--json"]
        a, b = halves(src, work)
        dicognito = [str(BIN / "python"), "-m", "dicognito", "--quiet", "--seed", "bench"]
        kw = str(BIN / "dicom-anonymizer")  # needs existing output folders, and exits 0 when they are not
        # name -> [(argv with OUT placeholder, input)], note; every run writes to fresh folders
        configs = {
            "cp -r (floor)": ([["cp", "-r", str(src), "OUT"]], ""),
            "sdu anonymise (+verify, 2 workers)": ([sdu_cmd], "verified"),
            "sdu anonymise --no-verify": ([[*sdu_cmd, "--no-verify"]], ""),
        }
        if args.compare:
            old_root = str(sdu_at(args.compare, work, root, env))
            configs[f"sdu @{args.compare} (+verify)"] = (
                [[str(BIN / "python"), "-c", RUN_FROM, old_root, *sdu_cmd[1:]]], "verified, older revision")
        if not args.no_peers:
            configs.update({
                "dicognito 0.19 (1 process)": ([[*dicognito, "-o", "OUT", str(src)]], ""),
                "dicognito 0.19 (2 processes)": ([[*dicognito, "-o", "OUT", str(a)], [*dicognito, "-o", "OUT", str(b)]], ""),
                "dicom-anonymizer 2.1 (1 process)": ([[kw, str(src), "OUT"]], ""),
                "dicom-anonymizer 2.1 (2 processes)": ([[kw, str(a), "OUT"], [kw, str(b), "OUT"]], ""),
            })
        walls: dict[str, list[float]] = {k: [] for k in configs}
        cpus: dict[str, list[float]] = {k: [] for k in configs}
        peaks: dict[str, int] = {k: 0 for k in configs}
        for r in range(args.repeat):  # interleaved, so a slow moment of the machine hits every tool
            for name, (cmds, _) in configs.items():
                outs = [work / f"run-{abs(hash(name))}-{r}-{i}" for i in range(len(cmds))]
                for o in outs:
                    if "dicom-anonymizer" in name:
                        o.mkdir()
                argv = [[str(o) if x == "OUT" else x for x in c] for c, o in zip(cmds, outs)]
                os.sync()  # every tool starts with no dirty pages left by the one before (untimed)
                wall, rss = run_measured(argv, env, cpus[name])
                if name != "cp -r (floor)":
                    checked(name, n, *outs)
                walls[name].append(wall)
                peaks[name] = max(peaks[name], rss)
                for o in outs:
                    shutil.rmtree(o, ignore_errors=True)
        results = {}
        for name, (_, note) in configs.items():
            wall = statistics.median(walls[name])
            results[name] = n / wall
            print(row(name, n, mb, wall, peaks[name], statistics.median(cpus[name]), note))
        if not args.no_peers:
            sdu_rate = results["sdu anonymise (+verify, 2 workers)"]
            best = max((v, k) for k, v in results.items() if not k.startswith(("sdu", "cp")))
            if args.compare:
                old_rate = results[f"sdu @{args.compare} (+verify)"]
                print(f"\nsdu @{args.compare} (verifying) vs fastest peer ({best[1]}): {old_rate / best[0]:.2f}x")
            print(f"\nsdu (verifying) vs fastest peer ({best[1]}): {sdu_rate / best[0]:.2f}x  (target >= 2x): "
                  f"{'MET' if sdu_rate / best[0] >= 2 else 'NOT MET'}   [median of {args.repeat} interleaved runs]")
        try:
            sys.path.insert(0, str(Path(__file__).parent))
            from dicomedit import script_cost_per_file  # noqa: PLC0415
            from anonymiser.dicomedit import default_site_script  # noqa: PLC0415
            cost = script_cost_per_file(sorted(src.iterdir())[:50], default_site_script())
            print(f"DicomEdit site script: {cost * 1000:.2f} ms per file "
                  f"(sdu anonymise: {1000 / results['sdu anonymise (+verify, 2 workers)']:.2f} ms per file, "
                  "wall, 2 workers, verification included)")
        except (ImportError, AttributeError) as exc:
            print(f"(DicomEdit script cost not measured: {exc})")
        if sweep:
            print("\nmemory sweep (sdu anonymise + verify; the RTSTRUCT of an N-slice study grows with N,"
                  " so the CT series alone shows the streaming):")
            print(f"{'slices':>7} {'study: peak RSS MB':>19} {'files/s':>8} {'CT only: peak RSS MB':>21} {'files/s':>8}")
            for k in sweep:
                s = flat_study(work, f"sweep-{k}", k, args.size)
                row_ = []
                for folder in (s, s.with_name(s.name + "-ct")):
                    n_files = len(list(folder.iterdir()))
                    wall, rss = run_measured([[*sdu_cmd[:2], str(folder), str(work / f"out-{folder.name}"),
                                               *sdu_cmd[4:]]], env)
                    checked("sdu", n_files, work / f"out-{folder.name}")
                    row_ += [rss / 2**20, n_files / wall]
                print(f"{k:>7} {row_[0]:>19.0f} {row_[1]:>8.1f} {row_[2]:>21.0f} {row_[3]:>8.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
