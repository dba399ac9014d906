"""Which action each tag gets, from PS3.15 Table E.1-1 and the chosen options (no pydicom)."""
from __future__ import annotations

from functools import lru_cache

from sdu.standard import annex_e

#: How a combined code is resolved: the alternative that keeps any IOD valid (a dummy beats
#: an empty value, which beats removal) — never less private than the table allows.
COMBINED = {"X/Z": "Z", "X/D": "D", "X/Z/D": "D", "Z/D": "D", "X/Z/U*": "U"}


@lru_cache(maxsize=64)
def plan_for(option_columns: frozenset[str]) -> dict[int, str]:
    """Tag -> action code for every exact row, options applied and combined codes resolved."""
    return {tag: COMBINED.get(a, a) for tag, row in annex_e.exact_rows().items()
            for a in [row.action(option_columns)]}


def repeating_action(tag: int, option_columns: frozenset[str]) -> str | None:
    group = tag >> 16
    if 0x5000 <= group <= 0x60FF:
        for row in annex_e.repeating_rows():
            if row.matches(tag):
                return COMBINED.get(row.action(option_columns), row.action(option_columns))
    return None
