"""The RT reference summary of one file from its bytes: :func:`verifier.references.summarise` without pydicom.

Same references, same tag and keyword paths; values converted one at a time (:mod:`.bytevalues`).
"""
from __future__ import annotations

from typing import Iterator

from .bytevalues import converted
from .dictionary import tag_for_keyword
from .elements import Declined, find
from .references import RT_CLASSES, Ref, RTDoseStorage, RtSummary, RTStructureSetStorage
from .walk import tag_str


class _Summary:
    def __init__(self, data: bytes, implicit: bool, encoding):
        self.data, self.implicit, self.encoding = data, implicit, encoding

    def get(self, level: list, tag: int, default):
        element = find(level, tag)
        if element is None:
            return default
        if element[1] == "SQ":
            raise Declined
        return converted(self.data, element, self.implicit, self.encoding)

    def items(self, level: list, keyword: str, tp: str, kp: str) -> Iterator[tuple[list, str, str]]:
        tag = tag_for_keyword(keyword)
        element = find(level, tag)
        if element is None:
            return
        if element[1] != "SQ":
            raise Declined
        for i, item in enumerate(element[4]):
            yield item, f"{tp}{tag_str(tag)}[{i}]/", f"{kp}{keyword}[{i}]."

    def ref(self, item: list, keyword: str, kind: str, tp: str, kp: str) -> Ref | None:
        tag = tag_for_keyword(keyword)
        value = self.get(item, tag, None)
        if not value:
            return None
        return Ref(kind, str(value).strip(), tp + tag_str(tag), kp + keyword)


def summarise(path: str, data: bytes, dataset: list, implicit: bool, encoding) -> RtSummary:
    """As :func:`verifier.references.summarise`; raises Declined when the pydicom path must decide."""
    b = _Summary(data, implicit, encoding)
    s = RtSummary(path, str(b.get(dataset, 0x00080016, "")), str(b.get(dataset, 0x00080018, "")),
                  str(b.get(dataset, 0x00200052, "") or ""))
    refs = s.refs
    if s.sop_class == RTStructureSetStorage:
        for fr, tp, kp in b.items(dataset, "ReferencedFrameOfReferenceSequence", "", ""):
            refs.append(b.ref(fr, "FrameOfReferenceUID", "frame of reference", tp, kp))
            for st, tp2, kp2 in b.items(fr, "RTReferencedStudySequence", tp, kp):
                for se, tp3, kp3 in b.items(st, "RTReferencedSeriesSequence", tp2, kp2):
                    for im, tp4, kp4 in b.items(se, "ContourImageSequence", tp3, kp3):
                        refs.append(b.ref(im, "ReferencedSOPInstanceUID", "instance", tp4, kp4))
        for roi, tp, kp in b.items(dataset, "ROIContourSequence", "", ""):
            for c, tp2, kp2 in b.items(roi, "ContourSequence", tp, kp):
                for im, tp3, kp3 in b.items(c, "ContourImageSequence", tp2, kp2):
                    refs.append(b.ref(im, "ReferencedSOPInstanceUID", "instance", tp3, kp3))
    elif s.sop_class in RT_CLASSES - {RTDoseStorage, RTStructureSetStorage}:
        for item, tp, kp in b.items(dataset, "ReferencedStructureSetSequence", "", ""):
            refs.append(b.ref(item, "ReferencedSOPInstanceUID", "structure set", tp, kp))
    elif s.sop_class == RTDoseStorage:
        for item, tp, kp in b.items(dataset, "ReferencedRTPlanSequence", "", ""):
            refs.append(b.ref(item, "ReferencedSOPInstanceUID", "plan", tp, kp))
    s.refs = [r for r in refs if r is not None]
    return s
