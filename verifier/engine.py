"""``verify_folder``: check every file below a folder, independently of how it was produced."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

from sdu.dicomfiles import heavy_first
from sdu.errors import ConfigError
from sdu.linkage import LinkageStore

from .collect import gather
from .filecheck import check_batch
from .model import FileResult, Finding, VerifyOptions, VerifyReport
from .pool import run_batches
from .references import check_references

Progress = Callable[[int, int], None]


def list_files(folder: Path) -> tuple[list[tuple[str, str]], list[FileResult]]:
    """Every regular file below ``folder`` as (path, relative path); problems as failed results."""
    found: list[tuple[str, str]] = []
    problems: list[FileResult] = []

    def onerror(exc: OSError) -> None:
        rel = os.path.relpath(exc.filename, folder) if exc.filename else "."
        problems.append(FileResult(rel, "folder", findings=[Finding("readable", "", f"cannot read folder: {exc.strerror}")]))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=onerror):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, folder)
            if os.path.islink(path):
                problems.append(FileResult(rel, "other", findings=[Finding("readable", "", "symbolic link (not followed)")]))
            elif os.path.isfile(path):
                found.append((path, rel))
    return found, problems


@contextmanager
def _original_uids(options: VerifyOptions):
    """``original_of(uid)`` from the linkage store, or None without one."""
    if options.linkage_db is None:
        yield None
        return
    with LinkageStore(Path(options.linkage_db), create=False) as store:
        yield store.original_uid


def verify_folder(folder: str | Path, options: VerifyOptions = VerifyOptions(),
                  progress: Progress | None = None) -> VerifyReport:
    """Verify every file below ``folder`` (PS3.15 Annex E profile, private elements, identifiers,
    original UIDs, de-identification record, RT references, raw bytes). Never prints."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("not a folder", path=folder)
    if options.against is not None and not Path(options.against).is_dir():
        raise ConfigError("originals folder (--against) not found", path=options.against)
    workers = max(1, options.workers)
    originals = gather(options.against, options.linkage_db, options.trial, workers, options.against_collected,
                       options.max_inflated)
    report = VerifyReport(str(folder), sources=originals.counts)
    report.checks = ["record", "profile", "iod", "private", "references", "raw bytes"]
    if originals.has_identifiers:
        report.checks.insert(3, "identifiers")
    else:
        report.notes.append("no identifiers known (give --against originals or --linkage-db): "
                            "the identifier check did not run and the raw-bytes scan had no identifiers to look for")
    if originals.has_uids:
        report.checks.insert(3, "uids")
    else:
        report.notes.append("no original UIDs known (give --against originals or --linkage-db): "
                            "the original-UID check did not run")
    if originals.counts.get("source_files_unreadable"):
        report.notes.append(f"{originals.counts['source_files_unreadable']} source file(s) could not be read")

    files, problems = list_files(folder)
    files = heavy_first(files, key=lambda item: item[0])  # shared scheduling helper, not a check
    report.files.extend(problems)
    summaries = []
    done = 0
    for batch in run_batches(check_batch, originals, files, workers):
        for result, summary in batch:
            report.files.append(result)
            if summary is not None:
                summaries.append(summary)
        done += len(batch)
        if progress is not None:
            progress(done, len(files))
    with _original_uids(options) as original_of:
        failures, warnings = check_references(summaries, originals.references, original_of)
    for result in report.files:
        result.findings.extend(failures.get(result.path, ()))
        result.warnings.extend(warnings.get(result.path, ()))
    report.files.sort(key=lambda r: r.path)
    if not report.files:
        report.notes.append("no files found: nothing was verified")
    return report
