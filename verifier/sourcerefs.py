"""The originals' RT references: which of them already dangled in the source.

A partial export (an RTSTRUCT whose contours reference CT slices that were not exported) is
common. The output must not be blamed for it: a reference is judged against the source. Each
original file is summarised from its header bytes (:mod:`verifier.bytesummary`, the same reader
as the output's), the pydicom path only when the byte reader declines.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sdu.dicomfiles import iter_candidate_files, read_dataset

from .bytecheck import _read
from .bytesummary import summarise as summarise_bytes
from .bytevalues import encodings
from .references import RtSummary, summarise, unresolved


@dataclass
class SourceReferences:
    """What dangled in the source: original UIDs by reference kind, and (SOP class, tag path)
    positions (for when no linkage store maps an output UID back to its original)."""

    uids: dict[str, set[str]] = field(default_factory=dict)
    positions: set[tuple[str, str]] = field(default_factory=set)
    files: int = 0

    def dangled(self, kind: str, original_uid: str | None, sop_class: str, tag_path: str) -> bool:
        if original_uid is not None:
            return original_uid in self.uids.get(kind, ())
        return (sop_class, tag_path) in self.positions


def source_summary(path: Path, rel: str) -> RtSummary | None:
    """One original's SOP identity and references, or None when it cannot be read."""
    try:
        pieces, parsed, _ = _read(path)
        data = pieces[0][1]
        return summarise_bytes(rel, data, parsed.dataset, parsed.implicit, encodings(data, parsed))
    except Exception:  # noqa: BLE001 - the byte reader declined: pydicom reads it
        pass
    try:
        return summarise(rel, read_dataset(path, stop_before_pixels=True))
    except Exception:  # noqa: BLE001 - an unreadable original is counted by the identifier gathering
        return None


def collect_source_references(folder: Path) -> SourceReferences:
    summaries = [s for p in iter_candidate_files(folder) if (s := source_summary(p, str(p))) is not None]
    out = SourceReferences(files=len(summaries))
    for s, ref in unresolved(summaries):
        out.uids.setdefault(ref.kind, set()).add(ref.uid)
        out.positions.add((s.sop_class, ref.tag_path))
    return out
