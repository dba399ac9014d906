"""The Dataset path: pydicom reads the file; DicomEdit scripts, the profile walk
(:mod:`.engine`) and the trial block act on the Dataset; :mod:`.writer` writes it.

Taken by files the byte path (:mod:`.fastpath`) declines, by every file when a DicomEdit
script or Retain Safe Private is in force, and by tests that compare the two paths.
"""
from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path

from pydicom.dataset import FileMetaDataset

from sdu.dicomfiles import check_complete, header_note, read_dataset
from sdu.errors import AnonymisationError

from . import engine, identity, iod, pixeltext
from .meta import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION
from .report import FileOutcome
from .single import Settings, _context, _finish, _trial_identity, subject_for
from .pseudonyms import auto_session_id
from .trial import apply_trial_block
from .writer import write


@lru_cache(maxsize=8)
def _scripts(scripts: tuple[tuple[str, str], ...]):
    from .dicomedit import load_script
    return [load_script(text, name) for name, text in scripts]


#: DicomEdit ``lookup[kind, value]`` kinds answered from the linkage store (XNAT's project lookup
#: tables map identifiers the same way). Anything else: no entry, and the script fails closed.
PATIENT_KINDS = frozenset({"pid", "patientid", "patient", "subject"})
STUDY_KINDS = frozenset({"studyuid", "studyinstanceuid", "study", "session"})


def _linkage_lookup(settings: Settings, kind: str, value: str) -> str | None:
    kind = kind.strip().lower()
    if kind in PATIENT_KINDS:
        return subject_for(settings, value.strip())
    if kind in STUDY_KINDS:
        return settings.known_sessions.get(value.strip())
    return None


def anonymise_dataset(path: Path, rel: str, settings: Settings) -> FileOutcome:
    o = settings.options
    ds = read_dataset(path, limits=o.limits)
    check_complete(ds, path)
    patient_id = str(ds.get("PatientID", "") or "").strip()
    study_uid = str(ds.get("StudyInstanceUID", "") or "").strip()
    if not patient_id:
        raise AnonymisationError("no PatientID: cannot link the file to a subject", path=rel)
    subject = subject_for(settings, patient_id)
    session = o.session_id or auto_session_id(settings.key, o.trial_id, subject, study_uid)
    found, terms = identity.identifiers(ds), identity.terms(ds)

    changes = 0
    if o.scripts:
        from .dicomedit import ScriptContext
        variables = {"project": o.trial_id, "subject": subject, "session": session, "trial": o.trial_id,
                     "site": o.site_id, "modalityLabel": str(ds.get("Modality", "")).lower()}
        lookup = partial(_linkage_lookup, settings)
        for script in _scripts(o.scripts):
            changes += len(script.apply(ds, ScriptContext(variables=variables, lookup=lookup, hash_key=settings.key)))

    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        raise AnonymisationError(
            "pixel data declares burned-in annotation; blank it with a DicomEdit alterPixels rule "
            "that also sets BurnedInAnnotation to NO", path=rel)

    ctx, dates = _context(settings, patient_id, terms, engine.walk)
    iod.start(ctx, str(ds.get("SOPClassUID", "") or ""), o.keep_non_iod)
    old_sop = str(ds.SOPInstanceUID)
    engine.walk(ds, ctx)
    try:
        pixeltext.strip_dataset(ds, ctx.counts)
    except pixeltext.PixelTextError as exc:
        raise AnonymisationError(f"pixel data: {exc}", path=rel) from None
    apply_trial_block(ds, _trial_identity(o, subject, session), o.options, dates)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ds.file_meta.TransferSyntaxUID
    meta.ImplementationClassUID = IMPLEMENTATION_CLASS_UID
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION
    ds.file_meta = meta
    ds.preamble = b"\0" * 128

    series, sop = ds.get("SeriesInstanceUID"), ds.SOPInstanceUID
    outcome = _finish(settings, rel, lambda f: write(ds, f), series, sop, old_sop, ctx,
                      (patient_id, subject, study_uid, session, found), changes)
    if header_note(ds):
        outcome.notes.append(header_note(ds))
    return outcome
