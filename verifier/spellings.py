"""How one original value may be written in the output: the texts to search and how to bound a hit.

Each identifier mode gives its spellings (PS3.5 stores names, dates and IDs one way; free text, and
systems that re-type them, use others):

* ``word`` (a name part, an address word): the value, its accent-stripped and transliterated forms
  (Müller, Muller, Mueller), in upper, lower and title case where Unicode case differs from ASCII;
  whole words only.
* ``short`` (the name parts of one or two letters of one name, e.g. ``Li^Na``): never alone (``Li``
  or ``Na`` is a common word), only joined to each other in either order (``Li Na``, ``NA^LI``,
  ``Na, Li``); whole words.
* ``date`` (``YYYYMMDD``): every template of ``identifier_rules.json`` (digits with ``/ - . space``,
  day-month and month-day orders, two-digit years, English month names and abbreviations); a bounded
  token: no letter or digit beside it, and not the integer or fraction part of a decimal number.
* ``id`` (an ID, a serial number, a station name): the value, without its separators, and for a
  numeric ID without its leading zeros (then any number of zeros may precede it); the digit runs of
  six or more digits of an alphanumeric ID; found inside longer tokens, but never inside a longer
  number. An ID without digits (``ANON``, ``CTROOM``) is searched as a whole word.
* ``exact`` (a telephone number): the value; digit boundaries at numeric ends.

A spelling is (text, rule): the rule names the boundary test of :mod:`verifier.matcher`.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import permutations

from . import rules

WORD, NUMBER, ID, ID_ZEROS, RAW = "word", "number", "id", "id0", "raw"


def _cfg() -> dict:
    return rules.identifier_rules()["spellings"]


@lru_cache(maxsize=1)
def _translit() -> dict[int, str]:
    return {ord(k): v for k, v in _cfg()["transliterations"].items()}


def strip_accents(text: str) -> str:
    """Combining marks removed (Müller -> Muller, Zoë -> Zoe)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def letter_forms(text: str) -> list[str]:
    """The text, accent-stripped, transliterated (Mueller), and its Unicode case forms."""
    base = [text, unicodedata.normalize("NFC", text), unicodedata.normalize("NFD", text),
            strip_accents(text.translate(_translit())), strip_accents(text)]
    out: list[str] = []
    for form in base:
        for cased in (form, form.upper(), form.lower(), form.casefold(), form.title()):
            if cased and cased not in out:
                out.append(cased)
    return out


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


@lru_cache(maxsize=4096)
def date_spellings(value: str) -> tuple[str, ...]:
    """Every template spelling of a ``YYYYMMDD`` date (empty when it is not a valid date)."""
    try:
        y, m, d = int(value[:4]), int(value[4:6]), int(value[6:8])
    except ValueError:
        return ()
    if not (1 <= m <= 12 and 1 <= d <= 31):
        return ()
    cfg = _cfg()
    months = [(cfg["month_abbreviations"][m - 1], cfg["month_names"][m - 1])]
    months += [(extra, cfg["month_names"][m - 1]) for extra in cfg["month_extra"].get(str(m), ())]
    out: list[str] = []
    for template in cfg["date_formats"]:
        for abbr, name in months if "{b}" in template else months[:1]:
            text = template.format(Y=f"{y:04d}", y=f"{y % 100:02d}", M=f"{m:02d}", m=str(m), D=f"{d:02d}",
                                   d=str(d), o=_ordinal(d), b=abbr, B=name)
            if text not in out:
                out.append(text)
    return tuple(out)


def _id_forms(value: str) -> list[tuple[str, str]]:
    cfg = _cfg()
    lim = rules.identifier_rules()["min_length"]["exact"]
    seps = re.escape(cfg["id_separators"])
    if not any(c.isdigit() for c in value):  # a word-like ID (e.g. a station name): whole words only
        joined = re.sub(f"[{seps}]+", "", value)
        return [(value, WORD)] + ([(joined, WORD)] if joined != value and len(joined) >= lim else [])
    core_min = rules.identifier_rules()["min_length"]["id_core"]  # "2024" alone is a year, not an ID
    out = [(value, ID)]
    if value.startswith("0") and len(value.lstrip("0")) >= core_min:
        out.append((value.lstrip("0"), ID_ZEROS))
    joined = re.sub(f"[{seps}]+", "", value)
    if joined != value and len(joined) >= lim:
        out.append((joined, ID))
    if joined.isdigit():
        core = joined.lstrip("0")
        if len(core) >= core_min:
            out.append((core, ID_ZEROS))
        # the groups written with another separator
        groups = [g for g in re.split(f"[{seps}]+", value) if g]
        if len(groups) > 1:
            out += [(sep.join(groups), ID) for sep in cfg["id_separators"] if sep.join(groups) != value]
    else:
        for run in re.findall(r"[0-9]+", value):
            core = run.lstrip("0")
            if len(core) >= cfg["id_digit_run"]:
                out.append((core, ID_ZEROS))
    return out


def spellings(mode: str, value: str) -> list[tuple[str, str]]:
    """(text, rule) pairs to search for an identifier of ``mode`` with ``value``."""
    if mode == "word":
        return [(f, WORD) for f in letter_forms(value)]
    if mode == "short":
        parts = [p for p in value.split("^") if p]
        out = []
        for a, b in permutations(parts, 2):
            for sep in _cfg()["short_name_separators"]:
                out += [(f, WORD) for f in letter_forms(a + sep + b)]
        return list(dict.fromkeys(out))
    if mode == "date":
        return [(f, NUMBER) for f in date_spellings(value)]
    if mode == "id":
        return list(dict.fromkeys(_id_forms(value)))
    return [(value, ID)]


def is_wide(text: str) -> bool:
    """East Asian wide characters only (CJK, kana, Hangul): two of them make a name part."""
    return bool(text) and all(unicodedata.east_asian_width(c) in ("W", "F") for c in text)
