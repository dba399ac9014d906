"""Person names nobody put in a name element, found by pattern in free text.

Three shapes count as a person's name (PS3.15 E.3.1 asks for identifying text to go, however
it got there):

- a title followed by capitalised words: ``Dr Smith``, ``Prof. J. O'Brien``, ``Mrs SMITH``;
- "by" followed by capitalised words: ``Contoured by Smith``, ``Planned by J. Smith``;
- a given name (or an initial) directly followed by a surname, both from the name lists in
  ``data/person_names.json`` (Faker's person providers; ``tools/generate_person_names.py``).

A surname alone never counts: ``Brain``, ``Heart``, ``Long`` and ``Bladder`` are surnames too.
Titles are matched in their written case only (``Dr``, not ``DR``: digital radiography; ``Mr``,
not ``MR``). No pydicom here.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

TITLES = ("Dr", "Drs", "Dres", "Dra", "Doctor", "Prof", "Professor", "Mr", "Mrs", "Ms", "Miss", "Mx",
          "Sir", "Dame", "Herr", "Frau", "Mme", "Mlle", "Dott", "Dhr", "Mevr", "Sr", "Sra", "Srta")
UPPER = "A-ZÀ-ÖØ-Þ"
LOWER = "a-zß-öø-ÿ"
#: A capitalised word: ``Smith``, ``O'Brien``, ``Smith-Jones``, ``McDonald``.
PROPER = f"[{UPPER}](?:[{LOWER}]+|['’][{UPPER}])[{UPPER}{LOWER}'’-]*"
#: A capitalised word judged by the name lists: ``Smith``, ``O'Brien``.
WORD = f"[{UPPER}](?:[{LOWER}]+|['’][{UPPER}][{LOWER}]+)"
#: After a title, an all-capitals word is a name too (``Dr SMITH``).
CAPITALS = f"[{UPPER}][{UPPER}'’-]+"
#: Surname particles (van Houten, de la Cruz, von Braun), any case.
PARTICLES = "(?:[vV][aAoO][nN]|[dD][eEaAiIuU][rRnNlL]?|[dD][eE][lL][lL][aA]|[lL][aAeE]|[dD][oO][sS]|[tT][eE][rR])"
INITIALS = f"(?:[{UPPER}]\\.\\s*|[{UPPER}]\\s+)*"


def candidate_source() -> str:
    """The alternatives (named groups ``t``/``tn``, ``b``/``bn``, ``w``/``w2``) for :mod:`.spellings`'
    pattern; the surrounding pattern is case-insensitive, these are not (scoped flags). ``w`` is a
    capitalised word or an initial followed by another capitalised word ``w2`` (looked at, not
    consumed: the next match may start there)."""
    titles = "|".join(sorted(TITLES, key=len, reverse=True))
    name = f"(?:{PROPER}|{CAPITALS})"
    after_title = f"{INITIALS}(?:{PARTICLES}[ \\t]+)*{name}(?:[ \\t]+(?:{PARTICLES}[ \\t]+)*{name}){{0,2}}"
    after_by = f"{INITIALS}{PROPER}(?:[ \\t]+(?:{PARTICLES}[ \\t]+)*{PROPER})?"
    return (f"(?-i:(?P<t>\\b(?:{titles})\\.?)[ \\t]+(?P<tn>{after_title}))"
            f"|(?P<b>\\bby)[ \\t]+(?-i:(?P<bn>{after_by}))"
            f"|(?-i:(?P<w>\\b[{UPPER}]\\.|\\b{WORD})(?=[ \\t]*(?P<w2>{WORD})\\b))")


@lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames) from ``data/person_names.json``."""
    doc = json.loads(files("anonymiser").joinpath("data/person_names.json").read_text(encoding="utf-8"))
    return frozenset(doc["given"]), frozenset(doc["surnames"])


def is_initial(word: str) -> bool:
    return len(word) == 2 and word[1] == "."


def is_pair(first: str, second: str) -> bool:
    """A given name (or an initial) followed by a surname."""
    given, surnames = name_lists()
    return (is_initial(first) or first in given) and second in surnames and not is_initial(second)
