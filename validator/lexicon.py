"""The ROI-name lexicon (``data/lexicon.json``), read once: what typed words mean as TG-263 name parts.

Data, not code: laterality and position words, "both/total" words, PRV margin words, stopwords,
category words that may be left out (``soft``), multi-word ``phrases`` and single ``words`` mapped to
canonical tokens, irregular plurals, and per-name ``overrides``/``phrasings``. Canonical tokens are
lower-case words; ``@L @R @I @S @M @B`` are qualifiers (side, position, both) and ``#n`` a number.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from .tg263 import _data_text


@dataclass(frozen=True)
class Lexicon:
    laterality: dict[str, str]
    position: dict[str, str]
    both: frozenset[str]
    margin_words: frozenset[str]
    units: dict[str, int]
    stopwords: frozenset[str]
    soft: frozenset[str]
    phrases: dict[tuple[str, ...], tuple[str, ...]]
    words: dict[str, tuple[str, ...]]
    plurals: dict[str, str]
    overrides: dict[str, str]
    phrasings: dict[str, tuple[str, ...]]
    longest_phrase: int


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    data = json.loads(_data_text("lexicon.json"))
    phrases = {tuple(k.split()): tuple(v.split()) for k, v in data["phrases"].items()}
    return Lexicon(
        laterality=dict(data["laterality"]),
        position=dict(data["position"]),
        both=frozenset(data["both"]),
        margin_words=frozenset(data["margin_words"]),
        units=dict(data["units"]),
        stopwords=frozenset(data["stopwords"]),
        soft=frozenset(data["soft"]),
        phrases=phrases,
        words={k: tuple(v.split()) for k, v in data["words"].items()},
        plurals=dict(data["plurals"]),
        overrides=dict(data["overrides"]),
        phrasings={k: tuple(v) for k, v in data["phrasings"].items()},
        longest_phrase=max(len(k) for k in phrases),
    )
