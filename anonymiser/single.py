"""Anonymise one file: read, script, profile walk, trial identity, write atomically.

Runs in worker processes: everything it needs arrives in one picklable :class:`Settings`.
Errors become a failed :class:`FileOutcome` naming the file and a reason, never a value.
The common file takes the byte path (:mod:`.fastpath`, no pydicom import at all); the rest
takes the Dataset path (:mod:`.datasetpath`), imported when first needed.
"""
from __future__ import annotations

import filecmp
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sdu.errors import AnonymisationError, SDUError

from . import fastpath, identity, iod, spellings
from .context import Context
from .meta import file_meta
from .options import AnonymiseOptions
from .pseudonyms import auto_session_id, auto_subject_id, date_shift_days, keyed_digest
from .report import FileOutcome
from .trialblock import TrialIdentity, trial_block
from .values import replace_uid, safe_private_list


class DestinationError(SDUError):
    """The destination folder refused a write (full, read-only): no later file will fare better."""


@dataclass(frozen=True)
class Settings:
    options: AnonymiseOptions
    key: bytes
    src_root: str
    dest_root: str
    #: Original patient ID -> subject ID already in the linkage store for this trial.
    known_subjects: dict[str, str]
    #: Original Study Instance UID -> session label already in the linkage store.
    known_sessions: dict[str, str]
    #: Walk the file's bytes where :mod:`.fastpath` can (tests turn it off to compare paths).
    byte_path: bool = True
    #: Every person name (PN value) held anywhere in the batch (:mod:`.batchterms`): scrubbed from
    #: every free-text value of every file, whoever's file it is.
    batch_names: tuple[str, ...] = ()


def subject_for(settings: Settings, patient_id: str) -> str:
    o = settings.options
    return (o.subject_id or settings.known_subjects.get(patient_id)
            or auto_subject_id(settings.key, o.trial_id, o.site_id, patient_id))


def anonymise_file(path: str, settings: Settings) -> FileOutcome:
    rel = os.path.relpath(path, settings.src_root)
    try:
        if settings.byte_path and not settings.options.scripts and "rtnSafePrivOpt" not in settings.options.option_columns:
            try:
                return _anonymise_bytes(Path(path), rel, settings)
            except fastpath.Decline:
                pass  # the Dataset path reads it (and names what is wrong with it, if anything)
        from .datasetpath import anonymise_dataset  # pydicom: imported only when a file needs it
        return anonymise_dataset(Path(path), rel, settings)
    except DestinationError as exc:
        return FileOutcome(rel, "failed", reason=exc.reason, dest_error=True)
    except SDUError as exc:
        return FileOutcome(rel, "failed", reason=exc.reason)
    except Exception as exc:  # noqa: BLE001 - one bad file never sinks the batch; no value in the reason
        return FileOutcome(rel, "failed", reason=f"could not anonymise ({type(exc).__name__})")


def _anonymise_bytes(path: Path, rel: str, settings: Settings) -> FileOutcome:
    """The same steps as :func:`_anonymise` on the file's bytes (:mod:`.fastpath`)."""
    o = settings.options
    try:
        if path.stat().st_size > o.limits.max_element:
            raise fastpath.Decline("large: the Dataset path reads it with the element cap")
        buf = path.read_bytes()
    except OSError:
        raise fastpath.Decline("unreadable") from None
    part = fastpath.read_file(buf)
    top = {e.tag: e for e in part.dataset}
    if SOP_CLASS not in top or SOP_INSTANCE not in top:
        raise fastpath.Decline("no SOP Class/Instance UID")
    _check_complete(buf, part, top)
    values, charset = fastpath.subject_values(buf, part)
    patient_id = "\\".join(values["PatientID"]).strip()
    study_uid = "\\".join(values["StudyInstanceUID"]).strip("\0 ")
    if not patient_id or fastpath.text(buf, top.get(BURNED_IN)).upper() == "YES":
        raise fastpath.Decline("refused on the Dataset path, with its reason")
    subject = subject_for(settings, patient_id)
    session = o.session_id or auto_session_id(settings.key, o.trial_id, subject, study_uid)
    found = identity.identifiers_from(values.__getitem__, values["OtherPatientIDsSequence"])
    terms = identity.terms_from(values.__getitem__, values["OtherPatientIDsSequence"])
    ctx, dates = _context(settings, patient_id, terms)
    iod.start(ctx, fastpath.text(buf, top[SOP_CLASS]), o.keep_non_iod)
    old_sop = fastpath.text(buf, top[SOP_INSTANCE])
    walker = fastpath.Walker(buf, part.implicit, ctx, charset)
    out = walker.walk(part.dataset)
    try:
        for tag, encoded in trial_block(_trial_identity(o, subject, session), o.options, dates, part.implicit):
            out[tag] = [encoded]
    except UnicodeEncodeError:
        raise fastpath.Decline("trial values outside Latin-1: pydicom encodes them") from None
    if SERIES_INSTANCE not in out:
        raise fastpath.Decline("no Series Instance UID")
    old_series = fastpath.text(buf, top[SERIES_INSTANCE])
    sop, series = ctx.uids.get(old_sop, old_sop), ctx.uids.get(old_series, old_series)
    meta = file_meta(fastpath.text(buf, top[SOP_CLASS]), sop, part.syntax)
    chunks = [b"\0" * 128, b"DICM", meta, *(c for _, cs in sorted(out.items()) for c in cs)]
    return _finish(settings, rel, lambda f: f.writelines(chunks), series, sop, old_sop, ctx,
                   (patient_id, subject, study_uid, session, found), 0)


SOP_CLASS, SOP_INSTANCE, SERIES_INSTANCE, BURNED_IN = 0x00080016, 0x00080018, 0x0020000E, 0x00280301


def _context(settings: Settings, patient_id: str, terms: spellings.Terms, walk=None) -> tuple[Context, str]:
    o, columns = settings.options, settings.options.option_columns
    shift = None
    if "rtnLongModifDatesOpt" in columns:
        shift = date_shift_days(settings.key, o.trial_id, patient_id)
    dates = "MODIFIED" if shift is not None else "UNMODIFIED" if "rtnLongFullDatesOpt" in columns else "REMOVED"
    ctx = Context(key=settings.key, option_columns=columns, shift_days=shift,
                  scrub=spellings.scrubber(terms, settings.batch_names),
                  safe_private=safe_private_list() if "rtnSafePrivOpt" in columns else frozenset(),
                  walk=walk)
    return ctx, dates


def _trial_identity(o: AnonymiseOptions, subject: str, session: str) -> TrialIdentity:
    return TrialIdentity(o.trial_id, o.site_id, subject, session, o.sponsor or o.trial_id,
                         o.protocol_name, o.site_name, o.time_point, o.coordinating_center,
                         non_iod_kept=o.keep_non_iod)


def _finish(settings: Settings, rel: str, emit, series, sop, old_sop: str, ctx: Context, who, changes: int) -> FileOutcome:
    """Name, write and describe one anonymised file (both paths)."""
    patient_id, subject, study_uid, session, found = who
    columns = settings.options.option_columns
    new_study = replace_uid(study_uid, ctx) if "rtnUIDsOpt" not in columns else study_uid
    out_rel = Path(subject, session, _file_name(series, settings.key, columns),
                   _file_name(sop, settings.key, columns) + ".dcm")
    status, out_rel = _write(emit, Path(settings.dest_root), out_rel)
    ctx.uids.setdefault(old_sop, str(sop))
    link = {"patient_id": patient_id, "subject": subject, "study_uid": study_uid, "session": session,
            "new_study_uid": new_study, "identifiers": found, "uids": sorted(ctx.uids.items())}
    return FileOutcome(rel, status, output=str(out_rel), actions=dict(ctx.counts), script_changes=changes, link=link)


def _check_complete(buf: bytes, part, top: dict) -> None:
    """:func:`sdu.dicomfiles.check_complete` on positions: anything short declines (the Dataset
    path then names it). Every value already fits inside the file (:mod:`.elements`)."""
    pixels = top.get(0x7FE00010)
    if 0x00280010 in top and 0x00280011 in top and pixels is None and 0x7FE00008 not in top and 0x7FE00009 not in top:
        raise fastpath.Decline("image without pixel data")
    if pixels is not None and pixels.undefined != part.encapsulated:
        raise fastpath.Decline("pixel data encoding does not match the transfer syntax")
    if pixels is None or part.encapsulated:
        return
    try:
        def us(tag, default=None):
            e = top.get(tag)
            return default if e is None else int.from_bytes(buf[e.value:e.value + 2], "little")
        frames = fastpath.text(buf, top.get(0x00280008)) or "1"
        expected = us(0x00280010) * us(0x00280011) * int(frames) * (us(0x00280002) or 1) * us(0x00280100) // 8
    except (TypeError, ValueError):
        return
    if pixels.length < expected:
        raise fastpath.Decline("pixel data short")


UID_NAME = re.compile(r"^[0-9]+(\.[0-9]+)*$")


def _file_name(uid, key: bytes, columns: frozenset[str]) -> str:
    """A file or folder name from a replaced UID. Never an original UID (under Retain UIDs the
    name is a keyed hash of it) and never anything a script could have turned into a path."""
    uid = str(uid or "").strip("\0 ")
    if "rtnUIDsOpt" in columns:
        return keyed_digest(key, "file-name", uid).hex()[:32]
    if not UID_NAME.match(uid) or len(uid) > 64:
        raise AnonymisationError("SOP Instance or Series Instance UID is not a valid UID after anonymisation")
    return uid


def _write(emit, dest_root: Path, out_rel: Path) -> tuple[str, Path]:
    """Write atomically; an existing file with the same bytes is left alone, a different one kept
    beside it as a new version (same SOP Instance UID, different content: a re-send to report)."""
    final = dest_root / out_rel
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    try:
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                emit(f)
        except OSError as exc:
            raise DestinationError(f"cannot write to the destination folder: {exc.strerror or type(exc).__name__}") from None
        version = 1
        while True:
            try:
                os.link(tmp, final)  # fails if the name exists: no silent overwrite
                return ("written" if version == 1 else "written-version"), final.relative_to(dest_root)
            except FileExistsError:
                if filecmp.cmp(tmp, final, shallow=False):
                    return "identical", final.relative_to(dest_root)
                version += 1
                final = final.with_name(f"{out_rel.stem}.v{version}.dcm")
            except OSError as exc:
                raise DestinationError(f"cannot write to the destination folder: {exc.strerror}") from None
    finally:
        tmp.unlink(missing_ok=True)
