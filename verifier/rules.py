"""The verifier's data files, each read once: what counts as an identifier, the safe private list."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=None)
def _load(name: str) -> dict:
    return json.loads(files("verifier").joinpath(f"data/{name}").read_text(encoding="utf-8"))


def identifier_rules() -> dict:
    """``data/identifier_rules.json``: identifier elements, stop words, name affixes, dummies."""
    return _load("identifier_rules.json")


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """``data/common_words.txt``: the most frequent English words (tools/generate_common_words.py)."""
    text = files("verifier").joinpath("data/common_words.txt").read_text(encoding="utf-8")
    return frozenset(w for w in text.split("\n") if w and not w.startswith("#"))


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    return frozenset(w.lower() for w in identifier_rules()["stop_words"])


@lru_cache(maxsize=1)
def name_affixes() -> frozenset[str]:
    return frozenset(w.lower() for w in identifier_rules()["name_affixes"])


@lru_cache(maxsize=1)
def dummy_values() -> frozenset[str]:
    return frozenset(v.upper() for v in identifier_rules()["dummy_values"])


@lru_cache(maxsize=1)
def non_identifying_uid_keywords() -> frozenset[str]:
    return frozenset(identifier_rules()["non_identifying_uid_keywords"])


@lru_cache(maxsize=1)
def trial_record_keywords() -> frozenset[str]:
    return frozenset(identifier_rules()["trial_record"]["keywords"])


@lru_cache(maxsize=1)
def trial_record_groups() -> frozenset[int]:
    return frozenset(int(g, 16) for g in identifier_rules()["trial_record"]["groups"])


@lru_cache(maxsize=1)
def safe_private() -> frozenset[tuple[str, int, int]]:
    """(creator, group, element low byte) triples allowed under Retain Safe Private (a subset of E.3.10-1)."""
    out = set()
    doc = json.loads(files("sdu.standard").joinpath("data/safe_private.json").read_text())
    for e in doc["elements"]:
        out.add((e["creator"].strip(), int(e["group"], 16), int(e["element"][2:], 16)))
    return frozenset(out)
