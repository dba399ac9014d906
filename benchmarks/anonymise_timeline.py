"""Where the time of one ``sdu anonymise`` run goes: a wall-clock timeline of its phases, the
CPU of the parent process and of its workers, and what each worker's first file cost.

    python benchmarks/anonymise_timeline.py [--slices 300] [--runs 3] [--workers 2]

Runs the real CLI in this process (``sdu anonymise SRC DEST --auto-id --json``) on a generated
study, with timers around the phases of :func:`anonymiser.batch.anonymise_folder`. The wall
figures stretch with the machine's load; CPU seconds much less. ``benchmarks/anonymise.py``
gives the comparison with the peers.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

T0 = time.perf_counter()


def _cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(_child(Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4])))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--slices", type=int, default=300)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sdu-timeline-"))
    os.environ["SDU_SITE_DIR"] = str(work / "site")
    sys.path.insert(0, str(Path(__file__).parent))
    from anonymise import flat_study  # noqa: PLC0415

    src = flat_study(work, "src", args.slices, args.size)
    try:
        for run in range(args.runs):
            print(f"run {run + 1}: {_timeline(src, work / f'out-{run}', args.workers)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _timeline(src: Path, dest: Path, workers: int) -> str:
    """One run in a fresh interpreter (imports as the CLI has them); returns its report."""
    done = subprocess.run([sys.executable, __file__, "--child", str(src), str(dest), str(workers)],
                          capture_output=True, text=True, check=True)
    return done.stdout


def _child(src: Path, dest: Path, workers: int) -> str:
    start = T0  # this script's first line: the interpreter's own start-up (~20 ms) comes before
    marks: list[tuple[float, str]] = []

    def mark(what: str) -> None:
        marks.append((time.perf_counter() - start, what))

    import anonymiser.batch as batch  # noqa: PLC0415
    import anonymiser.single as single  # noqa: PLC0415

    mark("anonymiser imported")
    for name in ("_discover", "_anonymise_all", "_map", "_write_reports", "_verify", "_write_site_report"):
        fn = getattr(batch, name, None)
        if fn is None or name == "_map":  # a generator: its start is when the pool is made, not its end
            continue

        def timed(*a, _fn=fn, _name=name, **k):
            mark(f"{_name} start")
            try:
                return _fn(*a, **k)
            finally:
                mark(f"{_name} end")

        setattr(batch, name, timed)
    first_file = single.anonymise_file
    firsts = os.pipe()

    def anonymise_file(path, settings, _seen=[]):  # noqa: B006 - per worker process: its first file
        if _seen:
            return first_file(path, settings)
        _seen.append(1)
        wall, cpu = time.perf_counter(), time.process_time()
        result = first_file(path, settings)
        os.write(firsts[1], f"{(time.perf_counter() - wall) * 1e3:.1f}/{(time.process_time() - cpu) * 1e3:.1f} ".encode())
        return result

    anonymise_file.__module__, anonymise_file.__qualname__ = first_file.__module__, first_file.__qualname__
    single.anonymise_file = batch.anonymise_file = anonymise_file
    from sdu.cli.main import cli  # noqa: PLC0415

    mark("cli imported")
    argv = ["anonymise", str(src), str(dest), "--trial-id", "BENCH", "--site-id", "S1", "--auto-id", "--json",
            "--workers", str(workers)]
    stdout = sys.stdout
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the --json report
    try:
        cli.main(argv, standalone_mode=False)
    except SystemExit:
        pass
    finally:
        sys.stdout.close()
        sys.stdout = stdout
    mark("done")
    os.close(firsts[1])
    first = os.read(firsts[0], 4096).decode().split()
    lines = [f"{t * 1000:7.1f} ms  {what}" for t, what in marks]
    lines.append(f"CPU: this process {_cpu(resource.RUSAGE_SELF):.3f} s, its workers {_cpu(resource.RUSAGE_CHILDREN):.3f} s")
    lines.append(f"first file per worker (wall/CPU ms): {' '.join(first) or '-'}")
    return "\n" + "\n".join(lines)


if __name__ == "__main__":
    main()
