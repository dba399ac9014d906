"""Split a typed ROI name into lower-case word tokens.

Splits at separators (space, ``_``, ``.``, ``/`` ...), at case changes (``LeftFrontalLobe``), between
letters and digits (``PRV3mm``), keeps ``+`` (a margin) and reads ``-GTV`` as ``minus gtv``. Glued
lower-case words (``nasalcavity``, ``lkidney``) are broken into known words by :func:`break_glued`.
Roman neck levels (``IIa``) and vertebra levels (``T01``, ``C2``) stay whole.
"""
from __future__ import annotations

import re
from functools import lru_cache

_MINUS = re.compile(r"(?i)\s*-\s*(?=(?:GTV|CTV|ITV|PTV)(?![a-z]))")
_SEP = re.compile(r"[\s_.,;:/\\()\[\]{}\-&|=#*'\"]+")
_ROMAN_LEVEL = re.compile(r"(?i)(?:i{1,3}|iv|vi{0,3}|ix|xi{0,2})[abc]?")
_VERTEBRA = re.compile(r"(?i)([ctls])0?(\d{1,2})")
_PIECES = re.compile(r"\d+p\d+|[A-Z]{2,}s(?![a-z])|\d+[abcABC](?![A-Za-z])|\d+(?:st|nd|rd|th)(?![a-z])|\d+|\+|[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")  # '0.5cm' -> '0p5' 'cm' (a point is otherwise a separator)
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")
MIN_PIECE = 3


def words(name: str) -> list[str]:
    """Raw lower-case tokens of ``name`` (no meaning attached yet)."""
    text = _DECIMAL.sub(lambda m: f" {m.group(1)}p{m.group(2)} ", _MINUS.sub(" minus ", name.replace("+", " + ")))
    out: list[str] = []
    for chunk in _SEP.split(text):
        if not chunk:
            continue
        if _ROMAN_LEVEL.fullmatch(chunk) and not chunk.isupper() and not chunk.islower():
            out.append(chunk.lower())  # 'IIa', 'Vb': a level, not 'I'+'Ia'
            continue
        vertebra = _VERTEBRA.fullmatch(chunk)
        if vertebra:
            out.append(vertebra.group(1).lower() + str(int(vertebra.group(2))))
            continue
        for piece in _PIECES.findall(chunk):
            ordinal = _ORDINAL.fullmatch(piece)
            out.append(ordinal.group(1) if ordinal else piece.lower())
    return out


def break_glued(word: str, vocab: frozenset[str], sides: frozenset[str]) -> list[str] | None:
    """``word`` as the fewest known pieces (each at least 3 letters; a side word only first or last).

    ``None`` when no split into known pieces exists (the word stays as typed).
    """
    return _break(word, vocab, sides)


@lru_cache(maxsize=8192)
def _break(word: str, vocab: frozenset[str], sides: frozenset[str]) -> list[str] | None:
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(end):
            head = best[start]
            if head is None:
                continue
            piece = word[start:end]
            edge = start == 0 or end == n
            if not ((len(piece) >= MIN_PIECE and piece in vocab) or (edge and piece in sides)):
                continue
            cand = head + [piece]
            if best[end] is None or len(cand) < len(best[end]):
                best[end] = cand
    result = best[n]
    return result if result and len(result) > 1 else None
