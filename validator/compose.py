"""Token-level TG-263 suggestions: a typed ROI name -> TG-263 names, each with a confidence and why.

A name is read (:func:`read`) into canonical tokens through the lexicon (:mod:`validator.lexicon`):
phrases and words to tokens, laterality/position/"both" words to qualifiers (``@L @R @I @S @M @B``),
numbers to ``#n``, a PRV margin apart, glued words broken, typos corrected per token (``rapidfuzz``).
Every TG-263 name is read the same way from its own parts, its description column and the
lexicon's phrasings, giving an index from token *sets* to names: word order does not matter, and
the TG-263 name supplies the order. Category words (``gland``, ``muscle``, ``artery`` ...) may be
missing on either side. A PRV margin is composed per TG-263 (``_PRV`` + two-digit mm, before the
side) and the result must pass :func:`validator.rules.check_name`.

Scores (0-100): 95 from a name's own parts, 94 with a category word left out, 93/92 from its
description or a lexicon phrasing; less for a typo, for "both" added or dropped, for a guessed
margin; at most 70 when several names fit; at most 60 when the composed name breaks a rule.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from rapidfuzz import fuzz, process

from .lexicon import Lexicon, lexicon
from .rules import check_name
from .tokens import _ROMAN_LEVEL, break_glued, words
from .tg263 import table

BASE = {0: 95.0, 1: 94.0, 2: 93.0, 3: 92.0}
AMBIGUOUS_CAP = 70.0
INVALID_CAP = 60.0
ADD_BOTH_PENALTY = 10.0   # 'Parotid' with no side read as 'Parotids'
DROP_BOTH_PENALTY = 3.0   # 'both' typed for a name TG-263 has only once
SOFT_PENALTY = 2.0        # a category word typed that the TG-263 name does not carry
GUESSED_MARGIN_PENALTY = 6.0  # '5mm' typed with no 'PRV' or '+'
BARE_PRV_PENALTY = 6.0        # 'PRV' typed with no margin: TG-263 wants the mm
TYPO_CUTOFF = 80.0
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9, "x": 10, "xi": 11, "xii": 12}
LEVEL_CONTEXT = frozenset({"ln", "lnn", "lymph", "node", "nodes", "nodal", "neck", "level", "lvl", "lev", "lv", "cn", "cranial",
                           "ax", "axl", "axilla", "axillary"})
CATEGORY = frozenset({"artery", "vein", "lymph", "node", "muscle", "gland", "bone", "nerve", "space", "cartilage"})
STRICT = frozenset({"artery", "vein", "lymph", "node", "space"})  # typed, the structure must be one
_NUMBER = re.compile(r"\d+(?:p\d+)?")
ORIGIN = {0: "its name parts", 1: "its name parts without the category word"}


@dataclass(frozen=True)
class Reading:
    """What a typed name says, token by token."""

    key: frozenset[str]            # canonical tokens and @qualifiers
    margin: int | None             # PRV margin in mm; -1: 'PRV' with no number; None: no PRV
    unknown: tuple[str, ...]       # words nothing could read
    typo_penalty: float
    steps: tuple[str, ...]         # explanation, one entry per word that was not taken as typed


@dataclass(frozen=True)
class Candidate:
    name: str
    score: float
    explanation: str
    typo: bool = False


@dataclass(frozen=True)
class _Vocab:
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


class _Reader:
    def __init__(self, lex: Lexicon, vocab: _Vocab | None, strict: bool):
        self.lex, self.vocab, self.strict = lex, vocab, strict

    def read(self, name: str) -> Reading:
        lex = self.lex
        raw = words(name)
        steps: list[str] = []
        if self.vocab is not None:
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
        canonical = self.vocab.canonical if self.vocab else frozenset()
        if w in canonical or self.vocab is None:
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
        return " ".join(t if not t.startswith("@") else {"@B": "(both)"}.get(t, f"(side {t[1:]})") for t in tokens)


@lru_cache(maxsize=8192)
def _typo_match(word: str, choices: tuple[str, ...]) -> list:
    """The two known words most like ``word`` (Levenshtein ratio, at least TYPO_CUTOFF)."""
    return process.extract(word, choices, scorer=fuzz.ratio, limit=2, score_cutoff=TYPO_CUTOFF)


@dataclass(frozen=True)
class _Entry:
    prio: int
    names: tuple[str, ...]
    origin: str


@dataclass(frozen=True)
class Engine:
    reader: _Reader
    index: dict[frozenset[str], _Entry]
    soft: frozenset[str]
    own: dict[str, frozenset[str]]  # each TG-263 name's key from its own parts (+ phrasings' category words)

    def lookup(self, key: frozenset[str]) -> tuple[_Entry, float, str] | None:
        """The best index entry for ``key``, trying 'both' added/dropped and category words left out."""
        attempts = [(key, 0.0, "")]
        sides = {"@L", "@R", "@B"}
        if "@B" in key:
            attempts.append((key - {"@B"}, DROP_BOTH_PENALTY, "TG-263 has it once, not per side"))
        elif not key & sides:
            attempts.append((key | {"@B"}, ADD_BOTH_PENALTY, "no side typed: the name for both sides"))
        soft = key & self.soft
        if soft and key - soft - sides - {"@I", "@S", "@M"}:
            for k, p, why in list(attempts):
                attempts.append((k - soft, p + SOFT_PENALTY, why))
        typed = key & CATEGORY
        for k, p, why in attempts:
            entry = self.index.get(k)
            if entry and typed:  # 'iliac nodes' is never an iliac artery, whatever words were left out
                names = tuple(n for n in entry.names if self._fits(n, typed))
                entry = _Entry(entry.prio, names, entry.origin) if names else None
            if entry:
                return entry, p, why
        return None


    def _fits(self, name: str, typed: frozenset[str]) -> bool:
        own = self.own[name] & CATEGORY
        return bool(own & typed) if own else not typed & STRICT


def _register(index: dict, key: frozenset[str], name: str, prio: int, origin: str, soft: frozenset[str]) -> None:
    def put(k, p):
        if not any(not t.startswith("@") for t in k):
            return
        cur = index.get(k)
        if cur is None or p < cur.prio:
            index[k] = _Entry(p, (name,), origin)
        elif p == cur.prio and name not in cur.names:
            index[k] = _Entry(p, cur.names + (name,), cur.origin)

    put(key, prio)
    present = sorted(key & soft)
    for size in range(1, len(present) + 1):
        for drop in combinations(present, size):
            put(key - set(drop), prio + 1)


def _description_texts(description: str) -> list[str]:
    inner = re.findall(r"\(([^)]*)\)", description)
    outer = re.sub(r"\([^)]*\)", " ", description)
    return [t for t in [outer, *inner] if t.strip()]


@lru_cache(maxsize=1)
def engine() -> Engine:
    lex = lexicon()
    rows = table().names
    canonical: set[str] = set()
    for tokens in [*lex.words.values(), *lex.phrases.values()]:
        canonical.update(t for t in tokens if not t.startswith(("@", "#")))
    for row in rows.values():
        for text in (row.name, row.description):
            canonical.update(w for w in words(text) if (w.isalpha() and len(w) > 1) or re.fullmatch(r"[ctls]\d+", w))
    canonical -= set(lex.laterality) | set(lex.position) | lex.both | lex.stopwords | lex.margin_words | set(lex.units)
    known = frozenset(canonical | set(lex.words) | {w for k in lex.phrases for w in k} | set(lex.laterality)
                      | set(lex.position) | lex.both | lex.stopwords | lex.margin_words | set(lex.units) | set(lex.plurals))
    typo_choices = tuple(sorted(w for w in (canonical | set(lex.words)) if len(w) >= 4 and w.isalpha()))
    vocab = _Vocab(known, frozenset(canonical), frozenset(lex.laterality), typo_choices)
    strict = _Reader(lex, vocab, strict=True)
    index: dict[frozenset[str], _Entry] = {}
    own_keys: dict[str, frozenset[str]] = {}
    for row in rows.values():
        if row.placeholder:
            continue
        override = lex.overrides.get(row.name)
        if override == "":
            continue
        own = strict.read(override or row.name)
        own_keys[row.name] = own.key
        _register(index, own.key, row.name, 0, ORIGIN[0], lex.soft)
        quals = {t for t in own.key if t.startswith("@")}
        for text in lex.phrasings.get(row.name, ()):
            said = strict.read(text)
            if not said.unknown:
                _register(index, said.key, row.name, 0, f"the lexicon phrasing {text!r}", lex.soft)
                own_keys[row.name] = own_keys[row.name] | (said.key & CATEGORY)
        for text in _description_texts(row.description):
            said = strict.read(text)
            if said.unknown or said.margin is not None:
                continue
            key = said.key - {"@L", "@R", "@B"} | quals if quals & {"@L", "@R", "@B"} else said.key | quals
            _register(index, key, row.name, 2, f"its description {text.strip()!r}", lex.soft)
    return Engine(_Reader(lex, vocab, strict=False), index, lex.soft, own_keys)


def read(name: str) -> Reading:
    return engine().reader.read(name)


def _with_margin(name: str, margin: int) -> str:
    prv = "_PRV" if margin < 0 else f"_PRV{margin:02d}"
    side = re.search(r"_[LRISM]$", name)
    return name[: side.start()] + prv + side.group() if side else name + prv


def candidates(typed: str) -> list[Candidate]:
    """TG-263 names for a typed organ/helper name, best first (empty when nothing reads safely)."""
    typed = typed.strip()
    if not typed:
        return []
    if table().lookup(typed) and check_name(typed).standard:
        return [Candidate(typed, 100.0, "a TG-263 name as it stands")]
    eng = engine()
    reading = eng.reader.read(typed)
    if reading.unknown or not reading.key:
        return []
    found = eng.lookup(reading.key)
    if not found:
        return []
    entry, penalty, why = found
    score = BASE[entry.prio] - penalty - reading.typo_penalty
    steps = list(reading.steps)
    if why:
        steps.append(why)
    out = []
    for name in entry.names:
        final = name if reading.margin is None else _with_margin(name, reading.margin)
        s = score if len(entry.names) == 1 else min(score, AMBIGUOUS_CAP)
        origin = entry.origin if entry.prio % 2 == 0 else f"{entry.origin}, category word left out"
        notes = [f"TG-263 {name} (by {origin})"]
        if final != name:
            notes.append(f"PRV rule: {final}")
        check = check_name(final)
        if not check.standard:
            s = min(s, INVALID_CAP)
            notes.append("breaks a TG-263 rule: " + "; ".join(f.message for f in check.errors))
        if len(entry.names) > 1:
            notes.append("ambiguous: " + " or ".join(entry.names))
        out.append(Candidate(final, round(s, 1), "; ".join(steps + notes), reading.typo_penalty > 0))
    return sorted(out, key=lambda c: (-c.score, c.name))
