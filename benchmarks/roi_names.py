"""ROI-name suggestions on clinical spellings: first-suggestion accuracy per class, and names per second.

    python benchmarks/roi_names.py [--list tests/validator/data/roi_name_spellings.csv] [--repeat 20]

For each spelling in the test list (class, typed, expected TG-263 name; '' = none exists) the first
suggestion ``validator.classify`` gives (against a protocol with no structures, so TG-263 alone
decides) is compared with the expected name.
``confident`` counts suggestions scoring at least the relabel threshold (what
``sdu relabel --accept-suggestions`` would apply); ``wrong>=thr`` must stay 0. Speed: ``suggest`` on
every spelling, ``--repeat`` passes; 'cold' clears the word caches before each pass.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import time
from collections import defaultdict
from pathlib import Path

from validator import classify, find_protocol, suggest
from validator.relabel import ACCEPT_THRESHOLD

LIST = Path(__file__).resolve().parent.parent / "tests" / "validator" / "data" / "roi_name_spellings.csv"


def load(path: Path) -> list[tuple[str, str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return [(r["class"], r["typed"], r["expected"]) for r in csv.DictReader(lines)]


def bare_protocol():
    """EXAMPLE-PROSTATE without its structures and ignore patterns: suggestions from TG-263 alone."""
    return dataclasses.replace(find_protocol("EXAMPLE-PROSTATE"), structures=(), ignore_patterns=())


def first(typed: str, protocol):
    """(name, score) the report shows first for ``typed``: itself when valid, else the top suggestion."""
    verdict = classify(typed, protocol)
    if verdict.status in ("standard", "synonym"):
        return (verdict.structure or typed), 100.0
    return (verdict.suggestions[0].name, verdict.suggestions[0].score) if verdict.suggestions else (None, 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", type=Path, default=LIST)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    rows = load(args.list)
    protocol = bare_protocol()
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # n, right, confident, wrong>=thr
    misses = []
    for cls, typed, expected in rows:
        name, score = first(typed, protocol)
        right = name == expected if expected else score < ACCEPT_THRESHOLD
        s = stats[cls]
        s[0] += 1
        s[1] += right
        s[2] += score >= ACCEPT_THRESHOLD
        s[3] += score >= ACCEPT_THRESHOLD and name != expected
        if not right:
            misses.append((cls, typed, expected, name, score))
    print(f"{'class':<14}{'n':>5}{'right':>7}{'accuracy':>10}{'confident':>11}{'wrong>=thr':>12}")
    total = [0, 0, 0, 0]
    for cls in sorted(stats):
        s = stats[cls]
        total = [a + b for a, b in zip(total, s)]
        print(f"{cls:<14}{s[0]:>5}{s[1]:>7}{s[1] / s[0]:>10.1%}{s[2]:>11}{s[3]:>12}")
    print(f"{'all':<14}{total[0]:>5}{total[1]:>7}{total[1] / total[0]:>10.1%}{total[2]:>11}{total[3]:>12}")
    for cls, typed, expected, name, score in misses:
        print(f"  miss [{cls}] {typed!r}: expected {expected or '(none)'}, got {name} ({score:.0f})")

    from validator import reading, tokens

    typed_names = [t for _, t, _ in rows]
    for label, cold, proto in (("no trial names, warm word caches", False, protocol),
                               ("no trial names, cold word caches", True, protocol),
                               ("EXAMPLE-HN's names, cold word caches", True, find_protocol("EXAMPLE-HN"))):
        best = float("inf")
        for _ in range(args.repeat):
            if cold:
                tokens._break.cache_clear()
                reading._typo_match.cache_clear()
            t0 = time.perf_counter()
            for t in typed_names:
                suggest(t, proto)
            best = min(best, time.perf_counter() - t0)
        print(f"suggest ({label}): {len(typed_names) / best:,.0f} names/s "
              f"({len(typed_names)} names, best of {args.repeat})")


if __name__ == "__main__":
    main()
