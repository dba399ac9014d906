"""A batch of several patients with RT objects of a real size, for the verify and anonymise benchmarks.

Patient 1 has 14 CT slices, a ~10 MB RTDOSE (100 frames of 160x160, 32 bit) and a ~4 MB RTSTRUCT
(8 ROIs, 70 contours of 3,000 points); the others one CT slice and smaller RT objects (a 1 MB
RTDOSE). Like the real export of the issue: 37 files of six patients.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sdu.studygen import Patient, StudySpec, generate_study

_FAMILIES = ["Quixtable", "Ravensworth", "Oddingley", "Pemberthy", "Scarrowby", "Tillingham"]
_GIVEN = ["Marguerite", "Bartholomew", "Eudora", "Cornelius", "Philippa", "Ignatius"]


def make_rt_batch(dest: Path, patients: int = 6, size: int = 512) -> Path:
    """Write ``patients`` studies below ``dest`` (one folder each); returns ``dest``."""
    for n in range(patients):
        p = replace(Patient(), family=_FAMILIES[n % 6] + ("" if n < 6 else str(n)), given=_GIVEN[n % 6],
                    patient_id=f"HOSP{483920 + n * 7919}", birth_date=f"19{50 + n:02d}0{1 + n % 9}1{n % 10}",
                    accession=f"ACC{7734521 + n}")
        if n == 0:
            spec = StudySpec(slices=14, rows=size, columns=size, patient=p, seed=f"bench-{n}",
                             contour_points=3000, dose_grid=(100, 160, 160))
        else:
            spec = StudySpec(slices=1, rows=size, columns=size, patient=p, seed=f"bench-{n}",
                             contour_points=200, dose_grid=(40, 80, 80))
        generate_study(dest / f"patient{n + 1}", spec)
    return dest
