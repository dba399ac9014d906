"""Checks on one parsed output dataset, at every depth (PS3.15 Annex E, Table E.1-1).

* profile: an element the profile removes (X) is absent; an X/Z or Z element is absent or empty;
  X sequences are absent, others are recursed into. The action is computed with the options the
  FILE declares in its De-identification Method Code Sequence.
* private: no private element remains (unless Retain Safe Private is declared and the
  creator/element pair is on the safe list).
* uids: no UI value is an original UID.
* identifiers: no element value contains an identifier (run when the raw-bytes scan found one).
* record: PatientIdentityRemoved is YES and the method codes include the basic profile (113100).
* iod: every public element is defined by the object's IOD at its position, known, and written
  with the dictionary's VR (:mod:`verifier.iod`), unless the file declares non-IOD elements kept.
Elements of the Clinical Trial / de-identification record are judged by the identifier check only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from sdu.standard.annex_e import option_by_code, row_for

from . import iod, rules
from .identifiers import Identifier, Matcher
from .model import Finding
from .walk import Node, _raw_type, is_private, items, nodes

if TYPE_CHECKING:  # the data sets come from pydicom; this module does not need it to be imported
    from pydicom.dataset import Dataset

BASIC_PROFILE = "113100"
RETAIN_SAFE_PRIVATE = "113111"
RETAIN_UIDS = "113110"


@lru_cache(maxsize=8192)
def _row(tag: int):
    return row_for(tag)


def declared_codes(ds: Dataset) -> frozenset[str]:
    """DCM codes listed in DeidentificationMethodCodeSequence (0012,0064)."""
    codes = set()
    try:
        for item in ds.get("DeidentificationMethodCodeSequence", None) or ():
            value = item.get("CodeValue", None)
            if value:
                codes.add(str(value).strip())
    except Exception:  # a damaged sequence declares nothing
        pass
    return frozenset(codes)


def option_columns(codes: frozenset[str]) -> frozenset[str]:
    return frozenset(o.column for o in (option_by_code(c) for c in codes) if o is not None)


def record_findings(ds: Dataset, codes: frozenset[str]) -> list[Finding]:
    out = []
    removed = ds.get("PatientIdentityRemoved", None)
    if removed is None:
        out.append(Finding("record", "(0012,0062)", "PatientIdentityRemoved is missing", "PatientIdentityRemoved"))
    elif str(removed).strip().upper() != "YES":
        out.append(Finding("record", "(0012,0062)", "PatientIdentityRemoved is not YES", "PatientIdentityRemoved"))
    if BASIC_PROFILE not in codes:
        out.append(Finding("record", "(0012,0064)",
                           "DeidentificationMethodCodeSequence does not declare the basic profile (113100)",
                           "DeidentificationMethodCodeSequence"))
    return out


def _method(ds: Dataset):
    """De-identification Method (0012,0063) as read (None when absent or unreadable)."""
    try:
        return ds.get("DeidentificationMethod", None)
    except Exception:  # a damaged value declares nothing
        return None


def _is_trial_record(tag: int, keyword: str) -> bool:
    return (tag >> 16) in rules.trial_record_groups() or keyword in rules.trial_record_keywords()


@dataclass
class DatasetCheck:
    """Walks one dataset once and collects findings plus the byte ranges they cover."""

    codes: frozenset[str]
    matcher: Matcher | None = None          # set when values must be searched for identifiers
    personal: Matcher | None = None         # patient/person identifiers only (for option-retained elements)
    uids: frozenset[str] | None = None      # original UIDs, None when the check cannot run
    findings: list[Finding] = field(default_factory=list)
    covered: list[tuple[int, int]] = field(default_factory=list)
    covered_unplaced: set[Identifier] = field(default_factory=set)
    uids_unplaced: set[str] = field(default_factory=set)

    def __post_init__(self):
        self.columns = option_columns(self.codes)
        self.safe_private = RETAIN_SAFE_PRIVATE in self.codes
        self.iod_root = None

    # -- entry ----------------------------------------------------------------------------
    def run(self, ds: Dataset) -> None:
        meta = getattr(ds, "file_meta", None)
        if meta is not None:
            self._visit(meta, 0, "", "", True)
        if not iod.declares_kept(_method(ds)):
            self.iod_root = iod.tree_for(str(ds.get("SOPClassUID", "") or ""))
        self._visit(ds, 0, "", "", True, self.iod_root)

    # -- walk -----------------------------------------------------------------------------
    def _visit(self, ds: Dataset, base: int | None, tp: str, kp: str, profile: bool, tree=None) -> None:
        top = tree is not None and tree is self.iod_root
        raw_type = _raw_type()
        for node in nodes(ds, base, tp, kp):
            child_profile = profile
            sub = None
            if tree is not None and not is_private(node.tag) and node.tag & 0xFFFF and node.tag >> 16 != 0x0002:
                wire = None if isinstance(node.elem, raw_type) and node.elem.is_implicit_VR else node.vr
                problem, sub = iod.problem(tree, node.tag, wire, top)
                if problem:
                    self._add("iod", node, problem)
            if is_private(node.tag):
                self._private(ds, node)
                child_profile = False
            elif profile and not _is_trial_record(node.tag, node.keyword):
                child_profile = self._profile(ds, node)
            else:
                child_profile = False
            if node.vr == "SQ":
                try:
                    for item, child_base, ctp, ckp in items(ds, node):
                        self._visit(item, child_base, ctp, ckp, child_profile, sub)
                except Exception as exc:
                    self.findings.append(Finding("readable", node.tag_path,
                                                 f"sequence could not be parsed ({type(exc).__name__})",
                                                 node.keyword_path))
                continue
            if node.vr == "UI" and self.uids:
                self._uid(node)
            if self.matcher:
                self._identifiers(node)

    def _add(self, check: str, node: Node, message: str) -> None:
        self.findings.append(Finding(check, node.tag_path, message, node.keyword_path))

    def _profile(self, ds: Dataset, node: Node) -> bool:
        """Judge one element by its Table E.1-1 action; return whether its items are judged too."""
        row = _row(node.tag)
        if row is None:
            return True
        action = row.action(self.columns)
        if action == "X":
            self._add("profile", node, "present, but the profile removes this element (X)")
            return False
        if action in ("X/Z", "Z"):
            what = "removes or empties" if action == "X/Z" else "empties"
            if node.vr == "SQ":
                if len(ds[node.tag].value or ()):
                    self._add("profile", node, f"has items, but the profile {what} this sequence ({action})")
                    return False
            elif node.has_value():
                self._add("profile", node, f"has a value, but the profile {what} this element ({action})")
        return True

    def _private(self, ds: Dataset, node: Node) -> None:
        if self.safe_private and self._safe(ds, node.tag):
            return
        what = "private creator" if 0x10 <= (node.tag & 0xFFFF) <= 0xFF else "private element"
        reason = " not on the safe private list" if self.safe_private else ""
        self._add("private", node, f"{what} remains{reason}")

    def _safe(self, ds: Dataset, tag: int) -> bool:
        group, elem = tag >> 16, tag & 0xFFFF
        safe = rules.safe_private()
        if 0x10 <= elem <= 0xFF:
            creator = ds.get((group << 16) | elem)
            name = str(creator.value).strip() if creator is not None else ""
            return any(c == name and g == group for c, g, _ in safe)
        if elem < 0x1000:
            return False
        creator = ds.get((group << 16) | (elem >> 8))
        name = str(creator.value).strip() if creator is not None else ""
        return (name, group, elem & 0xFF) in safe

    def _uid(self, node: Node) -> None:
        hits = [u for u in node.text_values() if u in self.uids]
        if hits:
            self._add("uids", node, "is an original UID (not replaced)")
            if node.offset is not None:
                self.covered.append((node.offset, node.offset + max(node.length, 0)))
            else:
                self.uids_unplaced.update(hits)

    def _retained_by_option(self, tag: int) -> bool:
        """True when a declared retain option (device, institution, dates...) keeps this element."""
        row = _row(tag)
        return row is not None and row.basic != "K" and row.action(self.columns) == "K"

    def _identifiers(self, node: Node) -> None:
        matcher = self.matcher
        if not is_private(node.tag) and self._retained_by_option(node.tag):
            # e.g. StationName kept under Retain Device Identity may name the institution: the option
            # allows that; names of people and patient IDs are still not allowed in it.
            matcher = self.personal
            if node.offset is not None:
                self.covered.append((node.offset, node.offset + max(node.length, 0)))
        found = {ident for _, ident in matcher.find(node.value_bytes())} if matcher else set()
        if not found:
            return
        kinds = sorted({i.describe() for i in found})
        self._add("identifiers", node, "contains " + "; ".join(kinds))
        if node.offset is not None:
            self.covered.append((node.offset, node.offset + max(node.length, 0)))
        else:
            self.covered_unplaced |= found
