"""The DICOM data dictionary (PS3.6 Table 6-1) as the verifier looks it up: keyword and VR of a tag.

``data/dicom_dictionary.json`` is pydicom's own table (``tools/generate_dicom_dictionary.py``), so
these lookups answer exactly as ``pydicom.datadict`` does (repeating groups such as ``60xx`` by
the same masks, in the same order), without importing pydicom: the verifier's byte reader runs
beside the anonymiser's workers and should not spend a fifth of a second of CPU loading it.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

__all__ = ["dictionary_vr", "has_tag", "keyword_for_tag", "repeater_has_tag", "tag_for_keyword"]


@lru_cache(maxsize=1)
def _table() -> tuple[dict[int, tuple[str, str]], list[tuple[int, int, str, str]], dict[str, int]]:
    doc = json.loads(files("verifier").joinpath("data/dicom_dictionary.json").read_text(encoding="utf-8"))
    tags = {int(tag, 16): (vr, keyword) for tag, (vr, keyword) in doc["tags"].items()}
    repeaters = [(int(mask.replace("x", "0"), 16), int("".join("F0"[c == "x"] for c in mask), 16), vr, keyword)
                 for mask, vr, keyword in doc["repeaters"]]
    keywords = {keyword: tag for tag, (_, keyword) in tags.items()}  # as pydicom's keyword_dict
    return tags, repeaters, keywords


def _entry(tag: int) -> tuple[str, str] | None:
    """(VR, keyword) of a public tag, a repeating-group entry matched by mask; None: not in the dictionary."""
    tags, repeaters, _ = _table()
    entry = tags.get(tag)
    if entry is not None:
        return entry
    if (tag >> 16) & 1:
        return None
    for mask1, mask2, vr, keyword in repeaters:
        if (tag ^ mask1) & mask2 == 0:
            return vr, keyword
    return None


def keyword_for_tag(tag: int) -> str:
    """The tag's keyword, "" when it has none (as ``pydicom.datadict.keyword_for_tag``)."""
    entry = _entry(tag)
    return entry[1] if entry is not None else ""


def dictionary_vr(tag: int) -> str:
    """The dictionary's VR (``"US or SS"`` kept as written); raises KeyError for an unknown tag."""
    entry = _entry(tag)
    if entry is None:
        raise KeyError(tag)
    return entry[0]


def tag_for_keyword(keyword: str) -> int | None:
    return _table()[2].get(keyword)


def has_tag(tag: int) -> bool:
    """In the main dictionary (as ``pydicom.datadict.dictionary_has_tag``)."""
    return tag in _table()[0]


def repeater_has_tag(tag: int) -> bool:
    """A repeating-group entry matches (as ``pydicom.datadict.repeater_has_tag``)."""
    return any((tag ^ mask1) & mask2 == 0 for mask1, mask2, _, _ in _table()[1])
