"""Reading a typed ROI name token by token: what each word says, as canonical tokens and qualifiers.

:class:`Reader` turns a name into a :class:`Reading`: phrases and words through the lexicon
(:mod:`validator.lexicon`) to canonical tokens, laterality/position/"both" words to qualifiers
(``@L @R @I @S @M @B``), numbers and neck/cranial-nerve levels to ``#n``, a PRV margin apart
(``prv3``, ``+5``, ``PRV 0.5cm``), glued words broken (:func:`validator.tokens.break_glued`), and
typos corrected per word with ``rapidfuzz`` (Levenshtein ratio) at a cost in confidence. Every
step that changed a word is kept as an explanation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from .lexicon import Lexicon
from .tokens import _ROMAN_LEVEL, break_glued, words

GUESSED_MARGIN_PENALTY = 6.0  # '5mm' typed with no 'PRV' or '+'
BARE_PRV_PENALTY = 6.0        # 'PRV' typed with no margin: TG-263 wants the mm
TYPO_CUTOFF = 80.0
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11, "xii": 12}
LEVEL_CONTEXT = frozenset({"ln", "lnn", "lymph", "node", "nodes", "nodal", "neck", "level", "lvl", "lev", "lv", "cn", "cranial",
                           "ax", "axl", "axilla", "axillary"})
_NUMBER = re.compile(r"\d+(?:p\d+)?")


@dataclass(frozen=True)
class Reading:
    """What a typed name says, token by token."""

    key: frozenset[str]            # canonical tokens and @qualifiers
    margin: int | None             # PRV margin in mm; -1: 'PRV' with no number; None: no PRV
    unknown: tuple[str, ...]       # words nothing could read
    typo_penalty: float
    steps: tuple[str, ...]         # explanation, one entry per word that was not taken as typed


@dataclass(frozen=True)
class Vocab:
    known: frozenset[str]          # every word the reader understands as typed
    canonical: frozenset[str]      # words that are tokens themselves
    sides: frozenset[str]
    typo_choices: tuple[str, ...]


def _num(text: str) -> str:
    m = re.fullmatch(r"(\d+)([abc]?)", text)
    return f"#{int(m.group(1))}{m.group(2)}"


def _roman(text: str) -> str:
    m = re.fullmatch(r"([ivx]+)([abc]?)", text)
    return f"#{ROMAN[m.group(1)]}{m.group(2)}"


def _emit(tokens: tuple[str, ...], out: list[str], quals: set[str]) -> None:
    for t in tokens:
        (quals.add(t[1:]) if t.startswith("@") else out.append(t))


class Reader:
    def __init__(self, lex: Lexicon, vocab: Vocab, strict: bool):
        """``strict``: no typo correction (how TG-263's own names and descriptions are read)."""
        self.lex, self.vocab, self.strict = lex, vocab, strict

    def read(self, name: str) -> Reading:
        lex = self.lex
        raw = words(name)
        steps: list[str] = []
        raw = self._unglue(raw, steps)
        context = any(w in LEVEL_CONTEXT for w in raw)
        margin, used = self._margin(raw, steps)
        out: list[str] = []
        quals: set[str] = set()
        unknown: list[str] = []
        penalty = (0.0 if margin is None else BARE_PRV_PENALTY if margin < 0
                   else 0.0 if self._has_margin_word(raw) else GUESSED_MARGIN_PENALTY)
        i, n = 0, len(raw)
        while i < n:
            if i in used:
                i += 1
                continue
            span = self._phrase(raw, i, used)
            if span:
                size, tokens = span
                _emit(tokens, out, quals)
                steps.append(f"{' '.join(raw[i:i + size])!r} → {self._show(tokens)} (phrase)")
                i += size
                continue
            w = raw[i]
            i += 1
            if w[0].isdigit():
                out.append(_num(w.split("p")[0]))
            elif context and re.fullmatch(r"l\d", w):
                out.append(f"#{w[1]}")  # 'LN_Ax_L1': level 1, not vertebra L1
                steps.append(f"{w!r} → level {w[1]}")
            elif context and _ROMAN_LEVEL.fullmatch(w) and re.fullmatch(r"[ivx]+[abc]?", w):
                out.append(_roman(w))
                steps.append(f"{w!r} → level {_roman(w)[1:].upper()}")
            elif w in ("a", "v") and n > 1:
                out.append("artery" if w == "a" else "vein")
            elif w in ("i", "s", "m") and i == n and n > 1:
                quals.add(w.upper())
            elif w in lex.laterality:
                quals.add(lex.laterality[w])
                steps.append(f"{w!r} → laterality {lex.laterality[w]}")
            elif w in lex.position:
                quals.add(lex.position[w])
                steps.append(f"{w!r} → position {lex.position[w]}")
            elif w in lex.both:
                quals.add("B")
                steps.append(f"{w!r} → both sides/total")
            elif w in lex.stopwords or w in lex.units or w in lex.margin_words:
                continue
            elif not self._word(w, out, quals, steps):
                fixed = None if self.strict else self._typo(w)
                if fixed is None:
                    unknown.append(w)
                    continue
                word, ratio, cost = fixed
                penalty += cost
                self._word(word, out, quals, [])
                steps.append(f"{w!r} → {word} (typo, {ratio:.0f}% alike)")
        if quals & {"L", "R"}:
            quals.discard("B")
        key = frozenset(out) | {f"@{q}" for q in quals}
        return Reading(key, margin, tuple(unknown), penalty, tuple(steps))

    # -- pieces -----------------------------------------------------------------------------
    def _unglue(self, raw: list[str], steps: list[str]) -> list[str]:
        out = []
        for w in raw:
            if w.isalpha() and w not in self.vocab.known and len(w) > 3:
                pieces = break_glued(w, self.vocab.known, self.vocab.sides)
                if pieces:
                    steps.append(f"{w!r} → {' + '.join(pieces)} (split)")
                    out.extend(pieces)
                    continue
            out.append(w)
        return out

    def _has_margin_word(self, raw: list[str]) -> bool:
        return any(w in self.lex.margin_words for w in raw)

    def _margin(self, raw: list[str], steps: list[str]) -> tuple[int | None, set[int]]:
        """The PRV margin in mm and the word positions it used (``prv3``, ``+5``, ``PRV 05 mm``)."""
        lex = self.lex
        marks = [j for j, w in enumerate(raw) if w in lex.margin_words]
        numbers = [k for k, w in enumerate(raw) if _NUMBER.fullmatch(w)]
        for j in marks:
            near = [k for k in (j + 1, j - 1) if k in numbers]
            for k in near or (numbers if len(numbers) == 1 else []):
                used = {j, k}
                unit = 1
                if k + 1 < len(raw) and raw[k + 1] in lex.units:
                    unit = lex.units[raw[k + 1]]
                    used.add(k + 1)
                mm = round(float(raw[k].replace("p", ".")) * unit)
                typed = " ".join(raw[i] for i in sorted(used)).replace("p", ".")
                steps.append(f"{typed!r} → PRV margin {mm} mm")
                return mm, used
        if marks:
            steps.append(f"{raw[marks[0]]!r} → PRV (no margin given)")
            return -1, set(marks)
        for k in range(len(raw) - 1):  # '5mm' after an organ, no PRV word: a guess
            if _NUMBER.fullmatch(raw[k]) and raw[k + 1] in lex.units and k > 0:
                mm = round(float(raw[k].replace("p", ".")) * lex.units[raw[k + 1]])
                steps.append(f"{raw[k]}{raw[k + 1]!r} → PRV margin {mm} mm (guessed: no 'PRV' typed)")
                return mm, {k, k + 1}
        return None, set()

    def _phrase(self, raw: list[str], i: int, used: set[int]) -> tuple[int, tuple[str, ...]] | None:
        for size in range(min(self.lex.longest_phrase, len(raw) - i), 1, -1):
            if any(j in used for j in range(i, i + size)):
                continue
            tokens = self.lex.phrases.get(tuple(raw[i:i + size]))
            if tokens:
                return size, tokens
        return None

    def _word(self, w: str, out: list[str], quals: set[str], steps: list[str]) -> bool:
        lex = self.lex
        if w in lex.words:
            tokens = lex.words[w]
            _emit(tokens, out, quals)
            if tokens != (w,):
                steps.append(f"{w!r} → {self._show(tokens)} (lexicon)")
            return True
        if w in lex.plurals:
            out.append(lex.plurals[w])
            quals.add("B")
            steps.append(f"{w!r} → {lex.plurals[w]}, plural")
            return True
        canonical = self.vocab.canonical
        if w in canonical:
            out.append(w)
            return True
        for single in (w[:-3] + "y" if w.endswith("ies") else None, w[:-1] if w.endswith("s") else None):
            if single and len(single) > 2 and (single in canonical or single in lex.words):
                before = len(out)
                self._word(single, out, quals, [])
                quals.add("B")
                steps.append(f"{w!r} → {' '.join(out[before:]) or single}, plural")
                return True
        return False

    def _typo(self, w: str) -> tuple[str, float, float] | None:
        if len(w) < 4 or not w.isalpha():
            return None
        found = _typo_match(w, self.vocab.typo_choices)
        if not found:
            return None
        word, ratio, _ = found[0]
        clear = len(found) == 1 or found[1][1] < ratio - 5
        cost = 3.0 if (clear and len(w) >= 7 and ratio >= 90) else 8.0 + max(0.0, 90 - ratio) / 2
        return word, ratio, cost if clear else cost + 10

    @staticmethod
    def _show(tokens: tuple[str, ...]) -> str:
        sides = {"@B": "(both)", "@L": "(side L)", "@R": "(side R)"}
        return " ".join(t if not t.startswith("@") else sides.get(t, f"(position {t[1:]})") for t in tokens)


@lru_cache(maxsize=8192)
def _typo_match(word: str, choices: tuple[str, ...]) -> list:
    """The two known words most like ``word`` (Levenshtein ratio, at least TYPO_CUTOFF)."""
    return process.extract(word, choices, scorer=fuzz.ratio, limit=2, score_cutoff=TYPO_CUTOFF)
