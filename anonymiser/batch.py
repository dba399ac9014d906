"""Anonymise a folder: discover, anonymise file by file on a process pool, link, verify.

Memory stays flat: files stream through the workers one at a time and only small outcome
records come back. Originals are only read. DEST may not be inside SRC (or SRC inside DEST).
"""
from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from datetime import datetime, timezone
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Callable

from sdu import audit, site
from sdu.dicomfiles import RT_SOP_CLASS_ROOT, check_complete, iter_candidate_heads
from sdu.errors import ConfigError, NotDicomError
from sdu.linkage import LinkageStore, SubjectLink

from . import batchterms
from .options import AnonymiseOptions
from .report import AnonymiseReport, FileOutcome
from .single import Settings, anonymise_file

REPORT_NAME = "sdu-report.anonymise.json"
VERIFY_REPORT_NAME = "sdu-report.verify.json"
Progress = Callable[[int, int], None]


def _check_folders(src: Path, dest: Path) -> None:
    if not src.exists():
        raise ConfigError("source folder does not exist", path=src)
    s, d = src.resolve(), dest.resolve()
    if d == s or s in d.parents:
        raise ConfigError("destination is inside the source: choose a folder outside it", path=dest)
    if d in s.parents:
        raise ConfigError("source is inside the destination: choose another destination", path=dest)


def _map(fn, items: list, workers: int, progress: Progress | None, started: Callable[[], None] = lambda: None):
    """``fn`` over ``items`` in order; ``started()`` runs once the worker processes exist (a
    thread started before them would be forked mid-flight)."""
    total, done = len(items), 0
    if workers <= 1 or total < 8:
        started()
        for item in items:
            yield fn(item)
            done += 1
            if progress:
                progress(done, total)
        return
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        results = pool.map(fn, items, chunksize=max(1, min(16, total // (workers * 4))))
        started()
        for result in results:
            yield result
            done += 1
            if progress:
                progress(done, total)
    finally:  # also when the caller stops early (destination full): queued files are not started
        pool.shutdown(wait=True, cancel_futures=True)


def anonymise_folder(src: str | Path, dest: str | Path, options: AnonymiseOptions,
                     progress: Progress | None = None) -> AnonymiseReport:
    """Anonymise every DICOM file below ``src`` into ``dest`` and verify the result.

    Returns the report. DEST gets the report that may leave the site
    (``sdu-report.anonymise.json``, :meth:`AnonymiseReport.for_destination`); the full one, with
    source paths, goes to the site folder (``reports/<trial>/<run>.anonymise.json``). Raises
    :class:`ConfigError` only for problems with the whole run (folders, key, linkage, a
    destination that cannot be written).
    """
    started = time.perf_counter()
    src, dest = Path(src), Path(dest)
    _check_folders(src, dest)
    key = site.load_site_key(options.key_file)
    linkage_path = Path(options.linkage_db or site.default_linkage_db())
    if options.scripts:
        from .dicomedit import load_script
        for name, text in options.scripts:
            load_script(text, name)  # a bad script fails now, not at file 500
    _check_destination(dest)

    skipped = []
    paths, batch_names = _discover(src, skipped, options.limits.max_element)
    with LinkageStore(linkage_path) as store:
        known = dict(store.db.execute("SELECT patient_id, subject_id FROM subjects WHERE trial=?",
                                      (options.trial_id,)).fetchall())
        sessions = dict(store.db.execute("SELECT study_uid, session_id FROM sessions WHERE trial=?",
                                         (options.trial_id,)).fetchall())
    if options.subject_id or options.session_id:
        _check_manual_subject(paths, options, known)
    settings = Settings(options, key, str(src), str(dest), known, sessions, batch_names=batch_names)
    report = AnonymiseReport(str(src), str(dest), options.trial_id, options.site_id,
                             ["basic", *options.profile_options], [],
                             [{"path": os.path.relpath(s.path, src), "reason": s.reason} for s in skipped],
                             run=_run_id())
    originals = _OriginalsReader(src)
    dest_failure = None
    try:
        with LinkageStore(linkage_path) as store:
            linker = _Linker(store, options)
            read_originals = originals.start if options.verify else (lambda: None)
            for outcome in _map(partial(anonymise_file, settings=settings), paths, options.workers, progress,
                                read_originals):
                linker.add(outcome)  # as results stream in: the UID lists are not kept
                report.files.append(outcome)
                if outcome.dest_error:
                    dest_failure = outcome.reason
                    break  # every further file would fail the same way
    except BaseException:
        originals.abandon()
        raise
    report.subjects, report.sessions = sorted(linker.subjects), sorted(linker.sessions)
    report.seconds = time.perf_counter() - started
    if dest_failure is not None:
        originals.abandon()
        _write_site_report(report)
        raise ConfigError(f"{dest_failure}; stopped after {report.written} of {len(paths)} files "
                          f"(site report: {report.site_report})", path=dest)
    _write_reports(report, dest)  # before verifying: the verifier scans DEST's report too, as it stays
    if options.verify:
        _verify(report, src, dest, linkage_path, options, originals.result())
        report.seconds = time.perf_counter() - started
        _write_site_report(report)  # DEST's files stay exactly as verified
    audit.record("anonymise", run=report.run, trial=report.trial_id, site=report.site_id, ok=report.ok,
                 verified=report.verified, **report.counts())
    return report


def _discover(src: Path, skipped: list, limit: int) -> tuple[list[str], tuple[str, ...]]:
    """Every DICOM file below ``src``, RT objects first (they take longest: a pool should not end
    on one), and every person name the batch holds (:mod:`.batchterms`): one read per file."""
    names: set[str] = set()
    rt, other = [], []
    for path, head in iter_candidate_heads(src, skipped, batchterms.HEAD):
        batchterms.scan_file(str(path), names, limit, head)
        (rt if RT_SOP_CLASS_ROOT in head[:512] else other).append(str(path))
    return rt + other, tuple(sorted(names))


def _run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


def _check_destination(dest: Path) -> None:
    """DEST exists (created if needed) and takes a file: else a clear error naming it, now."""
    try:
        dest.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".sdu-probe-", dir=dest)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfigError(f"cannot write to the destination folder: {exc.strerror or type(exc).__name__}",
                          path=dest) from None


class _OriginalsReader:
    """The verifier's own read of the originals (``--against SRC``), run in a thread of this
    process while the workers anonymise: the parent is otherwise idle, waiting for results."""

    def __init__(self, src: Path):
        self.src, self._pool, self._future = src, None, None

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._future = self._pool.submit(_collect_originals, self.src)

    def abandon(self) -> None:
        """The run failed: don't wait for the read (it only reads; its result is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def result(self):
        if self._future is None:  # nothing to anonymise: the verifier reads the originals itself
            return None
        try:
            return self._future.result()
        finally:
            self._pool.shutdown()


def _collect_originals(src: Path):
    """The identifiers, UIDs and RT references of the originals (what already dangled)."""
    from verifier.collect import collect_folder  # imported here, in the thread (~25 ms; no pydicom)
    return collect_folder(src, 1)


#: Below this many files the verifier checks in this process: a helper forked from here starts
#: cold (~50 ms of CPU before its first file, measured on 303 files: it checked 48 while this
#: process checked 255, at ~0.2 ms a file), so it only pays off on large batches. The originals
#: are read already (:class:`_OriginalsReader`); the checks are the same either way.
VERIFY_POOL_FROM = 1000


def _verify(report: AnonymiseReport, src: Path, dest: Path, linkage_path: Path, options: AnonymiseOptions,
            against) -> None:
    """``sdu verify DEST --against SRC`` with the linkage store: its report beside ours."""
    from verifier import VerifyOptions, verify_folder
    workers = options.workers if len(report.files) >= VERIFY_POOL_FROM else 1
    verification = verify_folder(dest, VerifyOptions(against=src, linkage_db=linkage_path, trial=options.trial_id,
                                                     workers=workers, max_inflated=options.limits.max_inflated,
                                                     against_collected=against))
    report.verification = {
        "ok": verification.ok, "files": len(verification.files),
        "passed": sum(f.ok for f in verification.files),
        "failed": [f.path for f in verification.files if not f.ok], "warnings": verification.warnings_total,
        "notes": list(verification.notes), "report": VERIFY_REPORT_NAME,
    }
    _write_json(dest / VERIFY_REPORT_NAME, {**verification.to_dict(), "folder": "."})


def _check_manual_subject(paths: list[str], options: AnonymiseOptions, known: dict[str, str]) -> None:
    """A trial-assigned subject ID names one patient: refuse a batch holding several."""
    from sdu.dicomfiles import read_dataset
    patients, studies = set(), set()
    for p in paths:
        try:  # a damaged file is reported by the anonymising pass: it never decides for the batch
            ds = read_dataset(p, limits=options.limits)
            check_complete(ds, p)
        except NotDicomError:
            continue
        except Exception:  # noqa: BLE001
            continue
        patients.add(str(ds.get("PatientID", "")))
        studies.add(str(ds.get("StudyInstanceUID", "")))
    if options.subject_id and len(patients) > 1:
        raise ConfigError(f"--subject-id names one subject but the source holds {len(patients)} patients; "
                          "use --auto-id or split the source")
    if options.session_id and len(studies) > 1:
        raise ConfigError(f"--session-id names one session but the source holds {len(studies)} studies")
    if not options.subject_id:
        return
    for pid in patients:
        if pid in known and known[pid] != options.subject_id:
            raise ConfigError(f"this patient is already enrolled in trial {options.trial_id} as subject "
                              f"{known[pid]}; refusing to assign {options.subject_id}")
    taken = {s for p, s in known.items() if p not in patients}
    if options.subject_id in taken:
        raise ConfigError(f"subject ID {options.subject_id} is already used for another patient in trial {options.trial_id}")


class _Linker:
    """Writes each file's links to the linkage store as its outcome arrives (one writer: the
    parent process), then forgets them."""

    def __init__(self, store: LinkageStore, options: AnonymiseOptions):
        self.store, self.options = store, options
        self.subjects: set[str] = set()
        self.sessions: set[str] = set()

    def add(self, outcome: FileOutcome) -> None:
        link, outcome.link = outcome.link, None
        if not link:
            return
        o, store = self.options, self.store
        if link["subject"] not in self.subjects:
            store.link_subject(SubjectLink(o.trial_id, o.site_id, link["patient_id"], link["subject"],
                                           "manual" if o.subject_id else "auto"))
            self.subjects.add(link["subject"])
        if link["session"] not in self.sessions:
            store.link_session(o.trial_id, link["subject"], link["study_uid"], link["session"], link["new_study_uid"])
            self.sessions.add(link["session"])
        store.add_identifiers(o.trial_id, link["subject"], link["identifiers"])
        store.add_uids(o.trial_id, link["subject"], link["uids"])


def _write_reports(report: AnonymiseReport, dest: Path) -> None:
    _write_site_report(report)
    try:
        _write_json(dest / REPORT_NAME, report.for_destination())
    except OSError as exc:
        raise ConfigError(f"cannot write the report into the destination folder: {exc.strerror}", path=dest) from None


def _write_site_report(report: AnonymiseReport) -> None:
    """The full report (source paths, mapping) in the site folder, 0600: it never leaves the site."""
    folder = site.site_dir() / "reports" / report.trial_id
    path = folder / f"{report.run}.anonymise.json"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        report.site_report = str(path)
        _write_json(path, report.to_dict(), mode=0o600)
    except OSError as exc:
        raise ConfigError(f"cannot write the site report: {exc.strerror}", path=folder) from None


def _write_json(path: Path, obj, mode: int = 0o644) -> None:
    """Atomically, as UTF-8 (never \\u-escaped: a byte search must see what is there)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(_dumps(obj))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _dumps(obj) -> str:
    """JSON with one line per top-level key and per entry of a top-level list (a file's record):
    as readable as indented JSON, and written by json's C encoder (the indenting one is pure
    Python, ~5x slower on a report of thousands of files)."""
    if not isinstance(obj, dict) or not obj:
        return json.dumps(obj, ensure_ascii=False)

    def value(v) -> str:
        if isinstance(v, list) and v:
            return "[\n  " + ",\n  ".join(json.dumps(x, ensure_ascii=False) for x in v) + "\n ]"
        return json.dumps(v, ensure_ascii=False)

    def key(k) -> str:  # as json.dump writes a non-string key
        return json.dumps(k if isinstance(k, str) else json.dumps(k), ensure_ascii=False)

    return "{\n" + ",\n".join(f" {key(k)}: {value(v)}" for k, v in obj.items()) + "\n}\n"
