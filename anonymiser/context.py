"""What element actions share while one dataset is anonymised."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

    from .spellings import Scrubber


@dataclass
class Context:
    key: bytes
    #: Annex E option columns in force (e.g. ``cleanDescOpt``).
    option_columns: frozenset[str]
    #: Days to add to every date (negative), or None when dates are not shifted.
    shift_days: int | None
    #: Finds this subject's identifiers (every spelling) and person names in free text.
    scrub: "Scrubber | None"
    #: (private creator, element byte) pairs kept under Retain Safe Private.
    safe_private: frozenset[tuple[str, int]]
    walk: Callable[["Dataset", "Context"], None] | None
    #: Original -> replacement UIDs met in this dataset (for the linkage store).
    uids: dict[str, str] = field(default_factory=dict)
    #: How often each action ran, by code (for the report).
    counts: Counter = field(default_factory=Counter)
    #: The IOD attribute tree of the level being walked (:mod:`.iod`); None: no IOD rule here.
    iod: dict | None = None
    #: The tree of the dataset's top level (None when non-IOD elements are kept).
    iod_root: dict | None = None
