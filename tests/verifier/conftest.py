"""Fixtures for the verifier's tests: one generated identifiable study and its clean counterpart."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sdu.studygen import StudySpec, generate_study
from verifier_cleanset import make_clean_set


@pytest.fixture(scope="session")
def source_study(tmp_path_factory):
    """The identifiable originals (read-only for tests: never modify)."""
    return generate_study(tmp_path_factory.mktemp("vsrc"), StudySpec(slices=6, rows=32, columns=32))


@pytest.fixture(scope="session")
def _clean_master(source_study, tmp_path_factory):
    dest = tmp_path_factory.mktemp("vclean") / "out"
    by_modality = make_clean_set(source_study.root, dest)
    return dest, {m: p.relative_to(dest) for m, p in by_modality.items()}


class CleanSet:
    def __init__(self, root: Path, rel: dict[str, Path]):
        self.root = root
        self._rel = rel

    def path(self, modality: str) -> Path:
        return self.root / self._rel[modality]

    def rel(self, modality: str) -> str:
        return str(self._rel[modality])


@pytest.fixture
def clean(_clean_master, tmp_path):
    """A private copy of the clean set; tests plant leaks in it."""
    root, rel = _clean_master
    dest = tmp_path / "clean"
    shutil.copytree(root, dest)
    return CleanSet(dest, rel)
