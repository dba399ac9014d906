"""Cost of the DicomEdit site script per file: SDU's interpreter and NRG's engine (XNAT 6.6.0).

    python benchmarks/dicomedit.py [--slices N]

On a generated 512x512 RT study (CT slices, RTSTRUCT, RTPLAN, RTDOSE) with the shipped site-wide
script, prints ms per file for
  - SDU, the script alone (read excluded): what the anonymiser adds per file;
  - SDU, read + script + write, the same work the engine's job does;
  - NRG's engine (``../shared/oracles/dicomedit6/de6``, or $SDU_SHARED/oracles/dicomedit6), read +
    script + write in one warm JVM: the JVM start and a first warm-up job are not counted.
The anonymiser benchmark imports :func:`script_cost_per_file` and prints it beside its own.
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pydicom

from anonymiser.dicomedit import ScriptContext, default_site_script, load_script

VARIABLES = {"project": "BENCH", "subject": "SUBJ01", "session": "SUBJ01_RT"}
CONTEXT = ScriptContext(variables=VARIABLES)
REPO = Path(__file__).resolve().parents[1]


def script_cost_per_file(paths, script_text: str, context: ScriptContext = CONTEXT) -> float:
    """Mean seconds to apply ``script_text`` to one file; parsing and reading are not timed."""
    script = load_script(script_text, "benchmark.das")
    total, count = 0.0, 0
    for path in paths:
        ds = pydicom.dcmread(path)
        start = time.perf_counter()
        script.apply(ds, context)
        total += time.perf_counter() - start
        count += 1
    return total / count if count else 0.0


def sdu_file_cost(paths, script_text: str, context: ScriptContext = CONTEXT) -> float:
    """Mean seconds to read, apply and write one file (what one engine job does)."""
    script = load_script(script_text, "benchmark.das")
    start = time.perf_counter()
    for path in paths:
        ds = pydicom.dcmread(path)
        script.apply(ds, context)
        ds.save_as(io.BytesIO())
    return (time.perf_counter() - start) / max(1, len(paths))


def oracle() -> Path | None:
    for base in filter(None, [os.environ.get("SDU_SHARED"), str(REPO.parent / "shared")]):
        de6 = Path(base) / "oracles" / "dicomedit6" / "de6"
        if de6.is_file() and shutil.which("java") and shutil.which("javac"):
            return de6
    return None


def engine_file_cost(de6: Path, paths, script_text: str) -> float:
    """Mean seconds per job in a warm JVM (``de6 --batch -``); the JVM start and a first job excluded."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "site.das"
        script.write_text(script_text)
        pairs = ";".join(f"{k}={v}" for k, v in VARIABLES.items())
        proc = subprocess.Popen([str(de6), "--batch", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, bufsize=1)
        try:
            def job(i, path):
                proc.stdin.write(f"{script}\t{path}\t{tmp}/out{i}.dcm\t{pairs}\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
                if not line.startswith("ok "):
                    raise RuntimeError(f"the engine refused a job: {line.strip()}")
            job(-1, paths[0])  # JVM start, class loading, first script parse
            start = time.perf_counter()
            for i, path in enumerate(paths):
                job(i, path)
            return (time.perf_counter() - start) / len(paths)
        finally:
            proc.stdin.close()
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=100)
    args = parser.parse_args()
    from sdu.studygen import StudySpec, generate_study
    text = default_site_script()
    with tempfile.TemporaryDirectory() as tmp:
        study = generate_study(Path(tmp), StudySpec(slices=args.slices, rows=512, columns=512))
        files = list(study.files)
        cost = script_cost_per_file(files, text)
        ct_cost = script_cost_per_file(study.ct, text)
        sdu_total = sdu_file_cost(files, text)
        de6 = oracle()
        engine = engine_file_cost(de6, files, text) if de6 else None
    print(f"DicomEdit site script ({load_script(text).statement_count} statements), {len(files)} files of 512x512:")
    print(f"  SDU script only:            {cost * 1000:7.2f} ms/file (CT only {ct_cost * 1000:.2f}; read excluded)")
    print(f"  SDU read + script + write:  {sdu_total * 1000:7.2f} ms/file")
    if engine is None:
        print("  NRG engine: not measured (no ../shared/oracles/dicomedit6 or no JDK)")
    else:
        print(f"  NRG engine (XNAT 6.6.0), read + script + write, warm JVM: {engine * 1000:7.2f} ms/file "
              f"(SDU is {engine / sdu_total:.1f}x faster)" if sdu_total < engine else
              f"  NRG engine (XNAT 6.6.0), read + script + write, warm JVM: {engine * 1000:7.2f} ms/file "
              f"(SDU is {sdu_total / engine:.1f}x slower)")


if __name__ == "__main__":
    main()
