"""The AAPM TG-263 name table (``data/tg263.csv``), read once.

Lookups only: which primary names exist, with what category. The naming *rules* are in
:mod:`validator.rules`.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Tg263Name:
    name: str
    target_type: str
    major_category: str
    anatomic_group: str
    description: str
    laterality: str
    placeholder: bool


@dataclass(frozen=True)
class Tg263Table:
    names: dict[str, Tg263Name]          # exact primary name -> row
    by_folded: dict[str, str]            # casefolded name -> primary name
    patterns: tuple[tuple[re.Pattern, str], ...]  # placeholder rows as regexes (xx -> digits)

    def lookup(self, name: str) -> Tg263Name | None:
        """The row for an exact (case-sensitive) primary name, placeholders included."""
        if name in self.names:
            return self.names[name]
        for pattern, primary in self.patterns:
            if pattern.fullmatch(name):
                return self.names[primary]
        return None

    def fold(self, name: str) -> str | None:
        """The primary name that equals ``name`` ignoring case, if any."""
        return self.by_folded.get(name.casefold())


def _data_text(filename: str) -> str:
    return resources.files("validator").joinpath("data", filename).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def table() -> Tg263Table:
    lines = [line for line in _data_text("tg263.csv").splitlines() if not line.startswith("#")]
    names: dict[str, Tg263Name] = {}
    patterns = []
    for row in csv.DictReader(lines):
        placeholder = "placeholder" in row["note"]
        names[row["name"]] = Tg263Name(row["name"], row["target_type"], row["major_category"],
                                       row["anatomic_group"], row["description"], row["laterality"], placeholder)
        if placeholder:
            regex = re.sub(r"x{2,}", lambda m: r"\d{1,%d}" % len(m.group()), re.escape(row["name"]))
            patterns.append((re.compile(regex), row["name"]))
    folded = {n.casefold(): n for n, row in names.items() if not row.placeholder}
    return Tg263Table(names, folded, tuple(patterns))

