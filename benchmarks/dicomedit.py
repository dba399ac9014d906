"""Cost of the DicomEdit site script per file (reading excluded), for the anonymiser benchmark.

    python benchmarks/dicomedit.py [--slices N]

prints seconds per file for the shipped site-wide script over a generated 512x512 RT study.
The anonymiser benchmark imports :func:`script_cost_per_file` and prints it beside its own.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pydicom

from anonymiser.dicomedit import ScriptContext, default_site_script, load_script

CONTEXT = ScriptContext(variables={"project": "BENCH", "subject": "SUBJ01", "session": "SUBJ01_RT"})


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=100)
    args = parser.parse_args()
    from sdu.studygen import StudySpec, generate_study
    with tempfile.TemporaryDirectory() as tmp:
        study = generate_study(Path(tmp), StudySpec(slices=args.slices, rows=512, columns=512))
        text = default_site_script()
        cost = script_cost_per_file(study.files, text)
        ct_cost = script_cost_per_file(study.ct, text)
    print(f"DicomEdit site script ({load_script(text).statement_count} statements), {len(study.files)} files "
          f"of 512x512: {cost * 1000:.2f} ms/file (CT only {ct_cost * 1000:.2f} ms/file; read time excluded)")


if __name__ == "__main__":
    main()
