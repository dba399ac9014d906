"""Test helper: turn a generated identifiable study into a clean, anonymised-looking set.

Deliberately NOT the project's anonymiser (the verifier's tests must not depend on it): a small
table-driven pass over PS3.15 Table E.1-1 with the trial default options (basic profile, clean
descriptors, modified dates), consistent UID mapping, private elements removed, public elements
the object's IOD does not define removed (a walk over the shared PS3.3 table), and the
de-identification record written. ROI names are kept.
"""
from __future__ import annotations

import datetime
import hashlib
import os
import shutil
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from sdu.standard import iod
from sdu.standard.annex_e import option_by_code, row_for

SUBJECT = "TRIAL-S001"
DEFAULT_CODES = ("113100", "113105", "113107")
DUMMY = {"DA": "19000101", "TM": "000000", "DT": "19000101000000", "AS": "000Y"}
KEEP = {"ROIName"}
TRIAL_SET = {"PatientName", "PatientID", "StudyID"}


def new_uid(uid: str) -> str:
    if uid.startswith("1.2.840.10008."):
        return uid
    return "2.25." + str(int.from_bytes(hashlib.sha256(uid.encode()).digest()[:15], "big"))


def _shift(value: str) -> str:
    try:
        d = datetime.datetime.strptime(value[:8], "%Y%m%d") - datetime.timedelta(days=137)
    except ValueError:
        return DUMMY["DA"]
    return d.strftime("%Y%m%d") + value[8:]


def _values(elem):
    v = elem.value
    return list(v) if isinstance(v, (list, tuple)) or type(v).__name__ == "MultiValue" else [v]


def _clean(ds: Dataset, columns: frozenset[str]) -> None:
    for elem in list(ds):
        if elem.tag.is_private:
            del ds[elem.tag]
            continue
        if elem.VR == "UI" and elem.value:
            elem.value = [new_uid(str(u)) for u in _values(elem)] if elem.VM > 1 else new_uid(str(elem.value))
        row = row_for(int(elem.tag))
        if row is None or elem.keyword in KEEP or elem.keyword in TRIAL_SET:
            action = "K"
        else:
            action = row.action(columns)
        if action == "X":
            del ds[elem.tag]
        elif elem.VR == "SQ":
            if action == "X/Z":
                elem.value = Sequence([])
            else:
                for item in elem.value:
                    _clean(item, columns)
        elif action in ("U", "X/Z/U*", "K"):
            pass
        elif action == "C" and elem.VR in ("DA", "DT"):
            elem.value = _shift(str(elem.value))
        elif action == "C":
            elem.value = "CLEANED" if elem.VR not in ("TM",) else elem.value
        elif action in ("Z", "X/Z"):
            elem.value = ""
        else:  # D, Z/D, X/D, X/Z/D
            elem.value = DUMMY.get(elem.VR, "ANONYMISED" if elem.VR in ("PN", "LO", "SH", "LT", "ST", "UT", "UC") else "")


def _iod_only(ds: Dataset, tree: dict) -> None:
    """Drop public elements the IOD does not define at their position (not private ones)."""
    for elem in list(ds):
        if elem.tag.is_private:
            continue
        sub = iod.child(tree, int(elem.tag))
        if sub is None:
            del ds[elem.tag]
        elif elem.VR == "SQ":
            for item in elem.value:
                _iod_only(item, sub)


def anonymise_like(src: Path, codes=DEFAULT_CODES) -> Dataset:
    ds = pydicom.dcmread(src)
    columns = frozenset(o.column for o in map(option_by_code, codes) if o)
    _iod_only(ds, iod.tree_for(str(ds.SOPClassUID))[0])
    _clean(ds, columns)
    ds.PatientName = SUBJECT
    ds.PatientID = SUBJECT
    ds.StudyID = "SESS01"
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "SDU test helper: basic profile + options"
    items = []
    for code in codes:
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator = code, "DCM"
        item.CodeMeaning = option_by_code(code).meaning if option_by_code(code) else "Basic Application Confidentiality Profile"
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)
    ds.ClinicalTrialSponsorName = "SDU Test Sponsor"
    ds.ClinicalTrialProtocolID = "TRIAL1"
    ds.ClinicalTrialSiteID = "SITE01"
    ds.ClinicalTrialSubjectID = SUBJECT
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if "SourceApplicationEntityTitle" in ds.file_meta:
        del ds.file_meta.SourceApplicationEntityTitle
    return ds


def make_clean_set(src_root: Path, dest: Path, codes=DEFAULT_CODES) -> dict[str, Path]:
    """Write the clean set as DEST/<subject>/<session>/<series uid>/<sop uid>.dcm; modality -> a path."""
    by_modality: dict[str, Path] = {}
    for dirpath, _, names in os.walk(src_root):
        for name in sorted(names):
            ds = anonymise_like(Path(dirpath, name), codes)
            out = dest / SUBJECT / "SESS01" / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"
            out.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(out, enforce_file_format=True)
            by_modality.setdefault(ds.Modality, out)
    return by_modality


def copy_set(master: Path, dest: Path) -> Path:
    shutil.copytree(master, dest)
    return dest
