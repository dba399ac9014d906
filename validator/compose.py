"""Token-level TG-263 suggestions: a typed ROI name -> TG-263 names, each with a confidence and why.

A name is read (:mod:`validator.reading`) into canonical tokens and qualifiers. Every TG-263
name is read the same way from its own parts, its description column and the lexicon's
phrasings, giving an index from token *sets* to names: word order does not matter, and
the TG-263 name supplies the order. Category words (``gland``, ``muscle``, ``artery`` ...) may be
missing on either side. A PRV margin is composed per TG-263 (``_PRV`` + two-digit mm, before the
side) and the result must pass :func:`validator.rules.check_name`.

Scores (0-100): 95 from a name's own parts or a lexicon phrasing, 94 with a category word left
out, 93/92 from its description; less for a typo, for "both" added or dropped, for a guessed or
missing margin; at most 70 when several names fit; at most 60 when the composed name breaks a
rule. A typed artery/vein/node/space rules out names of another or no category.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

from .lexicon import lexicon
from .reading import Reader, Reading, Vocab
from .rules import check_name
from .tg263 import table
from .tokens import words

BASE = {0: 95.0, 1: 94.0, 2: 93.0, 3: 92.0}
AMBIGUOUS_CAP = 70.0
INVALID_CAP = 60.0
ADD_BOTH_PENALTY = 10.0   # 'Parotid' with no side read as 'Parotids'
DROP_BOTH_PENALTY = 3.0   # 'both' typed for a name TG-263 has only once
SOFT_PENALTY = 2.0        # a category word typed that the TG-263 name does not carry
CATEGORY = frozenset({"artery", "vein", "lymph", "node", "muscle", "gland", "bone", "nerve", "space", "cartilage"})
STRICT = frozenset({"artery", "vein", "lymph", "node", "space"})  # typed, the structure must be one


@dataclass(frozen=True)
class Candidate:
    name: str
    score: float
    explanation: str
    typo: bool = False


@dataclass(frozen=True)
class _Entry:
    prio: int
    names: tuple[str, ...]
    origin: str


@dataclass(frozen=True)
class Engine:
    reader: Reader
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


def _vocab(lex, rows) -> Vocab:
    """The words the reader knows: the lexicon's, and every word of TG-263's names and descriptions."""
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
    return Vocab(known, frozenset(canonical), frozenset(lex.laterality), typo_choices)


@lru_cache(maxsize=1)
def engine() -> Engine:
    """Every TG-263 name indexed by the token sets it can be typed as (built once, ~0.3 s)."""
    lex = lexicon()
    rows = table().names
    vocab = _vocab(lex, rows)
    strict = Reader(lex, vocab, strict=True)
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
        _register(index, own.key, row.name, 0, "its name parts", lex.soft)
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
    return Engine(Reader(lex, vocab, strict=False), index, lex.soft, own_keys)


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
