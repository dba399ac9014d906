"""Find many identifiers in bytes in one pass: an Aho-Corasick automaton (PyPI ``pyahocorasick``).

Every spelling of every identifier (:mod:`verifier.spellings`) is encoded in UTF-8, Latin-1,
UTF-16 LE and BE and in each character set the originals or the file declare; ASCII letters are
folded by lower-casing both the patterns and the searched bytes, other letters by giving each
Unicode case form its own pattern. The bytes are searched once, whatever the number of
identifiers and patients; each candidate is then confirmed by its rule's boundary test:

* ``word``: no ASCII letter or digit just before or after (``Bladder`` never matches ``Ann``);
* ``number`` (dates): the same, and not the integer or the fraction part of a decimal number
  (``12.19580317`` in contour data is not a date; ``1.2.3.19580317.4``, a UID component, is);
* ``id``: no digit before a leading digit or after a trailing one (letters may touch: an ID is
  found inside a longer code), with the decimal-number rule; ``id0``: zeros may precede;
* ``raw``: none (ISO 2022 multi-byte text, whose bytes are letters).

``tolerant`` confirmation (:meth:`Matcher.search`'s second answer, :meth:`Matcher.may_match`) also
accepts a hit whose failing neighbour byte is itself next to a non-printable byte: a value's first
or last byte touches a binary length or tag in the file, so a hit there may still be one inside the
element's value, which the value search then judges.
"""
from __future__ import annotations

import codecs
import re
from typing import Iterable, Iterator

import ahocorasick

from .spellings import ID_ZEROS, NUMBER, RAW, WORD, spellings

#: Encodings every identifier is searched in (besides the declared character sets).
BASE_ENCODINGS = ("utf-8", "latin-1", "utf-16-le", "utf-16-be")
_WIDTH = {"utf-16-le": 1, "utf-16-be": 2}
_ALNUM = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = frozenset(b"0123456789")
_POINT = frozenset(b".,")
_ZERO = 0x30
_ESCAPES = re.compile(rb"\x1b[\x20-\x2f]+[\x30-\x7e]")
MIN_PATTERN_BYTES = 3


def encoding_name(name: str) -> str | None:
    """The codec's canonical name (pydicom's ``iso8859`` is ``iso8859-1``), None when unknown."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _encoded(text: str, encoding: str) -> tuple[bytes, bool] | None:
    """(bytes, stateful) for one spelling in one encoding; None when it cannot be written in it."""
    try:
        raw = text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return None
    if b"\x1b" in raw:  # ISO 2022: the letters' bytes, escapes left out (they may sit elsewhere)
        return _ESCAPES.sub(b"", raw), True
    return raw, False


def _unit(d: bytes, i: int, w: int) -> int:
    n = len(d)
    if w == 0:
        return d[i] if 0 <= i < n else -1
    if i < 0 or i + 1 >= n:
        return -1
    return d[i] | d[i + 1] << 8 if w == 1 else d[i] << 8 | d[i + 1]


def _printable(code: int) -> bool:
    return 0x20 <= code < 0x7F


def confirm(d: bytes, s: int, e: int, rule: str, w: int, tolerant: bool) -> bool:
    """Whether the candidate ``d[s:e]`` (lower-cased bytes) passes ``rule``'s boundary test."""
    if rule == RAW:
        return True
    if tolerant and w:
        return True
    step = 1 if w == 0 else 2
    first, last = _unit(d, s, w), _unit(d, e - step, w)
    if rule == ID_ZEROS:
        while _unit(d, s - step, w) == _ZERO:
            s -= step
    prev, prev2 = _unit(d, s - step, w), _unit(d, s - 2 * step, w)
    nxt, nxt2 = _unit(d, e, w), _unit(d, e + step, w)
    if rule == WORD or rule == NUMBER:
        before, after = prev not in _ALNUM, nxt not in _ALNUM
    else:  # ID, ID_ZEROS: letters may touch
        before = not (first in _DIGIT and prev in _DIGIT)
        after = not (last in _DIGIT and nxt in _DIGIT)
    if rule != WORD and (first in _DIGIT or last in _DIGIT):
        fraction = first in _DIGIT and prev in _POINT and prev2 in _DIGIT
        integer = last in _DIGIT and nxt in _POINT and nxt2 in _DIGIT
        if fraction and not integer:
            before = False
        if integer and not fraction:
            after = False
    if before and after:
        return True
    if not tolerant:
        return False
    return (before or not _printable(prev2)) and (after or not _printable(nxt2))


class Matcher:
    """Finds a fixed list of identifiers in bytes, in one pass over them."""

    def __init__(self, identifiers: Iterable, encodings: Iterable[str] = ()):
        self.identifiers = tuple(identifiers)
        names = list(BASE_ENCODINGS)
        for e in encodings:
            c = encoding_name(e)
            if c and c not in names:
                names.append(c)
        self.encodings = tuple(names)
        table: dict[bytes, set[tuple[int, str, int]]] = {}
        for n, ident in enumerate(self.identifiers):
            for text, rule in spellings(ident.mode, ident.value):
                for enc in self.encodings:
                    found = _encoded(text, enc)
                    if found is None:
                        continue
                    raw, stateful = found
                    if len(raw) < MIN_PATTERN_BYTES:
                        continue
                    table.setdefault(raw.lower(), set()).add((n, RAW if stateful else rule, _WIDTH.get(enc, 0)))
        self.patterns = len(table)
        self._automaton = None
        if table:
            a = ahocorasick.Automaton()
            for raw, entries in table.items():
                a.add_word(raw.decode("latin-1"), (len(raw), tuple(sorted(entries))))
            a.make_automaton()
            self._automaton = a

    def __bool__(self) -> bool:
        return self._automaton is not None

    def __getstate__(self):
        return {"identifiers": self.identifiers, "encodings": self.encodings}

    def __setstate__(self, state):
        self.__init__(state["identifiers"], state["encodings"])

    def search(self, data: bytes, *, strict: bool = True) -> tuple[list[tuple[int, object]], bool]:
        """(confirmed hits as (offset, identifier), whether any hit passes the tolerant test)."""
        if self._automaton is None or not data:
            return [], False
        low = data.lower()
        hits: list[tuple[int, object]] = []
        seen: set[tuple[int, int]] = set()
        possible = False
        for end, (length, entries) in self._automaton.iter(low.decode("latin-1")):
            s, e = end + 1 - length, end + 1
            for n, rule, w in entries:
                if strict and confirm(low, s, e, rule, w, False):
                    if (s, e) not in seen:  # the same bytes name one identifier: the first (most personal)
                        seen.add((s, e))
                        hits.append((s, self.identifiers[n]))
                    possible = True
                elif not possible and confirm(low, s, e, rule, w, True):
                    possible = True
                    if not strict:
                        return hits, True
        hits.sort(key=lambda h: h[0])
        return hits, possible

    def may_match(self, data: bytes) -> bool:
        """Whether any identifier may be in ``data`` (tolerant at binary neighbours)."""
        return self.search(data, strict=False)[1]

    def find(self, data: bytes, *, prefiltered: bool = False) -> Iterator[tuple[int, object]]:
        """(offset, identifier) for every confirmed hit in ``data``, in offset order."""
        yield from self.search(data)[0]
