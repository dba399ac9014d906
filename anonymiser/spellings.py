"""Every spelling of the subject's identifiers in free text, as one compiled pattern.

A name written ``MÜLLER``, ``Muller`` or ``Mueller``, ``O'Brien`` written ``OBRIEN``, a birth
date written ``04/11/1952``, ``1 Jan 1960`` or ``60-01-01``, a patient ID with its leading zeros
dropped or a separator added: :func:`scrubber` builds one case-insensitive pattern per subject
(cached: every file of a subject has the same terms) that finds them all in one pass per value.

Every person name held anywhere in the batch is looked up word by word in a set (folded: any
case, accents stripped), so the cost does not grow with the number of names. The same pass
finds names nobody put in a name element (:mod:`.personnames`): a title followed
by capitalised words (``Dr Smith``), "by" followed by a name (``Planned by J. Smith``), or a
given name followed by a surname from the name lists. No pydicom here: the byte path uses it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from . import personnames

REPLACEMENT = "XXXX"
#: Between the pieces of a name (O'Brien, Smith-Jones) or the characters of an ID: nothing or a separator.
NAME_JOIN = r"[\W_]{0,2}"
ID_JOIN = r"[\s./\\_:-]?"
LETTER_BEFORE, LETTER_AFTER = r"(?<![^\W\d_])", r"(?![^\W\d_])"
DIGIT_BEFORE, DIGIT_AFTER = r"(?<!\d)", r"(?!\d)"
#: Name words shorter than this are not scrubbed on their own (an initial is not an identifier).
MIN_NAME = 2
#: IDs with fewer significant characters are not searched in text (every "1" would go).
MIN_ID = 3
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
#: Spelled-out letters for accented ones (German, Nordic, ligatures); the accent-stripped form is added anyway.
TRANSLITERATIONS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa", "œ": "oe",
                    "þ": "th", "ð": "d", "ł": "l", "đ": "d", "ı": "i"}


@dataclass(frozen=True)
class Terms:
    """The identifying values to find, as stored: person names (PN values, every component
    group), IDs (patient, other, accession, record locator) and dates (YYYYMMDD)."""
    names: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()


# -- letters -------------------------------------------------------------------------------------
def _base(c: str) -> str:
    """The letter without its accents (``ü`` -> ``u``), or itself."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch)) or c


@lru_cache(maxsize=1)
def _accented() -> dict[str, str]:
    """Base ASCII letter -> the Latin letters that are it with an accent (Latin-1 and Extended-A)."""
    out: dict[str, set[str]] = {}
    for code in range(0xC0, 0x250):
        c = chr(code)
        b = _base(c).lower()
        if len(b) == 1 and b.isascii() and b.isalpha() and c.lower() != b:
            out.setdefault(b, set()).add(c.lower())
    return {b: "".join(sorted(cs)) for b, cs in out.items()}


def _letter(c: str) -> str:
    """A pattern for one letter of a name: itself in any case, with or without accents, spelled out."""
    low = c.lower()
    if low.isascii():
        extra = _accented().get(low, "")
        return f"[{re.escape(low)}{extra}]" if extra else re.escape(low)
    base = _base(low).lower()
    forms = {re.escape(low), re.escape(c.upper())}
    if base.isascii() and base.isalpha():
        forms.add(f"[{base}{_accented().get(base, '')}]" if len(base) == 1 else re.escape(base))
    if low in TRANSLITERATIONS:
        forms.add(TRANSLITERATIONS[low])
    return forms.pop() if len(forms) == 1 else "(?:" + "|".join(sorted(forms)) + ")"


def _is_spaced_script(word: str) -> bool:
    """Scripts written with spaces between words get whole-word matching; CJK and the like do not."""
    return all(ord(c) < 0x2E80 for c in word)


def fold(word: str) -> str:
    """A word as compared with the batch's names: case folded, accents stripped (``MÜLLER`` -> ``muller``)."""
    word = word.casefold()
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _fold_forms(word: str) -> set[str]:
    """:func:`fold` of the word as written and spelled out (``Müller``: ``muller``, ``mueller``)."""
    low = word.casefold()
    return {fold(low), fold("".join(TRANSLITERATIONS.get(c, c) for c in low))}


# -- names ---------------------------------------------------------------------------------------
def name_words(value: str) -> list[str]:
    """The words of a PN value (every component of every group), punctuation inside kept."""
    words = []
    for part in re.split(r"[\^=\s,;/()\[\]\"]+", value):
        part = part.strip(".-_'’`")
        if part:
            words.append(part)
    return words


def _name_pattern(word: str) -> str | None:
    pieces = [p for p in re.split(r"[\W_]+", word) if p]
    letters = sum(len(p) for p in pieces)
    if not pieces or letters < (MIN_NAME if _is_spaced_script(word) else 1):
        return None
    body = NAME_JOIN.join("".join(_letter(c) for c in p) for p in pieces)
    if not _is_spaced_script(word):
        return body
    return LETTER_BEFORE + body + LETTER_AFTER


def _name_patterns(value: str) -> set[str]:
    out = set()
    for word in name_words(value):
        for form in {word, *[p for p in re.split(r"[\W_]+", word) if len(p) >= 3]}:
            p = _name_pattern(form)
            if p:
                out.add(p)
    return out


# -- identifiers ---------------------------------------------------------------------------------
def _id_pattern(value: str) -> str | None:
    chars = [c for c in value if c.isalnum()]
    if not chars:
        return None
    core = chars
    if all(c.isdigit() for c in chars):
        stripped = "".join(chars).lstrip("0")
        if len(stripped) >= MIN_ID:
            core = list(stripped)
            body = "0*" + ID_JOIN.join(map(re.escape, core))
            return DIGIT_BEFORE + body + DIGIT_AFTER
    if len(core) < MIN_ID:
        return None  # "1" or "A2": scrubbing every such token would be noise, not privacy
    body = ID_JOIN.join(map(re.escape, core))
    before = DIGIT_BEFORE if core[0].isdigit() else ""
    after = DIGIT_AFTER if core[-1].isdigit() else ""
    return before + body + after


# -- dates ---------------------------------------------------------------------------------------
def _date_patterns(value: str) -> set[str]:
    digits = re.sub(r"\D", "", value)[:8]
    if len(digits) != 8:
        return set()
    y, m, d = digits[:4], int(digits[4:6]), int(digits[6:8])
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return set()
    year = f"(?:{y[:2]})?{y[2:]}"
    day = f"0?{d}" if d < 10 else str(d)
    day_word = day + "(?:st|nd|rd|th)?"
    month_num = f"0?{m}" if m < 10 else str(m)
    name = MONTHS[m - 1]
    month_name = f"{name[:3]}(?:{name[3:]}|t\\.?|\\.)?" if name == "september" else f"{name[:3]}(?:{name[3:]}|\\.)?"
    sep = r"[\s/.\-]{1,2}"
    word_sep = r"[\s/.,\-]{0,3}"
    dd, mm = f"{d:02d}", f"{m:02d}"
    forms = {
        # numbers with separators: day-month, month-day, year first
        day + sep + month_num + sep + year, month_num + sep + day + sep + year, year + sep + month_num + sep + day,
        # numbers without separators (zero-padded only)
        dd + mm + y, mm + dd + y, y + mm + dd, dd + mm + y[2:], mm + dd + y[2:], y[2:] + mm + dd,
        # month names
        day_word + word_sep + month_name + word_sep + year, month_name + word_sep + day_word + word_sep + year,
        year + word_sep + month_name + word_sep + day,
    }
    return {DIGIT_BEFORE + f + DIGIT_AFTER for f in forms}


# -- the pattern ---------------------------------------------------------------------------------
def _subject_source(terms: Terms) -> str | None:
    parts = set()
    for n in terms.names:
        parts |= _name_patterns(n)
    for i in terms.ids:
        p = _id_pattern(i)
        if p:
            parts.add(p)
    for d in terms.dates:
        parts |= _date_patterns(d)
    if not parts:
        return None
    return "|".join(sorted(parts, key=lambda p: (-len(p), p)))


#: A run of letters: the unit compared with the batch's names.
_TOKEN = re.compile(r"[^\W\d_]+")


#: How many distinct text values a scrubber remembers (bounded memory, whatever the batch).
CLEANED_MEMO = 4096


class Scrubber:
    """Finds and replaces identifiers in one text value (``search``, ``sub``): the subject's own
    terms in every spelling (one compiled pattern), every person name of the batch (each word
    looked up in a set, whatever the number of names), and person names found by pattern."""

    def __init__(self, terms: Terms, people: tuple[str, ...] = ()):
        words, joined, unspaced = set(), set(), []
        for value in people:
            for word in name_words(value):
                pieces = [p for p in re.split(r"[\W_]+", word) if p]
                if not _is_spaced_script(word):
                    unspaced.append(word)
                    continue
                for p in pieces:
                    if len(p) >= MIN_NAME:
                        words |= _fold_forms(p)
                if len(pieces) > 1:
                    joined |= _fold_forms("".join(pieces))
        #: Folded words of the batch's names, and the same with multi-part names written as one word.
        self.words, self.joined = frozenset(words), frozenset(joined | words)
        subject = _subject_source(Terms(terms.names + tuple(unspaced), terms.ids, terms.dates))
        people_source = personnames.candidate_source()
        source = f"(?P<s>{subject})|{people_source}" if subject else f"(?P<s>(?!))|{people_source}"
        self.pattern = re.compile(source, re.IGNORECASE)
        #: Text -> cleaned text: a series repeats the same descriptions in every file.
        self._cleaned: dict[str, str] = {}

    def _batch_spans(self, text: str) -> list[tuple[int, int]]:
        """Words (and two words written as one name: ``O Brien``, ``Smith-Jones``) of the batch's names."""
        spans, prev = [], None
        for m in _TOKEN.finditer(text):
            word = fold(m.group())
            if prev is not None and m.start() - prev.end() <= 2 and fold(prev.group()) + word in self.joined:
                spans += [prev.span(), m.span()]
            elif word in self.joined:
                spans.append(m.span())
            prev = m
        return spans

    def cleaned(self, text: str) -> str:
        """``text`` with every identifier replaced (:meth:`sub` after :meth:`search`), remembered."""
        done = self._cleaned.get(text)
        if done is None:
            done = self.sub(text) if self.search(text) else text
            if len(self._cleaned) < CLEANED_MEMO and len(text) <= 1024:  # bounded memory
                self._cleaned[text] = done
        return done

    def search(self, text: str) -> bool:
        """Anything to look at (a pre-test: :meth:`sub` may still leave the text as it is)."""
        return self.pattern.search(text) is not None or bool(self.words and self._batch_spans(text))

    def sub(self, text: str) -> str:
        """The text with every identifier found replaced by ``XXXX`` (one pass)."""
        spans = self._batch_spans(text) if self.words else []
        for m in self.pattern.finditer(text):
            if m.group("s") is not None:
                spans.append(m.span())
            elif m.group("tn") is not None:
                spans.append(m.span("tn"))
            elif m.group("bn") is not None:
                spans.append(m.span("bn"))
            elif personnames.is_pair(m.group("w"), m.group("w2")):
                spans += [m.span("w"), m.span("w2")]
        if not spans:
            return text
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1] and (start < merged[-1][1] or start == merged[-1][0]):
                merged[-1][1] = max(merged[-1][1], end)  # overlapping finds: one replacement
            else:
                merged.append([start, end])
        out, pos = [], 0
        for start, end in merged:
            out += [text[pos:start], REPLACEMENT]
            pos = end
        out.append(text[pos:])
        return "".join(out)


@lru_cache(maxsize=64)
def scrubber(terms: Terms, people: tuple[str, ...] = ()) -> Scrubber:
    """Compiled once per subject and worker (every file of a subject has the same terms);
    ``people``: every person name held in the batch (:mod:`.batchterms`)."""
    return Scrubber(terms, tuple(p for p in people if p not in terms.names))
