"""CPU milliseconds per file of the verifier's two passes, in one process (no pool).

    python benchmarks/verify_cpu.py SRC CLEAN [--repeat 3]

gather: the originals' identifiers and UIDs (``collect._collect_batch``) over SRC's CT files;
check: ``filecheck.check_file`` over CLEAN's CT files against all of SRC.
Prints the best of ``--repeat`` runs (other load on the machine only ever adds time).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from sdu.dicomfiles import iter_candidate_files
from verifier.collect import _collect_batch, gather
from verifier.filecheck import check_file


CT_IMAGE_STORAGE = b"1.2.840.10008.5.1.4.1.1.2\x00"


def _ct_files(root: Path) -> list[Path]:
    """Files whose file meta names CT Image Storage (first 512 bytes)."""
    out = []
    for p in iter_candidate_files(root):
        with p.open("rb") as f:
            if CT_IMAGE_STORAGE in f.read(512):
                out.append(p)
    return out


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("src", type=Path)
    ap.add_argument("clean", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    src = _ct_files(args.src)
    orig = gather(args.src, None, None, 1)
    out = _ct_files(args.clean)
    for p in src[:5] + out[:5]:
        p.read_bytes()  # warm caches and lazy imports
    _collect_batch(None, src[:5])
    for p in out[:5]:
        check_file(p, p.name, orig)
    g = _best(lambda: _collect_batch(None, src), args.repeat)
    c = _best(lambda: [check_file(p, p.name, orig) for p in out], args.repeat)
    print(f"gather: {len(src)} files {1000 * g / len(src):.3f} ms CPU/file; "
          f"check: {len(out)} files {1000 * c / len(out):.3f} ms CPU/file")


if __name__ == "__main__":
    main()
