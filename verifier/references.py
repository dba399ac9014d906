"""RT references must resolve within the verified set (folder level).

RTSTRUCT: contour image references (ROIContourSequence and RTReferencedSeriesSequence) name SOP
instances of the set, and the referenced frame of reference is an image's FrameOfReferenceUID.
RTPLAN: ReferencedStructureSetSequence names an RTSTRUCT of the set. RTDOSE:
ReferencedRTPlanSequence names an RTPLAN of the set. A dangling reference fails the referencing file,
unless it already dangled in the source (a partial export): then it is a warning.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from .dictionary import tag_for_keyword
from .model import Finding
from .walk import tag_str

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

#: SOP Class UIDs (PS3.4 Annex B), as pydicom.uid names them.
RTStructureSetStorage = "1.2.840.10008.5.1.4.1.1.481.3"
RTPlanStorage = "1.2.840.10008.5.1.4.1.1.481.5"
RTDoseStorage = "1.2.840.10008.5.1.4.1.1.481.2"

RT_CLASSES = {RTStructureSetStorage, RTPlanStorage, RTDoseStorage, "1.2.840.10008.5.1.4.1.1.481.8"}  # + Ion Plan


@dataclass(frozen=True)
class Ref:
    kind: str       # "instance", "frame of reference", "structure set", "plan"
    uid: str
    tag_path: str
    keyword_path: str


@dataclass
class RtSummary:
    path: str
    sop_class: str
    sop_uid: str
    for_uid: str
    refs: list[Ref] = field(default_factory=list)


def _items(ds: Dataset, keyword: str, tp: str, kp: str) -> Iterator[tuple[Dataset, str, str]]:
    for i, item in enumerate(ds.get(keyword, None) or ()):
        yield item, f"{tp}{tag_str(tag_for_keyword(keyword))}[{i}]/", f"{kp}{keyword}[{i}]."


def _ref(item: Dataset, keyword: str, kind: str, tp: str, kp: str) -> Ref | None:
    value = item.get(keyword, None)
    if not value:
        return None
    return Ref(kind, str(value).strip(), tp + tag_str(tag_for_keyword(keyword)), kp + keyword)


def summarise(path: str, ds: Dataset) -> RtSummary:
    s = RtSummary(path, str(ds.get("SOPClassUID", "")), str(ds.get("SOPInstanceUID", "")),
                  str(ds.get("FrameOfReferenceUID", "") or ""))
    refs = s.refs
    if s.sop_class == RTStructureSetStorage:
        for fr, tp, kp in _items(ds, "ReferencedFrameOfReferenceSequence", "", ""):
            refs.append(_ref(fr, "FrameOfReferenceUID", "frame of reference", tp, kp))
            for st, tp2, kp2 in _items(fr, "RTReferencedStudySequence", tp, kp):
                for se, tp3, kp3 in _items(st, "RTReferencedSeriesSequence", tp2, kp2):
                    for im, tp4, kp4 in _items(se, "ContourImageSequence", tp3, kp3):
                        refs.append(_ref(im, "ReferencedSOPInstanceUID", "instance", tp4, kp4))
        for roi, tp, kp in _items(ds, "ROIContourSequence", "", ""):
            for c, tp2, kp2 in _items(roi, "ContourSequence", tp, kp):
                for im, tp3, kp3 in _items(c, "ContourImageSequence", tp2, kp2):
                    refs.append(_ref(im, "ReferencedSOPInstanceUID", "instance", tp3, kp3))
    elif s.sop_class in RT_CLASSES - {RTDoseStorage, RTStructureSetStorage}:
        for item, tp, kp in _items(ds, "ReferencedStructureSetSequence", "", ""):
            refs.append(_ref(item, "ReferencedSOPInstanceUID", "structure set", tp, kp))
    elif s.sop_class == RTDoseStorage:
        for item, tp, kp in _items(ds, "ReferencedRTPlanSequence", "", ""):
            refs.append(_ref(item, "ReferencedSOPInstanceUID", "plan", tp, kp))
    s.refs = [r for r in refs if r is not None]
    return s


WHAT = {"instance": "an instance", "frame of reference": "an image's frame of reference",
        "structure set": "an RT structure set", "plan": "an RT plan"}


def unresolved(summaries: list[RtSummary]) -> Iterator[tuple[RtSummary, Ref]]:
    """Every (file, reference) whose target is not in the set of ``summaries``."""
    instances = {s.sop_uid for s in summaries}
    image_fors = {s.for_uid for s in summaries if s.sop_class not in RT_CLASSES and s.for_uid}
    by_kind = {
        "instance": instances,
        "frame of reference": image_fors,
        "structure set": {s.sop_uid for s in summaries if s.sop_class == RTStructureSetStorage},
        "plan": {s.sop_uid for s in summaries if s.sop_class in RT_CLASSES - {RTDoseStorage, RTStructureSetStorage}},
    }
    for s in summaries:
        for r in s.refs:
            if r.uid not in by_kind[r.kind]:
                yield s, r


def check_references(summaries: list[RtSummary], source=None, original_of=None
                     ) -> tuple[dict[str, list[Finding]], dict[str, list[Finding]]]:
    """(findings, warnings) per referencing file path for every reference that does not resolve
    in the set. With ``source`` (:class:`verifier.sourcerefs.SourceReferences`), a reference that
    already dangled in the source is a warning, not a failure; ``original_of(uid)`` maps an output
    UID back to its original (linkage store) when it can, else the reference's position decides."""
    failures: dict[str, list[Finding]] = {}
    warnings: dict[str, list[Finding]] = {}
    for s, r in unresolved(summaries):
        message = f"does not resolve to {WHAT[r.kind]} in this set"
        target = failures
        if source is not None and source.dangled(r.kind, original_of(r.uid) if original_of else None,
                                                 s.sop_class, r.tag_path):
            message, target = message + " (also unresolved in the source)", warnings
        target.setdefault(s.path, []).append(Finding("references", r.tag_path, message, r.keyword_path))
    return failures, warnings
