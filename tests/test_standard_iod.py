"""``sdu/standard/data/iod_attributes.json``: the PS3.3 IOD table both the anonymiser and the
verifier judge by. Its pedigree is recorded, its structure is whole, and the RT paths trials rely
on are in it (nested paths included)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from pydicom.datadict import dictionary_VR
from pydicom.uid import (CTImageStorage, MRImageStorage, RTDoseStorage, RTIonPlanStorage, RTPlanStorage,
                         RTStructureSetStorage)

from sdu.standard import iod


def _path(sop_class: str, *tags: int):
    tree, known = iod.tree_for(sop_class)
    assert known
    for tag in tags:
        tree = iod.child(tree, tag)
        if tree is None:
            return None
    return tree


def test_source_and_edition_recorded():
    doc = iod.document()
    assert doc["source"]["package"].startswith("dicom-standard") and doc["source"]["version"]
    assert "2020" in doc["source"]["edition"] and doc["source"]["generator"] == "tools/generate_iod_tables.py"


def test_structure_is_whole():
    doc = iod.document()
    assert len(doc["sop_classes"]) >= 140
    for ciod in doc["sop_classes"].values():
        assert all(m in doc["modules"] for m in doc["ciods"][ciod])
    assert all(m in doc["modules"] for m in doc["fallback_modules"])
    n = len(doc["trees"])
    assert all(0 <= i < n for tree in doc["trees"] for i in tree.values())
    assert doc["trees"][0] == {}


def test_rt_paths_trials_need():
    # ROI Contour Sequence > Contour Sequence > Contour Image Sequence > Referenced SOP Instance UID
    assert _path(RTStructureSetStorage, 0x30060039, 0x30060040, 0x30060016, 0x00081155) is not None
    assert _path(RTStructureSetStorage, 0x30060039, 0x30060040, 0x30060050) is not None  # Contour Data
    # RT ROI Observations: repaired parse (RT ROI Interpreted Type in the sequence's items)
    assert _path(RTStructureSetStorage, 0x30060080, 0x300600A4) is not None
    assert _path(RTStructureSetStorage, 0x30060080, 0x00082228, 0x300600A4) is None
    assert _path(RTStructureSetStorage, 0x00082228) is None
    # Beam Sequence > Control Point Sequence > Beam Limiting Device Position Sequence > Leaf/Jaw Positions
    assert _path(RTPlanStorage, 0x300A00B0, 0x300A0111, 0x300A011A, 0x300A011C) is not None
    assert _path(RTIonPlanStorage, 0x300A03A2) is not None  # Ion Beam Sequence
    assert _path(RTDoseStorage, 0x3004000C) is not None and _path(RTDoseStorage, 0x7FE00010) is not None
    assert _path(CTImageStorage, 0x00180060) is not None and _path(MRImageStorage, 0x00180081) is not None
    assert _path(CTImageStorage, 0x30060039) is None  # no contours in a CT


def test_repeating_overlay_groups_and_multi_vrs():
    assert _path(MRImageStorage, 0x60003000) is not None and _path(MRImageStorage, 0x601E3000) is not None
    assert _path(MRImageStorage, 0x60013000) is None  # odd: private, never a repeating group
    assert iod.dictionary_vrs(0x00280106) == {"US", "SS"}
    assert iod.dictionary_vrs(0x7FE00010) == {"OB", "OW"}


def test_vrs_agree_with_pydicoms_dictionary():
    """The table's VRs are PS3.6's: pydicom's dictionary (a later edition) agrees on nearly all."""
    vrs = iod.document()["vrs"]
    differ = []
    for tag, vr in vrs.items():
        try:
            theirs = dictionary_VR(int(tag, 16))
        except KeyError:
            continue
        if set(theirs.split(" or ")) != set(vr.split(" or ")):
            differ.append(tag)
    assert len(differ) <= len(vrs) // 100, differ


def test_top_level_kept_and_keep_declaration():
    assert iod.top_level_kept(0x00120062) and iod.top_level_kept(0x00120064) and iod.top_level_kept(0x00280008)
    assert not iod.top_level_kept(0x00180015)
    assert len(iod.keep_declaration()) <= 64  # an LO value


@pytest.mark.skipif(importlib.util.find_spec("dicom_standard") is None, reason="dicom-standard not installed")
def test_generator_reproduces_the_data_file(tmp_path):
    import runpy
    gen = runpy.run_path(str(Path(__file__).resolve().parents[1] / "tools" / "generate_iod_tables.py"))
    out = tmp_path / "iod.json"
    assert gen["main"](["--out", str(out)]) == 0
    assert json.loads(out.read_text()) == iod.document()
