"""``relabel_session``: a copy of a session with ROIs renamed, references kept resolving.

The RTSTRUCT holding a renamed ROI is written with a new SOP Instance UID (``generate_uid()``);
every RT object that references a rewritten object (RTPLAN -> RTSTRUCT through
ReferencedStructureSetSequence, RTDOSE -> RTPLAN through ReferencedRTPlanSequence, any depth) is
rewritten too, with its own new UID, until nothing points at an old UID. Everything else is
copied byte for byte. The input folder is never written to. The change goes to the audit log
(ROI names and counts only).
"""
from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from sdu import audit
from sdu.errors import ConfigError

from .names import NameVerdict
from .protocol import TrialProtocol
from .session import RT_MODALITIES, read_any, read_session, roi_table
from .validate import validate_session

MAX_ROI_NAME = 64  # ROIName is LO
ACCEPT_THRESHOLD = 90.0


@dataclass(frozen=True)
class RewrittenFile:
    file: str  # relative to the session folder
    modality: str
    why: str  # "roi names" | "references"


@dataclass
class RelabelReport:
    out_folder: str
    renamed: dict[str, str] = field(default_factory=dict)
    not_found: list[str] = field(default_factory=list)
    rewritten: list[RewrittenFile] = field(default_factory=list)
    copied: int = 0
    #: non-standard names no suggestion was confident enough for: a person renames them (``--map``)
    left_for_person: list[NameVerdict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"out_folder": self.out_folder, "renamed": self.renamed, "not_found": self.not_found,
                "rewritten": [asdict(r) for r in self.rewritten], "copied": self.copied,
                "left_for_person": [{"roi_name": v.roi_name, "suggestions": [s.to_dict() for s in v.suggestions]}
                                    for v in self.left_for_person]}


def suggested_mapping(folder: str | Path, protocol: TrialProtocol, arm: str | None = None,
                      threshold: float = ACCEPT_THRESHOLD) -> tuple[dict[str, str], list[NameVerdict]]:
    """Each unknown ROI name's top suggestion when it scores at least ``threshold``.

    Returns the mapping and the unknown names left without one: their suggestions are listed for a
    person, never applied.
    """
    report = validate_session(folder, protocol, arm)
    mapping, refused = {}, []
    for verdict in report.unknown_names():
        top = verdict.suggestions[0] if verdict.suggestions else None
        if top and top.score >= threshold:
            mapping[verdict.roi_name] = top.name
        else:
            refused.append(verdict)
    return mapping, refused


def relabel_with_suggestions(folder: str | Path, out_folder: str | Path, protocol: TrialProtocol,
                             arm: str | None = None, threshold: float = ACCEPT_THRESHOLD,
                             mapping: dict[str, str] | None = None) -> RelabelReport:
    """Copy ``folder`` with every confident suggestion applied (and ``mapping``, which wins).

    Names whose top suggestion scores below ``threshold`` keep their name and are listed in
    ``left_for_person``. With nothing to rename at all, nothing is written (:class:`ConfigError`).
    """
    mapping = dict(mapping or {})
    suggested, refused = suggested_mapping(folder, protocol, arm, threshold)
    left = [v for v in refused if v.roi_name not in mapping]
    mapping = {**suggested, **mapping}
    if not mapping:
        raise ConfigError(f"no suggestion scores {threshold:g} or more and no --map given: nothing to rename; "
                          f"{len(left)} names are left for a person", path=Path(folder))
    report = relabel_session(folder, out_folder, mapping)
    report.left_for_person = left
    return report


def _check_mapping(mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        if not old or not new or not new.strip():
            raise ConfigError("a relabel mapping needs non-empty names on both sides of '='")
        if len(new) > MAX_ROI_NAME or "\\" in new:
            raise ConfigError(f"new ROI name {new!r} is not a valid ROIName (at most 64 characters, no '\\')")


def _prepare_out(folder: Path, out: Path) -> None:
    if not folder.is_dir():
        raise ConfigError("session folder does not exist", path=folder)
    folder_r, out_r = folder.resolve(), out.resolve()
    if out_r == folder_r or folder_r in out_r.parents or out_r in folder_r.parents:
        raise ConfigError("output folder must be outside the session folder", path=out)
    if out.exists() and any(out.iterdir()):
        raise ConfigError("output folder is not empty", path=out)


def _save(ds, path: Path, new_uid: str) -> None:
    ds.SOPInstanceUID = new_uid
    meta = ds.file_meta
    meta.MediaStorageSOPInstanceUID = new_uid
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if "TransferSyntaxUID" not in meta:  # a forced read: write it with the encoding it was read in
        implicit, little = ds.original_encoding
        meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                  ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    ds.save_as(path, enforce_file_format=True)


def _repoint(ds, uid_map: dict[str, str]) -> bool:
    changed = False
    for elem in ds.iterall():
        if elem.keyword == "ReferencedSOPInstanceUID" and str(elem.value) in uid_map:
            elem.value = uid_map[str(elem.value)]
            changed = True
    return changed


def relabel_session(folder: str | Path, out_folder: str | Path, mapping: dict[str, str]) -> RelabelReport:
    """Copy ``folder`` to ``out_folder`` with ROIs renamed by ``mapping`` (old name -> new name)."""
    folder, out = Path(folder), Path(out_folder)
    _check_mapping(mapping)
    _prepare_out(folder, out)
    try:
        return _relabel(folder, out, mapping)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)  # no half-written copy of identifiable data left behind
        raise


def _relabel(folder: Path, out: Path, mapping: dict[str, str]) -> RelabelReport:
    session = read_session(folder)
    shutil.copytree(folder, out, dirs_exist_ok=True)
    report = RelabelReport(str(out), copied=sum(1 for p in out.rglob("*") if p.is_file()))
    uid_map: dict[str, str] = {}
    seen: set[str] = set()
    for obj in session.of("RTSTRUCT"):
        names = {name for _, name, _, _ in roi_table(obj.dataset)}
        if not names & mapping.keys():
            continue
        target = out / obj.path.relative_to(folder)
        ds, _ = read_any(target, stop_before_pixels=False)
        for roi in ds.StructureSetROISequence:
            if roi.get("ROIName") in mapping:
                old = str(roi.ROIName)
                roi.ROIName = mapping[old]
                report.renamed[old] = mapping[old]
        uid_map[obj.sop_instance_uid] = generate_uid()
        _save(ds, target, uid_map[obj.sop_instance_uid])
        report.rewritten.append(RewrittenFile(session.relative(obj.path), "RTSTRUCT", "roi names"))
    report.not_found = sorted(set(mapping) - set(report.renamed))
    pending = [o for o in session.objects if o.modality in RT_MODALITIES and o.sop_instance_uid not in uid_map]
    while uid_map.keys() - seen:
        fresh = uid_map.keys() - seen
        seen |= fresh
        for obj in list(pending):
            refs = {str(e.value) for e in obj.dataset.iterall() if e.keyword == "ReferencedSOPInstanceUID"}
            if not refs & fresh:
                continue
            target = out / obj.path.relative_to(folder)
            ds, _ = read_any(target, stop_before_pixels=False)
            _repoint(ds, uid_map)
            uid_map[obj.sop_instance_uid] = generate_uid()
            _save(ds, target, uid_map[obj.sop_instance_uid])
            pending.remove(obj)
            report.rewritten.append(RewrittenFile(session.relative(obj.path), obj.modality, "references"))
    _final_repoint(out, folder, session, uid_map, report)
    audit.record("relabel", renamed=dict(report.renamed), not_found=list(report.not_found),
                 rewritten={m: sum(r.modality == m for r in report.rewritten) for m in sorted({r.modality for r in report.rewritten})})
    return report


def _final_repoint(out: Path, folder: Path, session, uid_map: dict[str, str], report: RelabelReport) -> None:
    """An object rewritten early may reference one given a new UID later (cycles): fix those."""
    done = {r.file for r in report.rewritten}
    for obj in session.objects:
        if session.relative(obj.path) not in done or obj.modality not in RT_MODALITIES:
            continue
        target = out / obj.path.relative_to(folder)
        ds, _ = read_any(target, stop_before_pixels=False)
        if _repoint(ds, uid_map):
            ds.save_as(target, enforce_file_format=True)
