"""Anonymise a folder: discover, anonymise file by file on a process pool, link, verify.

Memory stays flat: files stream through the workers one at a time and only small outcome
records come back. Originals are only read. DEST may not be inside SRC (or SRC inside DEST).
"""
from __future__ import annotations

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Callable

from sdu import site
from sdu.dicomfiles import heavy_first, iter_candidate_files
from sdu.errors import ConfigError
from sdu.linkage import LinkageStore, SubjectLink

from .batchterms import gather
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
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = pool.map(fn, items, chunksize=max(1, min(16, total // (workers * 4))))
        started()
        for result in results:
            yield result
            done += 1
            if progress:
                progress(done, total)


def anonymise_folder(src: str | Path, dest: str | Path, options: AnonymiseOptions,
                     progress: Progress | None = None) -> AnonymiseReport:
    """Anonymise every DICOM file below ``src`` into ``dest`` and verify the result.

    Returns the report (also written to ``dest/sdu-report.anonymise.json``); raises
    :class:`ConfigError` only for problems with the whole run (folders, key, linkage).
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
    dest.mkdir(parents=True, exist_ok=True)

    unreadable = []
    paths = heavy_first([str(p) for p in iter_candidate_files(src, unreadable)])
    with LinkageStore(linkage_path) as store:
        known = dict(store.db.execute("SELECT patient_id, subject_id FROM subjects WHERE trial=?",
                                      (options.trial_id,)).fetchall())
        sessions = dict(store.db.execute("SELECT study_uid, session_id FROM sessions WHERE trial=?",
                                         (options.trial_id,)).fetchall())
    if options.subject_id or options.session_id:
        _check_manual_subject(paths, options, known)
    settings = Settings(options, key, str(src), str(dest), known, sessions, batch_names=gather(paths))
    report = AnonymiseReport(str(src), str(dest), options.trial_id, options.site_id,
                             ["basic", *options.profile_options], [],
                             [{"path": s.path, "reason": s.reason} for s in unreadable])
    originals = _OriginalsReader(src)
    try:
        with LinkageStore(linkage_path) as store:
            linker = _Linker(store, options)
            read_originals = originals.start if options.verify else (lambda: None)
            for outcome in _map(partial(anonymise_file, settings=settings), paths, options.workers, progress,
                                read_originals):
                linker.add(outcome)  # as results stream in: the UID lists are not kept
                report.files.append(outcome)
    except BaseException:
        originals.abandon()
        raise
    report.subjects, report.sessions = sorted(linker.subjects), sorted(linker.sessions)
    report.seconds = time.perf_counter() - started
    _write_report(report, dest)  # before verifying: the verifier scans it too (it names source paths)
    if options.verify:
        _verify(report, src, dest, linkage_path, options, originals.result())
        report.seconds = time.perf_counter() - started
        _write_report(report, dest)
    return report


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
    from verifier.collect import collect_folder  # imported here, in the thread: it brings pydicom
    return collect_folder(src, 1)


def _verify(report: AnonymiseReport, src: Path, dest: Path, linkage_path: Path, options: AnonymiseOptions,
            against_collected) -> None:
    """``sdu verify DEST --against SRC`` with the linkage store: its report beside ours."""
    from verifier import VerifyOptions, verify_folder
    verification = verify_folder(dest, VerifyOptions(against=src, linkage_db=linkage_path, trial=options.trial_id,
                                                     workers=options.workers, against_collected=against_collected))
    report.verification = {
        "ok": verification.ok, "files": len(verification.files),
        "passed": sum(f.ok for f in verification.files),
        "failed": [f.path for f in verification.files if not f.ok],
        "notes": list(verification.notes), "report": VERIFY_REPORT_NAME,
    }
    _write_json(dest / VERIFY_REPORT_NAME, verification.to_dict())


def _check_manual_subject(paths: list[str], options: AnonymiseOptions, known: dict[str, str]) -> None:
    """A trial-assigned subject ID names one patient: refuse a batch holding several."""
    from sdu.dicomfiles import read_dataset
    patients, studies = set(), set()
    for p in paths:
        try:
            ds = read_dataset(p, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - reported by the anonymising pass
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


def _write_report(report: AnonymiseReport, dest: Path) -> None:
    _write_json(dest / REPORT_NAME, report.to_dict())


def _write_json(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)
