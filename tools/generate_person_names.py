"""Write anonymiser/data/person_names.json: given names and surnames from Faker's person providers.

Run with Faker installed (``pip install faker``): ``python tools/generate_person_names.py``.
The anonymiser reads the lists as data (``anonymiser/personnames.py``); Faker is not a runtime
dependency. A surname alone is never scrubbed (``Brain``, ``Long``, ``Heart`` are surnames), but
a given name is the trigger of the given-name + surname rule, so given names that are also words
of TG-263 structure names (``validator/data/tg263.csv``) are left out.
"""
from __future__ import annotations

import csv
import importlib
import json
import re
from pathlib import Path

import faker

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "anonymiser" / "data" / "person_names.json"
#: Latin-script locales of the countries trials recruit in.
LOCALES = ("en_US", "en_GB", "en_IE", "en_NZ", "en_CA", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CA", "fr_BE",
           "es_ES", "es_MX", "it_IT", "nl_NL", "nl_BE", "pt_PT", "pt_BR", "pl_PL", "cs_CZ", "sk_SK", "sv_SE",
           "da_DK", "no_NO", "fi_FI", "hu_HU", "ro_RO", "hr_HR", "sl_SI", "tr_TR", "ga_IE", "et_EE", "lt_LT",
           "lv_LV", "is_IS")
WORD = re.compile(r"^[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*$")


def _names(provider, *attributes) -> set[str]:
    out = set()
    for attribute in attributes:
        values = getattr(provider, attribute, None) or ()
        for v in (values.keys() if isinstance(values, dict) else values):
            v = str(v).strip()
            if len(v) >= 2 and WORD.match(v):
                out.add(v)
    return out


def _tg263_words() -> set[str]:
    words = set()
    with open(ROOT / "validator" / "data" / "tg263.csv", encoding="utf-8") as f:
        rows = (line for line in f if not line.startswith("#"))
        for row in csv.DictReader(rows):
            for field in ("name", "description"):
                words |= {w.lower() for w in re.split(r"[\W_]+", row.get(field) or "") if w}
    return words


def main() -> None:
    given, surnames, used = set(), set(), []
    for locale in LOCALES:
        try:
            module = importlib.import_module(f"faker.providers.person.{locale}")
        except ImportError:
            continue
        p = module.Provider
        given |= _names(p, "first_names", "first_names_male", "first_names_female", "first_names_nonbinary")
        surnames |= _names(p, "last_names", "last_names_male", "last_names_female")
        used.append(locale)
    anatomy = _tg263_words()
    given = {g for g in given if g.lower() not in anatomy}
    doc = {
        "source": f"Faker {faker.VERSION} (MIT), faker.providers.person, locales {', '.join(used)}",
        "generated_by": "tools/generate_person_names.py",
        "given": sorted(given),
        "surnames": sorted(surnames),
    }
    OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(doc['given'])} given names, {len(doc['surnames'])} surnames -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
