"""Values and rules the two walks share (the Dataset walk's actions and :mod:`.fastpath`).

No pydicom here: the byte path runs without importing it.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

from .dates import DUMMY_DATE
from .pseudonyms import replacement_uid

#: Free-text VRs whose values are scrubbed of the subject's words.
TEXT_VRS = frozenset({"SH", "LO", "ST", "LT", "UT", "UC"})
#: VRs whose values are plain ASCII (judged and replaced without a character set).
ASCII_VRS = frozenset({"UI", "DA", "DT", "TM", "CS", "AS", "IS", "DS"})
#: Action D: a non-identifying dummy of the same VR.
DUMMIES = {
    "PN": "ANONYMISED", "LO": "ANONYMISED", "SH": "ANONYMISED", "ST": "ANONYMISED",
    "LT": "ANONYMISED", "UT": "ANONYMISED", "UC": "ANONYMISED", "CS": "ANONYMISED",
    "AE": "ANONYMISED", "DA": DUMMY_DATE, "TM": "000000", "DT": DUMMY_DATE + "000000",
    "AS": "000D", "IS": "0", "DS": "0", "UR": "", "US": 0, "SS": 0, "UL": 0, "SL": 0,
    "FL": 0.0, "FD": 0.0,
}
STANDARD_ROOT = "1.2.840.10008."


@lru_cache(maxsize=1)
def class_uid_tags() -> frozenset[int]:
    """Tags of UI attributes naming a class, scheme or implementation: never remapped."""
    doc = json.loads(files("anonymiser").joinpath("data/class_uid_tags.json").read_text())
    return frozenset(int(t.strip("()").replace(",", ""), 16) for t in doc["tags"].values())


def is_well_known(uid: str) -> bool:
    return uid.startswith(STANDARD_ROOT) or uid == "1.2.840.10008"


def replace_uid(uid: str, ctx) -> str:
    """The keyed replacement of one UID (standard UIDs kept), remembered in ``ctx.uids``."""
    uid = uid.strip("\0 ")
    if not uid or is_well_known(uid):
        return uid
    new = ctx.uids.get(uid)
    if new is None:
        new = ctx.uids[uid] = replacement_uid(ctx.key, uid)
    return new


@lru_cache(maxsize=1)
def safe_private_list() -> frozenset[tuple[str, int]]:
    """(creator, element byte) pairs from ``sdu/standard/data/safe_private.json`` (``xx27`` -> 0x27)."""
    doc = json.loads(files("sdu.standard").joinpath("data/safe_private.json").read_text())
    return frozenset((e["creator"].strip(), int(e["element"][-2:], 16)) for e in doc["elements"])
