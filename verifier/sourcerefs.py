"""The originals' RT references: which of them already dangled in the source.

A partial export (an RTSTRUCT whose contours reference CT slices that were not exported) is
common. The output must not be blamed for it: a reference is judged against the source. The
originals' summaries (:class:`verifier.references.RtSummary`) come from the same read that
gathers their identifiers (:mod:`verifier.collect`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .references import RtSummary, unresolved


@dataclass
class SourceReferences:
    """What dangled in the source: original UIDs by reference kind, and (SOP class, tag path)
    positions (for when no linkage store maps an output UID back to its original)."""

    uids: dict[str, set[str]] = field(default_factory=dict)
    positions: set[tuple[str, str]] = field(default_factory=set)

    def dangled(self, kind: str, original_uid: str | None, sop_class: str, tag_path: str) -> bool:
        if original_uid is not None:
            return original_uid in self.uids.get(kind, ())
        return (sop_class, tag_path) in self.positions


def references_from(summaries: list[RtSummary]) -> SourceReferences:
    out = SourceReferences()
    for s, ref in unresolved(summaries):
        out.uids.setdefault(ref.kind, set()).add(ref.uid)
        out.positions.add((s.sop_class, ref.tag_path))
    return out
