"""Identifiers of the subject: what they are, how they are derived from original values, how to find them.

An :class:`Identifier` is matched in raw bytes (file bytes or one element's value bytes). Names and
address/institution words match case-insensitively at word boundaries (so ``Bladder`` or
``PTV_High`` never match a name they merely contain); IDs, dates and phone numbers match exactly,
with digit boundaries at numeric ends (so a date never matches inside a longer number or UID).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from . import rules

#: De-identification method codes (PS3.16 CID 7050) whose option makes a category of value allowed.
SUPPRESSED_BY_CODE = {"113112": "institution", "113109": "device", "113106": "date"}
#: When one value is derived twice, the first category in this order names it.
CATEGORY_ORDER = ("patient", "person", "institution", "device", "date")
_PN_COMPONENTS = ("family name", "given name", "middle name", "name prefix", "name suffix")
_WORD_BOUNDARY = rb"A-Za-z0-9"


@dataclass(frozen=True)
class Identifier:
    kind: str       # says what it is, e.g. "the patient's family name" (never the value)
    value: str
    mode: str       # "word" (case-insensitive, word boundaries) or "exact"
    category: str   # one of CATEGORY_ORDER
    source: str     # "source" (--against files) or "linkage store"

    def describe(self) -> str:
        return f"{self.kind} (from {self.source})"


def _variants(value: str) -> list[bytes]:
    out = []
    for enc in ("utf-8", "latin-1"):
        try:
            b = value.encode(enc)
        except UnicodeEncodeError:
            continue
        if b not in out:
            out.append(b)
    return out


def _byte_pattern(ident: Identifier, raw: bytes) -> bytes:
    body = re.escape(raw)
    if ident.mode == "word":
        return b"(?i:(?<![" + _WORD_BOUNDARY + b"])" + body + b"(?![" + _WORD_BOUNDARY + b"]))"
    if raw[:1].isdigit():
        body = rb"(?<![0-9])" + body
    if raw[-1:].isdigit():
        body = body + rb"(?![0-9])"
    return body


class Matcher:
    """Finds a fixed list of identifiers in bytes; a cheap substring pre-filter runs first."""

    def __init__(self, identifiers: Iterable[Identifier]):
        self.identifiers = tuple(sorted(identifiers, key=lambda i: -len(i.value)))
        self._needles = tuple({v.lower() for i in self.identifiers for v in _variants(i.value)})
        alts = []
        for n, ident in enumerate(self.identifiers):
            pats = b"|".join(_byte_pattern(ident, v) for v in _variants(ident.value))
            alts.append(b"(?P<g%d>" % n + pats + b")")
        self._regex = re.compile(b"|".join(alts)) if alts else None

    def __bool__(self) -> bool:
        return self._regex is not None

    def may_match(self, data: bytes) -> bool:
        low = data.lower()
        return any(n in low for n in self._needles)

    def find(self, data: bytes, *, prefiltered: bool = False) -> Iterator[tuple[int, Identifier]]:
        """(offset, identifier) for every match in ``data``."""
        if self._regex is None or (not prefiltered and not self.may_match(data)):
            return
        for m in self._regex.finditer(data):
            yield m.start(), self.identifiers[int(m.lastgroup[1:])]


class IdentifierSet:
    """All identifiers known for the subject(s); gives a :class:`Matcher` per set of declared options."""

    def __init__(self, identifiers: Iterable[Identifier]):
        self.identifiers = tuple(dedupe(identifiers))
        self._matchers: dict[frozenset[str], Matcher] = {}

    def __len__(self) -> int:
        return len(self.identifiers)

    def __getstate__(self):
        return {"identifiers": self.identifiers, "_matchers": {}}

    def personal(self) -> Matcher:
        """Identifiers of people only (patient and staff): no option ever allows them."""
        return self._matcher(frozenset(CATEGORY_ORDER) - {"patient", "person"})

    def matcher(self, declared_codes: Iterable[str]) -> Matcher:
        return self._matcher(frozenset(SUPPRESSED_BY_CODE[c] for c in declared_codes if c in SUPPRESSED_BY_CODE))

    def _matcher(self, suppressed: frozenset[str]) -> Matcher:
        if suppressed not in self._matchers:
            self._matchers[suppressed] = Matcher(i for i in self.identifiers if i.category not in suppressed)
        return self._matchers[suppressed]


def dedupe(identifiers: Iterable[Identifier]) -> list[Identifier]:
    """One identifier per (mode, value); the most personal category names it."""
    rank = {c: n for n, c in enumerate(CATEGORY_ORDER)}
    seen: dict[tuple[str, str], Identifier] = {}
    for ident in sorted(identifiers, key=lambda i: rank.get(i.category, 99)):
        key = (ident.mode, ident.value.lower() if ident.mode == "word" else ident.value)
        seen.setdefault(key, ident)
    return list(seen.values())


# -- derivation from original values -----------------------------------------------------------
def _name_parts(component: str) -> list[str]:
    lim = rules.identifier_rules()["min_length"]["name_part"]
    parts = re.split(r"[\s,.\-'()]+", component)
    return [p for p in parts if len(p) >= lim and p.lower() not in rules.name_affixes()
            and p.upper() not in rules.dummy_values() and not p.isdigit()]


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
            for group in value.split("="):
                for n, comp in enumerate(group.split("^")):
                    kind = (f"the patient's {_PN_COMPONENTS[min(n, 4)]}" if patient
                            else "a person's name")
                    cat = "patient" if keyword.startswith("Patient") or keyword == "OtherPatientNames" else "person"
                    out += [Identifier(kind, p, "word", cat, source) for p in _name_parts(comp)]
        elif spec is not None:
            kind, cat = spec["kind"], spec["category"]
            if keyword == "PatientID" and other_ids:
                kind = "another patient ID"
            if spec["match"] == "exact" and len(value) >= cfg["min_length"]["exact"]:
                out.append(Identifier(kind, value, "exact", cat, source))
            elif spec["match"] == "tokens":
                out += [Identifier(kind, t, "word", cat, source) for t in _tokens(value)]
            elif spec["match"] == "birth_date" and _date_ok(value):
                y, m, d = value[:4], value[4:6], value[6:]
                for form in (value, f"{y}-{m}-{d}", f"{d}/{m}/{y}", f"{d}.{m}.{y}", f"{m}/{d}/{y}"):
                    out.append(Identifier(kind, form, "exact", cat, source))
        elif cfg["phone_keyword_contains"] in keyword:
            digits = re.sub(r"\D", "", value)
            lim = cfg["min_length"]["phone_digits"]
            for form in {value, digits}:
                if len(re.sub(r"\D", "", form)) >= lim:
                    out.append(Identifier("a telephone number", form, "exact", "patient", source))
        elif vr in ("DA", "DT") and _date_ok(value[:8]):
            out.append(Identifier("an original date", value[:8], "exact", "date", source))
    return out


def manufacturer_tokens(values: Iterable[str]) -> set[str]:
    return {t.lower() for v in values for t in re.split(r"[\W_]+", str(v)) if t}


def drop_manufacturer_words(identifiers: Iterable[Identifier], tokens: set[str]) -> list[Identifier]:
    """Institution words that are also manufacturer/model words are not identifiers (e.g. 'Siemens')."""
    return [i for i in identifiers if not (i.category == "institution" and i.mode == "word"
                                           and i.value.lower() in tokens)]
