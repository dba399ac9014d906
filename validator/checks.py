"""The validation checks, one function each, every one returning :class:`Check` entries.

Reasons name ROI names, counts and files relative to the session, never patient values.
"""
from __future__ import annotations

from collections import Counter

from .names import NameVerdict
from .protocol import Prescription, TrialProtocol
from .report import FAIL, PASS, WARN, Check
from .session import Session, referenced_image_uids, referenced_uids, roi_table

IMAGE_MODALITIES = {"CT", "MR", "PT"}


def _few(items, n: int = 5) -> str:
    items = list(items)
    return ", ".join(map(str, items[:n])) + (f" and {len(items) - n} more" if len(items) > n else "")


def files_read(session: Session) -> list[Check]:
    forced = [session.relative(o.path) for o in session.objects if o.forced]
    if not session.objects:
        return [Check("files.read", FAIL, f"no DICOM objects found ({len(session.skipped)} files skipped)")]
    notes = []
    if forced:
        notes.append(f"{len(forced)} read without a Part 10 header (transfer syntax guessed): {_few(forced)}")
    other = [s for s in session.skipped if s.reason.startswith(("not DICOM (XML", "not DICOM (JSON"))]
    damaged = len(session.skipped) - len(other)
    if damaged:
        notes.append(f"{damaged} skipped as not DICOM or damaged")
    status = WARN if notes else PASS
    if other:  # an XNAT session's catalog files: listed, not a warning
        notes.append(f"{len(other)} XML/JSON file(s) passed over")
    return [Check("files.read", status, f"{len(session.objects)} DICOM objects read" + ("; " + "; ".join(notes) if notes else ""))]


def required_objects(session: Session, protocol: TrialProtocol) -> list[Check]:
    out = []
    for rule in protocol.objects:
        objs = [o for o in session.of(rule.modality) if not rule.sop_class_uid or o.sop_class_uid == rule.sop_class_uid]
        count = len({o.series_uid for o in objs}) if rule.unit == "series" else len(objs)
        unit = rule.unit + ("" if count == 1 else "s")
        wanted = f"{rule.min}" + (f"..{rule.max}" if rule.max is not None and rule.max != rule.min else "" if rule.max is not None else "+")
        ok = count >= rule.min and (rule.max is None or count <= rule.max)
        out.append(Check(f"objects.{rule.modality}", PASS if ok else FAIL, f"{count} {rule.modality} {unit} (trial wants {wanted})"))
    return out


def one_patient_and_study(session: Session) -> list[Check]:
    if not session.objects:
        return []
    patients = {o.patient_key for o in session.objects}
    out = [Check("session.patient", PASS if len(patients) == 1 else FAIL,
                 "one patient" if len(patients) == 1 else f"objects belong to {len(patients)} different patients")]
    studies = {o.study_uid for o in session.objects}
    out.append(Check("session.study", PASS if len(studies) == 1 else WARN,
                     "one study" if len(studies) == 1 else f"objects span {len(studies)} studies"))
    return out


def frame_of_reference(session: Session) -> list[Check]:
    structs = session.of("RTSTRUCT")
    if not structs:
        return []
    image_for = {o.frame_of_reference_uid for o in session.objects if o.modality in IMAGE_MODALITIES}
    image_for.discard(None)
    bad = []
    for s in structs:
        refs = {str(f.FrameOfReferenceUID) for f in s.dataset.get("ReferencedFrameOfReferenceSequence", [])
                if "FrameOfReferenceUID" in f}
        refs |= {str(r.ReferencedFrameOfReferenceUID) for r in s.dataset.get("StructureSetROISequence", [])
                 if "ReferencedFrameOfReferenceUID" in r}
        if not refs or not refs <= image_for:
            bad.append(session.relative(s.path))
    if not image_for:
        return [Check("rtstruct.frame_of_reference", FAIL, "no CT/MR/PET image in the session to compare with")]
    if bad:
        return [Check("rtstruct.frame_of_reference", FAIL, f"frame of reference not that of the images: {_few(bad)}")]
    return [Check("rtstruct.frame_of_reference", PASS, "RTSTRUCT frame of reference matches the images")]


def image_references(session: Session) -> list[Check]:
    """Contour image references. One naming an image the RTSTRUCT itself lists among its
    referenced series (RTReferencedSeriesSequence) but that is not in the session is a partial
    export: its own finding (``session.referenced_images``, a warning). One naming an image the
    RTSTRUCT does not list either is dangling: a failure."""
    structs = session.of("RTSTRUCT")
    if not structs:
        return []
    present = session.sop_uids
    dangling, missing, total, rois = 0, set(), 0, []
    for s in structs:
        listed = set(referenced_image_uids(s.dataset))
        for _, name, _, images in roi_table(s.dataset):
            total += len(images)
            absent = [u for u in images if u not in present]
            missing.update(u for u in absent if u in listed)
            bad = sum(u not in listed for u in absent)
            dangling += bad
            if bad:
                rois.append(name)
    out = []
    if missing:
        out.append(Check("session.referenced_images", WARN,
                         f"{len(missing)} image(s) the RTSTRUCT contours reference are not in this session "
                         "(a partial export?): export them too if the trial needs the full image set"))
    if dangling:
        out.append(Check("rtstruct.image_references", FAIL,
                         f"{dangling} of {total} contour image references point to images neither in the session "
                         f"nor in the RTSTRUCT's own referenced series (ROIs: {_few(rois)})"))
    elif total == 0:
        out.append(Check("rtstruct.image_references", WARN, "contours reference no images (cannot be checked)"))
    else:
        resolved = total - sum(1 for s in structs for _, _, _, images in roi_table(s.dataset)
                               for u in images if u not in present)
        out.append(Check("rtstruct.image_references", PASS,
                         f"all {total} contour image references resolve" if resolved == total else
                         f"{resolved} of {total} contour image references resolve in the session; "
                         "the rest name images the RTSTRUCT lists but the session lacks"))
    return out


def _references(session: Session, source: str, sequence: str, target: str, check_id: str) -> list[Check]:
    objs = session.of(source)
    if not objs:
        return []
    targets = {o.sop_instance_uid for o in session.of(target)}
    unresolved = [session.relative(o.path) for o in objs
                  if not referenced_uids(o.dataset, sequence) or not set(referenced_uids(o.dataset, sequence)) <= targets]
    if unresolved:
        return [Check(check_id, FAIL, f"{source} not referencing a {target} of this session: {_few(unresolved)}")]
    return [Check(check_id, PASS, f"every {source} references a {target} in the session")]


def plan_references(session: Session) -> list[Check]:
    return (_references(session, "RTPLAN", "ReferencedStructureSetSequence", "RTSTRUCT", "rtplan.structure_set")
            + _references(session, "RTDOSE", "ReferencedRTPlanSequence", "RTPLAN", "rtdose.plan"))


def structures(session: Session, protocol: TrialProtocol, verdicts: dict[str, NameVerdict], arm: str | None) -> list[Check]:
    rois = [row for s in session.of("RTSTRUCT") for row in roi_table(s.dataset)]
    out = []
    if protocol.arms and arm is None and any(s.required_arms for s in protocol.structures):
        out.append(Check("protocol.arm", WARN, "no arm chosen: structures required only in some arms were not checked"))
    for spec in protocol.structures:
        found = [(name, has_data) for _, name, has_data, _ in rois if verdicts[name].structure == spec.name]
        required = spec.is_required(arm)
        cid = f"structure.{spec.name}"
        as_names = _few(repr(n) for n, _ in found)
        if not found:
            if required:
                alike = [f"{v.roi_name!r}" for v in verdicts.values()
                         if v.status == "unknown" and v.suggestions and v.suggestions[0].name == spec.name]
                hint = f"; {_few(alike)} may be it (see names.nomenclature)" if alike else ""
                out.append(Check(cid, FAIL, "required structure missing (no ROI with this name or a synonym)" + hint))
        elif not any(has for _, has in found):
            out.append(Check(cid, FAIL if required else WARN, f"present as {as_names} but empty (no contour data)"))
        else:
            out.append(Check(cid, PASS, f"present as {as_names}" + ("" if required else " (optional)")))
    return out


def nomenclature(protocol: TrialProtocol, verdicts: list[NameVerdict]) -> list[Check]:
    unknown = [v for v in verdicts if v.status == "unknown"]
    if not verdicts:
        return []
    if not unknown:
        return [Check("names.nomenclature", PASS, "every ROI name is TG-263 standard, a trial synonym or ignored")]
    parts = [f"{v.roi_name!r}" + (f" (suggest {v.suggestions[0].name})" if v.suggestions else " (no suggestion)") for v in unknown]
    status = {"fail": FAIL, "warn": WARN, "ignore": PASS}[protocol.nomenclature]
    return [Check("names.nomenclature", status, f"{len(unknown)} non-standard ROI names: {_few(parts, 10)}")]


def duplicates(verdicts: list[NameVerdict]) -> list[Check]:
    if not verdicts:
        return []
    exact = [n for n, c in Counter(v.roi_name.casefold() for v in verdicts).items() if c > 1]
    if exact:
        names = sorted({v.roi_name for v in verdicts if v.roi_name.casefold() in exact})
        return [Check("names.duplicates", FAIL, f"ROI names used more than once: {_few(map(repr, names))}")]
    same = [s for s, c in Counter(v.structure for v in verdicts if v.structure).items() if c > 1]
    if same:
        return [Check("names.duplicates", WARN, f"several ROIs stand for the same trial structure: {_few(same)}")]
    return [Check("names.duplicates", PASS, "no duplicate ROI names")]


def prescription(session: Session, rx: Prescription | None) -> list[Check]:
    if rx is None:
        return []
    plans = session.of("RTPLAN")
    if len(plans) != 1:
        return [Check("prescription", WARN, f"{len(plans)} RTPLANs: prescription not checked")]
    plan = plans[0].dataset
    groups = plan.get("FractionGroupSequence", [])
    fractions = groups[0].get("NumberOfFractionsPlanned") if groups else None
    doses = [float(d.TargetPrescriptionDose) for d in plan.get("DoseReferenceSequence", [])
             if d.get("TargetPrescriptionDose") not in (None, "")]
    total = max(doses) if doses else None
    out = []

    def compare(cid: str, want, got, unit: str, tol: float) -> None:
        if want is None:
            return
        if got is None:
            out.append(Check(cid, FAIL, f"plan does not state it (trial wants {want:g}{unit})"))
        elif abs(float(got) - want) <= tol:
            out.append(Check(cid, PASS, f"{float(got):g}{unit} as the trial wants"))
        else:
            out.append(Check(cid, FAIL, f"plan has {float(got):g}{unit}, trial wants {want:g}{unit}"))

    compare("prescription.fractions", rx.fractions, fractions, "", 0)
    compare("prescription.total_dose", rx.total_dose_gy, total, " Gy", rx.tolerance_gy)
    per_fraction = total / int(fractions) if total is not None and fractions else None
    compare("prescription.dose_per_fraction", rx.dose_per_fraction_gy, per_fraction, " Gy", rx.tolerance_gy)
    return out
