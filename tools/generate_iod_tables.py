"""Generate ``sdu/standard/data/iod_attributes.json``: which attributes each IOD defines, where.

Source: Innolitics' parsed PS3.3 tables, shipped by PyPI ``dicom-standard`` (install it into the
venv: ``pip install dicom-standard==0.1.0``; it is not a runtime dependency). Read from the
installed package's ``standard/`` folder:

* ``sops.json``             SOP Class UID -> CIOD name
* ``ciods.json``            CIOD name -> CIOD id
* ``ciod_to_modules.json``  CIOD id -> module ids (every usage: M, C and U)
* ``module_to_attributes.json``  module id -> attribute paths, macros already expanded
  (``roi-contour:30060039:30060040:30060016:00081155``)
* ``ciod_to_fg_macros.json`` + ``macro_to_attributes.json``  the functional group macros of
  enhanced multi-frame CIODs, allowed inside the items of the Shared and Per-frame Functional
  Groups Sequences.

Output (compact): ``trees`` is a table of attribute trees, each ``{"ggggeeee": tree index}``
(index 0 is the empty tree: an attribute without nested attributes); identical sub-trees are
stored once (the Code Sequence Macro appears thousands of times). ``vrs`` gives the data
dictionary's VR (PS3.6, ``attributes.json``) of every tag in a tree. ``modules`` maps a module id to
its tree, ``ciods`` a CIOD id to its modules, ``sop_classes`` a SOP Class UID to its CIOD.
Repeating groups (``60xx``) are stored with ``xx`` = ``00``. ``ADDITIONS`` below adds attributes
newer than the package's edition (listed in ``sdu/standard/data/README.md``).

Usage: ``python tools/generate_iod_tables.py [--out PATH]``
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib import metadata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sdu" / "standard" / "data" / "iod_attributes.json"

#: Modules every object may carry when its SOP class is not in the table (the fallback:
#: patient, study, series, equipment, frame of reference, SOP common, clinical trial modules,
#: and the general image/pixel modules an image needs to display).
FALLBACK_MODULES = [
    "patient", "clinical-trial-subject", "general-study", "patient-study", "clinical-trial-study",
    "general-series", "clinical-trial-series", "general-equipment", "frame-of-reference",
    "sop-common", "general-image", "image-plane", "image-pixel",
]

#: Attributes newer than the package's 2020 edition (or missing from its parse) that trials need,
#: as (module id, tag path, why). Each is in the current PS3.3 at that position.
ADDITIONS: list[tuple[str, list[str], str]] = [
    ("ct-image", ["00180088"], "Spacing Between Slices: written by CT scanners and read by planning systems; "
                               "in the CT IOD of dicom3tools' current edition (dciodvfy accepts it)"),
]

#: Repairs of the package's parse, as (module id, from path, to path, tags): the tags are moved
#: from below one attribute to below another. Rows after an included macro were nested one level
#: too deep or too shallow (checked against the RT ROI Observations Module, PS3.3 C.8.8.8).
MOVES = [
    ("rt-roi-observations", ["00082228"], ["30060080"],
     ["00620003", "30060086", "300600A0", "300600A4", "300600A6", "300A00E1", "300600B0"]),
    ("rt-roi-observations", [], ["30060080"], ["00082218", "00082228"]),
]

#: Top-level attributes kept whatever the IOD: those SDU itself writes after the walk (Clinical
#: Trial modules and the de-identification record), and those without which the pixel data
#: cannot be decoded (an object that holds several frames under a single-frame IOD).
TOP_LEVEL_KEPT = {
    "groups": ["0012"],
    "tags": ["00100010", "00100020", "00200010", "00280303", "00280008", "00280009"],
    "why": "0012 group, Patient's Name/ID, Study ID, Longitudinal Temporal Information Modified: "
           "written by SDU after the walk; Number of Frames, Frame Increment Pointer: needed to decode the pixel data",
}

#: The value SDU adds to De-identification Method (0012,0063) when elements outside the IOD were
#: kept on request (``sdu anonymise --keep-non-iod``); the verifier then skips its IOD check.
KEEP_DECLARATION = "SDU: elements outside the IOD kept (--keep-non-iod)"


def _standard_dir() -> Path:
    dist = metadata.distribution("dicom-standard")
    for f in dist.files or ():
        if f.name == "ciod_to_modules.json":
            return Path(dist.locate_file(f)).parent
    raise SystemExit("dicom-standard is installed without its standard/ tables")


def _load(folder: Path, name: str):
    return json.loads((folder / name).read_text(encoding="utf-8"))


def _key(tag: str) -> str:
    """``(60xx,0010)`` or ``60xx0010`` -> ``60000010``; lower-case hex is made upper."""
    t = tag.strip("()").replace(",", "").lower().replace("xx", "00")
    return t.upper()


def _at(tree: dict, path: list[str]) -> dict:
    for tag in path:
        tree = tree[_key(tag)]
    return tree


def _insert(tree: dict, path: list[str]) -> None:
    node = tree
    for tag in path:
        node = node.setdefault(_key(tag), {})


class Interner:
    """Stores identical trees once; a tree is a dict ``tag -> child tree``."""

    def __init__(self):
        self.table: list[dict] = [{}]
        self.index: dict[str, int] = {"{}": 0}

    def add(self, tree: dict) -> int:
        flat = {tag: self.add(child) for tag, child in sorted(tree.items())}
        key = json.dumps(flat, separators=(",", ":"))
        if key not in self.index:
            self.index[key] = len(self.table)
            self.table.append(flat)
        return self.index[key]


def build(folder: Path) -> dict:
    modules: dict[str, dict] = {}
    for a in _load(folder, "module_to_attributes.json"):
        _insert(modules.setdefault(a["moduleId"], {}), a["path"].split(":")[1:])
    macros: dict[str, dict] = {}
    for a in _load(folder, "macro_to_attributes.json"):
        _insert(macros.setdefault(a["macroId"], {}), a["path"].split(":")[1:])
    for module, path, _ in ADDITIONS:
        _insert(modules[module], path)
    for module, src, dst, tags in MOVES:
        below_src, below_dst = _at(modules[module], src), _at(modules[module], dst)
        for tag in tags:
            _merge(below_dst.setdefault(tag, {}), below_src.pop(tag))

    ciod_ids = {c["name"]: c["id"] for c in _load(folder, "ciods.json")}
    ciods: dict[str, list[str]] = {}
    for row in _load(folder, "ciod_to_modules.json"):
        if row["moduleId"] in modules:
            ciods.setdefault(row["ciodId"], []).append(row["moduleId"])
    for row in _load(folder, "ciod_to_fg_macros.json"):  # functional group macros: in both FG sequences
        fg = modules.setdefault(f"functional-groups/{row['ciodId']}", {})
        for seq in ("52009229", "52009230"):
            _merge(fg.setdefault(seq, {}), macros.get(row["macroId"], {}))
        if f"functional-groups/{row['ciodId']}" not in ciods.setdefault(row["ciodId"], []):
            ciods[row["ciodId"]].append(f"functional-groups/{row['ciodId']}")
    sop_classes = {s["id"]: ciod_ids[s["ciod"]] for s in _load(folder, "sops.json") if s["ciod"] in ciod_ids}

    used = sorted({m for ms in ciods.values() for m in ms} | set(FALLBACK_MODULES))
    interner = Interner()
    module_trees = {m: interner.add(modules[m]) for m in used}
    vrs = _vrs(folder, {tag for tree in interner.table for tag in tree})
    version = metadata.version("dicom-standard")
    return {
        "source": {
            "package": "dicom-standard (Innolitics, PyPI)", "version": version,
            "edition": "DICOM PS3.3 as parsed for dicom-standard 0.1.0 (2020)",
            "tables": ["sops.json", "ciods.json", "ciod_to_modules.json", "module_to_attributes.json",
                       "ciod_to_fg_macros.json", "macro_to_attributes.json"],
            "generator": "tools/generate_iod_tables.py",
        },
        "additions": [{"module": m, "path": p, "why": w} for m, p, w in ADDITIONS],
        "moves": [{"module": m, "from": f, "to": t, "tags": tags} for m, f, t, tags in MOVES],
        "top_level_kept": TOP_LEVEL_KEPT,
        "keep_declaration": KEEP_DECLARATION,
        "fallback_modules": FALLBACK_MODULES,
        "sop_classes": dict(sorted(sop_classes.items())),
        "ciods": {c: sorted(ms) for c, ms in sorted(ciods.items())},
        "vrs": vrs,
        "modules": module_trees,
        "trees": interner.table,
    }


def _vrs(folder: Path, tags: set[str]) -> dict[str, str]:
    """The data dictionary's VR (PS3.6, as ``attributes.json`` has it) of every tag in a tree;
    pydicom's dictionary fills the few the parse left without one."""
    from pydicom.datadict import dictionary_VR

    known = {_key(a["tag"]): a["valueRepresentation"] for a in _load(folder, "attributes.json")}
    out = {}
    for tag in sorted(tags):
        vr = known.get(tag, "")
        if not vr or not all(len(v) == 2 and v.isupper() for v in vr.split(" or ")):
            try:
                vr = dictionary_VR(int(tag, 16))
            except KeyError:
                print(f"no VR for {tag}: left out (its VR is not checked)", file=sys.stderr)
                continue
        out[tag] = vr
    return out


def _merge(into: dict, other: dict) -> None:
    for tag, child in other.items():
        _merge(into.setdefault(tag, {}), child)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    doc = build(_standard_dir())
    args.out.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=False) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(doc['sop_classes'])} SOP classes, {len(doc['ciods'])} CIODs, "
          f"{len(doc['modules'])} modules, {len(doc['trees'])} distinct trees", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
