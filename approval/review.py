"""What will leave the site: the review of an anonymised folder before approval.

:func:`review_folder` reads only the anonymised side: DEST's verification report, DEST's
anonymise report (action counts by code, DicomEdit changes) and the DICOM headers (read up to
the pixel data). It returns a plain dict: the verification verdict, per-series counts with
modality, the ROIs of each RTSTRUCT, the action totals with their meaning, and a per-tag summary
of the output (Annex E action, how many files hold a value, are empty, or lack it, and the new
values). Values are shown only when the verification passed on exactly these files: a folder
that failed could still hold an original value, so its values are withheld.
"""
from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path

from sdu.standard import annex_e

from .gate import ANONYMISE_REPORT, VERIFY_REPORT

#: Distinct values shown per tag (the rest are counted).
MAX_VALUES = 5
MAX_VALUE_CHARS = 64

#: What each action code of the anonymise report means (PS3.15 E.1.1 plus SDU's own counters).
ACTION_MEANINGS = {
    "X": "removed",
    "Z": "emptied (zero length) or dummy",
    "D": "replaced by a dummy or pseudonym",
    "K": "kept",
    "C": "cleaned (identifying text replaced)",
    "U": "UID replaced (keyed remapping)",
    "IOD": "removed: not in the IOD (retain-only-IOD)",
    "IOD-fallback": "IOD unknown: basic profile only",
    "private": "private element removed",
    "pixel-text": "burned-in text region blanked in pixel data",
}

#: The review's five outcomes from the report's action codes.
_OUTCOME_CODES = {"removed": ("X", "IOD", "private"), "emptied": ("Z",), "replaced": ("D", "U"),
                  "cleaned": ("C", "pixel-text"), "kept": ("K",)}

#: Tags summarised beyond the Annex E rows: what the de-identification set (PS3.3 C.7.1.3, C.12.1.1.1).
_SET_GROUP = 0x0012
_SET_TAGS = {0x00100010: "PatientName", 0x00100020: "PatientID", 0x00200010: "StudyID"}
_UID_VR = "UI"


def _verification(folder: Path, files: list[str]) -> dict:
    path = folder / VERIFY_REPORT
    if not path.exists():
        return {"status": "missing", "ok": False, "reason": f"{VERIFY_REPORT} not found: run sdu verify"}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"status": "unreadable", "ok": False, "reason": f"{VERIFY_REPORT} unreadable ({type(exc).__name__})"}
    out = {"ok": bool(data.get("ok")), "files_passed": data.get("files_passed"),
           "files_failed": data.get("files_failed"), "findings": data.get("findings_total"),
           "warnings": data.get("warnings_total"), "checks": data.get("checks", [])}
    checked = {f.get("path") for f in data.get("files", []) if isinstance(f, dict)}
    expected = set(files) - {VERIFY_REPORT}
    if not out["ok"]:
        out.update(status="failed", reason=f"{out['files_failed']} file(s) failed verification")
    elif checked != expected:
        out.update(status="stale", ok=False,
                   reason=f"the report covers other files ({len(expected - checked)} not checked, "
                          f"{len(checked - expected)} no longer here): run sdu verify again")
    else:
        out.update(status="passed", reason=None)
    return out


def _anonymisation(folder: Path) -> dict:
    path = folder / ANONYMISE_REPORT
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"report": "missing"}
    except (OSError, ValueError) as exc:
        return {"report": f"unreadable ({type(exc).__name__})"}
    files = [f for f in data.get("files", []) if isinstance(f, dict)]
    changed = [f.get("script_changes", 0) for f in files if f.get("script_changes")]
    totals = {k: v for k, v in (data.get("actions") or {}).items() if isinstance(v, int)}
    by_outcome = {outcome: sum(totals.get(c, 0) for c in codes) for outcome, codes in _OUTCOME_CODES.items()}
    return {"report": "present", "run": data.get("run"), "trial_id": data.get("trial_id"),
            "site_id": data.get("site_id"), "profile": data.get("profile", []), "counts": data.get("counts", {}),
            "subjects": data.get("subjects", []), "sessions": data.get("sessions", []),
            "failed": len(data.get("failed", [])),
            "actions": [{"code": code, "meaning": ACTION_MEANINGS.get(code, "other"), "count": n}
                        for code, n in (data.get("actions") or {}).items()],
            "by_outcome": by_outcome,
            "script_changes": {"elements": sum(changed), "files": len(changed)}}


def _option_columns(profile: list[str]) -> frozenset[str]:
    names = annex_e.options()
    return frozenset(names[n].column for n in profile if n in names)


class _TagStats:
    __slots__ = ("keyword", "vr", "action", "value", "empty", "values", "more")

    def __init__(self, keyword: str, vr: str, action: str | None):
        self.keyword, self.vr, self.action = keyword, vr, action
        self.value = self.empty = 0
        self.values: Counter = Counter()
        self.more: set = set()

    def add_file(self, elems: list) -> None:
        """One file's occurrences of the tag (at any depth): counted once, as holding a value or empty."""
        present = [e for e in elems if not _empty(e)]
        if not present:
            self.empty += 1
            return
        self.value += 1
        if self.vr in ("SQ", _UID_VR):  # items are summarised by their own tags; UIDs only counted
            self.more.update(str(e.value) for e in present if self.vr == _UID_VR and len(self.more) < 10_000)
            return
        texts = {_text(e) for e in present}
        for text in texts:
            if text in self.values or len(self.values) < MAX_VALUES:
                self.values[text] += 1
            elif len(self.more) < 10_000:
                self.more.add(text)


#: Bulk that is never summarised and not worth converting: contours, dose frame offsets, pixels.
_BULK = frozenset({0x30060039, 0x3004000C, 0x7FE00010})


def _walk(ds):
    """Every public element at any depth, without converting the bulk (contour data, pixels)."""
    for tag in list(ds.keys()):
        if tag in _BULK or tag.is_private:
            continue
        elem = ds[tag]
        yield elem
        if elem.VR == "SQ":
            for item in elem.value:
                yield from _walk(item)


def _empty(elem) -> bool:
    value = elem.value
    if elem.VR == "SQ":
        return not len(value)
    return value is None or value == "" or value == b"" or (hasattr(value, "__len__") and
                                                              not isinstance(value, (str, bytes)) and not len(value))


def _text(elem) -> str:
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


def _outcome(stats: _TagStats, files: int) -> str:
    if stats.value == 0 and stats.empty:
        return "emptied"
    code = stats.action or ""
    if stats.vr == _UID_VR or code.startswith("U") or "U" in code.split("/"):
        return "replaced (UID)"
    if code == "K":
        return "kept"
    if code == "C":
        return "shifted" if stats.vr in ("DA", "DT", "TM") else "cleaned"
    if code in ("D", "Z", "X", "X/Z", "X/D", "X/Z/D", "Z/D"):
        return "replaced" if stats.value else "emptied"
    if stats.action is None:
        return "set (de-identification)"
    return "kept"


def review_folder(folder: str | Path) -> dict:
    """The review of ``folder`` as a plain dict (the ``--json`` output of ``sdu review``)."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    folder = Path(folder)
    rel_files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        rel_files += [Path(dirpath, n).relative_to(folder).as_posix() for n in sorted(filenames)]
    verification = _verification(folder, rel_files)
    anonymisation = _anonymisation(folder)
    show_values = verification["status"] == "passed"
    columns = _option_columns(anonymisation.get("profile", []))

    series: dict[str, dict] = {}
    rois, other, unreadable = [], [], []
    sessions: dict[tuple[str, str], set] = defaultdict(set)
    tags: dict[int, _TagStats] = {}
    codes: Counter = Counter()
    dicom_files = 0
    for rel in rel_files:
        if rel in (VERIFY_REPORT, ANONYMISE_REPORT):
            continue
        path = folder / rel
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True)
        except InvalidDicomError:  # an attachment (PDF, CSV, form): listed with its size
            other.append({"path": rel, "size": path.stat().st_size})
            continue
        except Exception as exc:  # noqa: BLE001 - a damaged file is listed (kind only), never fatal
            unreadable.append({"path": rel, "reason": type(exc).__name__})
            continue
        dicom_files += 1
        modality = str(ds.get("Modality", "") or "?")
        key = str(ds.get("SeriesInstanceUID", "") or f"<none:{modality}>")
        parts = rel.split("/")
        s = series.setdefault(key, {"modality": modality, "series_number": _plain(ds.get("SeriesNumber")),
                                    "description": None, "files": 0,
                                    "subject": parts[0] if len(parts) > 2 else None,
                                    "session": parts[1] if len(parts) > 2 else None})
        s["files"] += 1
        if len(parts) > 2:
            sessions[(parts[0], parts[1])].add(str(ds.get("StudyInstanceUID", "")))
        if show_values and s["description"] is None and ds.get("SeriesDescription"):
            s["description"] = str(ds.SeriesDescription)
        for item in ds.get("DeidentificationMethodCodeSequence", []):
            codes[(str(item.get("CodeValue", "")), str(item.get("CodingSchemeDesignator", "")),
                   str(item.get("CodeMeaning", "")))] += 1
        if modality == "RTSTRUCT":
            rois.append(_rois(rel, ds, show_values))
        found: dict[int, list] = defaultdict(list)
        for elem in _walk(ds):
            found[int(elem.tag)].append(elem)
        for tag, elems in found.items():
            stats = tags.get(tag)
            if stats is None:
                row = annex_e.row_for(tag)
                if row is None and (tag >> 16) != _SET_GROUP and tag not in _SET_TAGS:
                    stats = tags[tag] = _TagStats("", elems[0].VR, "-")  # not summarised
                else:
                    keyword = elems[0].keyword or (row.keyword if row else "")
                    stats = tags[tag] = _TagStats(keyword, elems[0].VR, row.action(columns) if row else None)
            if stats.action != "-":
                stats.add_file(elems)
    tag_rows = []
    for tag, st in sorted(tags.items()):
        if st.action == "-":
            continue
        row = {"tag": f"({tag >> 16:04X},{tag & 0xFFFF:04X})", "keyword": st.keyword, "vr": st.vr,
               "profile_action": st.action, "outcome": _outcome(st, dicom_files),
               "with_value": st.value, "empty": st.empty, "absent": dicom_files - st.value - st.empty,
               "distinct_values": len(st.values) + len(st.more)}
        if show_values and st.vr != _UID_VR and st.vr != "SQ":
            row["values"] = [{"value": v, "files": n} for v, n in st.values.most_common()]
        tag_rows.append(row)
    return {
        "folder": str(folder),
        "approval": _approval(folder),
        "ready_to_approve": verification["status"] == "passed" and not unreadable,
        "values_shown": show_values,
        "verification": verification,
        "anonymisation": anonymisation,
        "files": {"total": len(rel_files), "dicom": dicom_files, "other": other, "unreadable": unreadable},
        "sessions": [{"subject": sub, "session": ses, "study_uids": len(uids)}
                     for (sub, ses), uids in sorted(sessions.items())],
        "series": sorted(series.values(), key=lambda s: (s["session"] or "", s["modality"], s["series_number"] or 0)),
        "rois": rois,
        "deidentification_codes": [{"code": c, "scheme": sch, "meaning": m, "files": n}
                                   for (c, sch, m), n in sorted(codes.items())],
        "tags": tag_rows,
    }


def session_pseudonyms(folder: str | Path) -> list[dict]:
    """Each session below ``folder`` (``SUBJECT/SESSION/...``): subject, session and its replacement
    Study Instance UID (from the first DICOM header of the session; None when it has several)."""
    import pydicom

    folder = Path(folder)
    found: dict[tuple[str, str], set] = defaultdict(set)
    for subject in sorted(p for p in folder.iterdir() if p.is_dir()):
        for session in sorted(p for p in subject.iterdir() if p.is_dir()):
            for path in sorted(session.rglob("*")):
                if not path.is_file():
                    continue
                try:
                    ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["StudyInstanceUID"])
                except Exception:  # noqa: BLE001 - attachments are not DICOM
                    continue
                found[(subject.name, session.name)].add(str(ds.get("StudyInstanceUID", "")))
                break
    return [{"subject": sub, "session": ses, "study_uid": next(iter(uids)) if len(uids) == 1 else None}
            for (sub, ses), uids in sorted(found.items())]


def _plain(value):
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def _rois(rel: str, ds, show_values: bool) -> dict:
    types = {int(o.ReferencedROINumber): str(o.get("RTROIInterpretedType", "") or "")
             for o in ds.get("RTROIObservationsSequence", []) if "ReferencedROINumber" in o}
    contours = {int(c.ReferencedROINumber): len(c.get("ContourSequence", []))
                for c in ds.get("ROIContourSequence", []) if "ReferencedROINumber" in c}
    out = []
    for item in ds.get("StructureSetROISequence", []):
        number = int(item.ROINumber) if "ROINumber" in item else None
        out.append({"number": number, "name": str(item.get("ROIName", "")) if show_values else None,
                    "type": types.get(number), "contours": contours.get(number, 0)})
    return {"path": rel, "label": str(ds.get("StructureSetLabel", "")) if show_values else None, "rois": out}


def _approval(folder: Path) -> dict:
    """The approval's state: none, valid, revoked or stale (files changed since)."""
    from sdu.errors import ApprovalError

    from .gate import require_release

    try:
        release = require_release(folder)
    except ApprovalError as exc:
        reason = exc.reason
        status = ("none" if "not approved" in reason else "revoked" if "revoked" in reason
                  else "stale" if "changed since" in reason else "invalid")
        return {"status": status, "reason": reason}
    a = release.approval
    return {"status": "valid", "user": a.get("user"), "time": a.get("time"), "comment": a.get("comment")}
