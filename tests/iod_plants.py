"""Non-IOD elements to plant in test files (tests/anonymiser, tests/test_iod_end_to_end.py).

Each carries a marker value no profile rule touches, so only the IOD rule can remove it. The
plants assert their own premise against the tables (not in the IOD there, not in Table E.1-1).
"""
from __future__ import annotations

from pydicom.datadict import dictionary_has_tag
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from sdu.standard import annex_e, iod

RTSTRUCT_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"
CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"
UNKNOWN_TAG = 0x0018FFF0  # an even group, unassigned element: not in the data dictionary

#: name -> (marker value, how to plant it)
MARKERS = {
    "other module": b"ZQXWOTHERMODULE",
    "nested": b"ZQXW NESTED POSITION",
    "wrong vr": b"ZQXW WRONG VR TEXT",
    "unknown tag": b"ZQXW UNKNOWN PUBLIC",
}


def _tree(sop_class: str):
    tree, known = iod.tree_for(sop_class)
    assert known
    return tree


def plant_rtstruct(ds: Dataset) -> None:
    tree = _tree(RTSTRUCT_CLASS)
    # BodyPartExamined (General Series): not in the RT Structure Set IOD, not in Table E.1-1
    assert iod.child(tree, 0x00180015) is None and annex_e.row_for(0x00180015) is None
    ds.add_new(0x00180015, "CS", MARKERS["other module"].decode())
    # ROI Name belongs in Structure Set ROI Sequence items, not in ROI Contour Sequence items
    contour_item = iod.child(tree, 0x30060039)
    assert iod.child(contour_item, 0x30060026) is None and iod.child(iod.child(tree, 0x30060020), 0x30060026) is not None
    ds.ROIContourSequence[0].add_new(0x30060026, "LO", MARKERS["nested"].decode())
    # Structure Set Description is ST in the dictionary; written as UT
    assert iod.child(tree, 0x30060006) is not None and iod.dictionary_vrs(0x30060006) == {"ST"}
    ds[0x30060006] = DataElement(0x30060006, "UT", MARKERS["wrong vr"].decode())
    assert not dictionary_has_tag(UNKNOWN_TAG)
    ds.add_new(UNKNOWN_TAG, "LO", MARKERS["unknown tag"].decode())


def plant_ct(ds: Dataset) -> None:
    tree = _tree(CT_CLASS)
    assert iod.child(tree, 0x300A00C2) is None and annex_e.row_for(0x300A00C2) is None
    ds.add_new(0x300A00C2, "LO", MARKERS["other module"].decode())  # Beam Name (RT Beams) at the top of a CT
    ds[0x00180050] = DataElement(0x00180050, "LO", MARKERS["wrong vr"].decode())  # Slice Thickness is DS
    ds.add_new(UNKNOWN_TAG, "LO", MARKERS["unknown tag"].decode())


