"""Regenerate ``sdu/standard/data/annex_e.json`` (PS3.15 Table E.1-1) from two published copies.

Sources (both on PyPI, install them to run this):

* ``dicom-standard`` 0.1.0 (Innolitics, MIT, parsed from the 2020 edition): every row with the
  basic profile *and* the per-option columns.
* ``innolitics/dicom-standard`` on GitHub at commit 0d01bf11 (``standard/
  confidentiality_profile_attributes.json``, 460 rows, a later edition than the PyPI release):
  pass its path as ``--newer FILE``; its option columns win over the 2020 ones.
* ``dicom-anonymizer`` 2.1.0 (Kitware, BSD-3), ``dicomfields_2026c``: the basic-profile action
  of each row of the 2026c edition, which adds ~220 rows and changes 4 actions, but carries no
  option columns.

Merge rule: a row's basic action comes from the newest edition that has it (2026c); option
columns come from the newest Innolitics table that has the row (``--newer``, else 2020). Rows new since 2020 have no option columns there, so: a
date/time attribute (VR DA, DT, TM from pydicom's dictionary) gets the column values every
2020 date row has (Retain Longitudinal Full Dates ``K``, Modified Dates ``C``); any other new
row gets none, so its basic action applies whatever option is chosen (the conservative
reading: an option can only retain what the edition says it may).

Run: ``python tools/generate_annex_e.py [--newer FILE]`` (writes the data file, prints counts).
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from pydicom.datadict import dictionary_VR, keyword_for_tag

OPTION_COLUMNS = [
    "rtnSafePrivOpt", "rtnUIDsOpt", "rtnDevIdOpt", "rtnInstIdOpt", "rtnPatCharsOpt",
    "rtnLongFullDatesOpt", "rtnLongModifDatesOpt", "cleanDescOpt", "cleanStructContOpt",
    "cleanGraphOpt",
]
KITWARE_CATEGORIES = {
    "D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U", "Z_D_TAGS": "Z/D",
    "X_Z_TAGS": "X/Z", "X_D_TAGS": "X/D", "X_Z_D_TAGS": "X/Z/D", "X_Z_U_STAR_TAGS": "X/Z/U*",
}
OUT = Path(__file__).resolve().parent.parent / "sdu" / "standard" / "data" / "annex_e.json"


def innolitics_rows(path: Path | None = None) -> dict[str, dict]:
    import site
    for base in [sys.prefix, *site.getsitepackages()]:
        if path is not None:
            break
        candidate = Path(base) / "standard" / "confidentiality_profile_attributes.json"
        if candidate.exists():
            path = candidate
    if path is None:
        raise SystemExit("install dicom-standard==0.1.0 first")
    rows = {}
    for r in json.loads(path.read_text()):
        tag = r["tag"].upper().replace(" ", "")
        if "WHERE" in tag:  # private attributes: handled by the private-element rule
            continue
        rows[tag] = r
    return rows


def kitware_rows(edition: str = "dicomfields_2026c") -> dict[str, tuple[str, str]]:
    mod = importlib.import_module(f"dicomanonymizer.dicom_anonymization_databases.{edition}")
    src = Path(mod.__file__).read_text().splitlines()
    names = {}
    for line in src:
        if line.strip().startswith("(0x") and "#" in line:
            key = line.split("#")[0].strip().rstrip(",")
            names[key] = line.split("#", 1)[1].strip()
    rows = {}
    for cat, action in KITWARE_CATEGORIES.items():
        for t in getattr(mod, cat):
            if len(t) == 4:  # (group, element, group mask, element mask): repeating groups
                g, e, gm, em = t
                tag = f"({g >> 8:02X}XX,{'XXXX' if em == 0 else f'{e:04X}'})"
            else:
                g, e = t
                tag = f"({g:04X},{e:04X})"
            key = "(" + ", ".join(f"0x{v:04X}" for v in t) + ")"
            name = next((n for k, n in names.items() if k.upper() == key.upper()), "")
            rows[tag] = (action, name)
    return rows


def vr_of(tag: str) -> str:
    if "X" in tag[1:10].replace("0X", ""):
        return ""
    try:
        return dictionary_VR(int(tag[1:5] + tag[6:10], 16))
    except KeyError:
        return ""


def main() -> None:
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--newer", type=Path, help="a later Innolitics confidentiality_profile_attributes.json")
    args = parser.parse_args()
    old, new = innolitics_rows(), kitware_rows()
    newer = innolitics_rows(args.newer) if args.newer else {}
    out = []
    for tag in sorted(set(old) | set(newer) | set(new)):
        o = newer.get(tag) or old.get(tag)
        action, name = new.get(tag, (None, None))
        row = {
            "tag": tag,
            "name": (o or {}).get("name") or name,
            "keyword": keyword_for_tag(int(tag[1:5] + tag[6:10], 16)) if "X" not in tag else "",
            "basic": action or o["basicProfile"],
        }
        for col in OPTION_COLUMNS:
            if o and col in o:
                row[col] = o[col]
        if not o and vr_of(tag) in ("DA", "DT", "TM"):
            row["rtnLongFullDatesOpt"], row["rtnLongModifDatesOpt"] = "K", "C"
        row["editions"] = [e for e, src in (("2020", old), ("innolitics-0d01bf11", newer), ("2026c", new)) if tag in src]
        out.append(row)
    doc = {
        "title": "DICOM PS3.15 Table E.1-1 Application Level Confidentiality Profile Attributes",
        "generated_by": "tools/generate_annex_e.py",
        "sources": [
            "PyPI dicom-standard 0.1.0 (Innolitics): 2020 edition, basic + option columns",
            "PyPI dicom-anonymizer 2.1.0 (Kitware): dicomfields_2026c, basic profile of 2026c",
            *(["GitHub innolitics/dicom-standard@0d01bf11: option columns of a later edition"] if newer else []),
        ],
        "rows": out,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(out)} rows ({len(old)} in 2020, {len(newer)} in the later Innolitics table, "
          f"{len(new)} in 2026c) -> {OUT}")


if __name__ == "__main__":
    main()
