"""Identifiers of the subject: what they are, how they are derived from original values, how to find them.

An :class:`Identifier` is matched in raw bytes (file bytes or one element's value bytes) by a
:class:`verifier.matcher.Matcher`, in every spelling :mod:`verifier.spellings` gives its mode:
``word`` (a name part of three or more letters, two or more East Asian characters, an address
word: case-insensitive, whole words, accent-stripped forms too), ``short`` (the one- and two-letter
parts of one name, found only joined to each other), ``date`` (every common written form),
``id`` (with or without separators and leading zeros, inside longer codes) and ``exact``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from . import rules
from .matcher import Matcher
from .spellings import is_wide

#: De-identification method codes (PS3.16 CID 7050) whose option makes a category of value allowed.
SUPPRESSED_BY_CODE = {"113112": "institution", "113109": "device", "113106": "date"}
#: When one value is derived twice, the first category in this order names it.
CATEGORY_ORDER = ("patient", "person", "institution", "device", "date")
_PN_COMPONENTS = ("family name", "given name", "middle name", "name prefix", "name suffix")


@dataclass(frozen=True)
class Identifier:
    kind: str       # says what it is, e.g. "the patient's family name" (never the value)
    value: str
    mode: str       # "word", "short", "date", "id" or "exact" (see verifier.spellings)
    category: str   # one of CATEGORY_ORDER
    source: str     # "source" (--against files) or "linkage store"

    def describe(self) -> str:
        return f"{self.kind} (from {self.source})"


class IdentifierSet:
    """All identifiers known for the subject(s); gives a :class:`Matcher` per set of declared options.

    ``encodings``: the character sets the originals declared (Python codec names); every matcher
    searches them besides UTF-8, Latin-1 and UTF-16, plus those a checked file declares.
    """

    def __init__(self, identifiers: Iterable[Identifier], encodings: Iterable[str] = ()):
        self.identifiers = tuple(dedupe(identifiers))
        self.encodings = tuple(sorted(set(encodings)))
        self._matchers: dict[tuple, Matcher] = {}

    def __len__(self) -> int:
        return len(self.identifiers)

    def __getstate__(self):
        return {"identifiers": self.identifiers, "encodings": self.encodings, "_matchers": {}}

    def personal(self, encodings: Iterable[str] = ()) -> Matcher:
        """Identifiers of people only (patient and staff): no option ever allows them."""
        return self._matcher(frozenset(CATEGORY_ORDER) - {"patient", "person"}, encodings)

    def matcher(self, declared_codes: Iterable[str], encodings: Iterable[str] = ()) -> Matcher:
        """The matcher for a file declaring these option codes and these character sets."""
        return self._matcher(frozenset(SUPPRESSED_BY_CODE[c] for c in declared_codes if c in SUPPRESSED_BY_CODE),
                             encodings)

    def _matcher(self, suppressed: frozenset[str], encodings: Iterable[str]) -> Matcher:
        extra = frozenset(e for e in (encodings if not isinstance(encodings, str) else [encodings])
                          if e) - set(self.encodings)
        key = (suppressed, extra)
        if key not in self._matchers:
            self._matchers[key] = Matcher((i for i in self.identifiers if i.category not in suppressed),
                                          self.encodings + tuple(sorted(extra)))
        return self._matchers[key]


def dedupe(identifiers: Iterable[Identifier]) -> list[Identifier]:
    """One identifier per (mode, value); the most personal category names it."""
    rank = {c: n for n, c in enumerate(CATEGORY_ORDER)}
    seen: dict[tuple[str, str], Identifier] = {}
    for ident in sorted(identifiers, key=lambda i: rank.get(i.category, 99)):
        key = (ident.mode, ident.value.lower() if ident.mode in ("word", "short", "id") else ident.value)
        seen.setdefault(key, ident)
    return list(seen.values())


# -- derivation from original values -----------------------------------------------------------
_NAME_SPLIT = r"[\s,.\-'()\u2019`]+"


def _is_long(part: str) -> bool:
    lims = rules.identifier_rules()["min_length"]
    return len(part) >= lims["name_part"] or (len(part) >= lims["wide_name_part"] and is_wide(part))


def _usable(part: str) -> bool:
    return bool(part) and part.lower() not in rules.name_affixes() and part.upper() not in rules.dummy_values() \
        and not part.isdigit()


def _name_parts(component: str) -> list[str]:
    """The searchable parts of one name component (three letters or more, or two East Asian ones)."""
    return [p for p in re.split(_NAME_SPLIT, component) if _usable(p) and _is_long(p)]


def _joined(component: str) -> str | None:
    """A component with inner punctuation or spaces, written without them (O'Brien -> OBrien)."""
    parts = [p for p in re.split(_NAME_SPLIT, component.strip()) if p]
    joined = "".join(parts)
    return joined if len(parts) > 1 and _usable(joined) and _is_long(joined) else None


def _short_parts(group: str) -> list[str]:
    """The one- and two-letter parts of one name (all components), affixes left out."""
    parts = [p for comp in group.split("^") for p in re.split(_NAME_SPLIT, comp)]
    return list(dict.fromkeys(p for p in parts if _usable(p) and not _is_long(p) and p.isalpha()))


def _tokens(text: str) -> list[str]:
    lim = rules.identifier_rules()["min_length"]["token"]
    return [t for t in re.split(r"[\W_]+", text) if len(t) >= lim and t.lower() not in rules.stop_words()
            and t.upper() not in rules.dummy_values()]


def _date_ok(value: str) -> bool:
    return len(value) == 8 and value.isdigit() and value.upper() not in rules.dummy_values()


def from_element(keyword: str, vr: str, values: Iterable[str], source: str, *,
                 other_ids: bool = False) -> list[Identifier]:
    """The identifiers an original element's values give (none for harmless elements)."""
    cfg = rules.identifier_rules()
    spec = cfg["elements"].get(keyword)
    out: list[Identifier] = []
    for value in (str(v).strip() for v in values):
        if not value or value.upper() in rules.dummy_values():
            continue
        if vr == "PN":
            patient = keyword == "PatientName"
            cat = "patient" if keyword.startswith("Patient") or keyword == "OtherPatientNames" else "person"
            for group in value.split("="):
                for n, comp in enumerate(group.split("^")):
                    kind = (f"the patient's {_PN_COMPONENTS[min(n, 4)]}" if patient
                            else "a person's name")
                    out += [Identifier(kind, p, "word", cat, source) for p in _name_parts(comp)]
                    joined = _joined(comp)
                    if joined:
                        out.append(Identifier(kind, joined, "word", cat, source))
                shorts = _short_parts(group)
                if len(shorts) > 1:
                    kind = "the patient's name (short parts)" if patient else "a person's name (short parts)"
                    out.append(Identifier(kind, "^".join(shorts), "short", cat, source))
        elif spec is not None:
            kind, cat = spec["kind"], spec["category"]
            if keyword == "PatientID" and other_ids:
                kind = "another patient ID"
            if spec["match"] == "exact" and len(value) >= cfg["min_length"]["exact"]:
                out.append(Identifier(kind, value, "id", cat, source))
            elif spec["match"] == "tokens":
                out += [Identifier(kind, t, "word", cat, source) for t in _tokens(value)]
            elif spec["match"] == "birth_date" and _date_ok(value):
                out.append(Identifier(kind, value[:8], "date", cat, source))
        elif cfg["phone_keyword_contains"] in keyword:
            digits = re.sub(r"\D", "", value)
            lim = cfg["min_length"]["phone_digits"]
            for form in {value, digits}:
                if len(re.sub(r"\D", "", form)) >= lim:
                    out.append(Identifier("a telephone number", form, "exact", "patient", source))
        elif vr in ("DA", "DT") and _date_ok(value[:8]):
            out.append(Identifier("an original date", value[:8], "date", "date", source))
    return out


def manufacturer_tokens(values: Iterable[str]) -> set[str]:
    return {t.lower() for v in values for t in re.split(r"[\W_]+", str(v)) if t}


def drop_ordinary_words(identifiers: Iterable[Identifier]) -> list[Identifier]:
    """A device or institution value that is an ordinary English word (a station called ``ACTIONS``)
    identifies nothing and turns up in any report or description: not searched. The profile check
    still judges the element that held it. Names of people and patient values are never dropped."""
    common = rules.common_words()
    return [i for i in identifiers if not (i.category in ("device", "institution")
                                           and i.value.strip().lower() in common)]


def drop_manufacturer_words(identifiers: Iterable[Identifier], tokens: set[str]) -> list[Identifier]:
    """Institution words that are also manufacturer/model words are not identifiers (e.g. 'Siemens')."""
    return [i for i in identifiers if not (i.category == "institution" and i.mode == "word"
                                           and i.value.lower() in tokens)]
