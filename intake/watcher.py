"""Import files dropped into a folder (a network share, a CD copy) into the store.

A file is imported only once it is complete: its size and mtime have not changed for the
settle period *and* it parses fully. DICOMDIR media: the DICOMDIR is read and the files it
references are imported (the DICOMDIR itself is set aside, not imported). Files that are not
DICOM, or stay damaged after a longer grace period, are moved to ``FOLDER/.sdu-rejected/``
beside a ``.reason.txt`` file; imported files are moved to ``FOLDER/.sdu-imported/`` or, with
``copy``, left in place and remembered in ``FOLDER/.sdu-seen.json``. Nothing is deleted.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pydicom
from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer

from sdu.dicomfiles import check_complete, header_note, read_dataset, sniff
from sdu.errors import IntakeError, NotDicomError

from .identity import split_part10
from .store import Store, ingest

IMPORTED, REJECTED, SEEN = ".sdu-imported", ".sdu-rejected", ".sdu-seen.json"


@dataclass(frozen=True)
class WatchOptions:
    copy: bool = False
    settle_seconds: float = 2.0
    #: a file that is stable but does not parse is given this many settle periods to finish.
    reject_after_settles: float = 3.0
    rescan_seconds: float = 10.0  # catch what a network share never announced


@dataclass
class WatchReport:
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    dicomdirs: int = 0
    rejected: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class _Nudge(FileSystemEventHandler):
    """watchdog events only tell the watcher where to look; the settle check decides."""

    def __init__(self, watcher: "FolderWatcher"):
        self.watcher = watcher

    def on_any_event(self, event) -> None:
        for attr in ("src_path", "dest_path"):
            path = getattr(event, attr, "")
            if path and not event.is_directory:
                self.watcher.notice(Path(os.fsdecode(path)))
            elif path and event.is_directory and event.event_type in ("created", "moved"):
                self.watcher.scan(Path(os.fsdecode(path)))


class FolderWatcher:
    def __init__(self, folder: str | Path, store: Store, options: WatchOptions, logger: logging.Logger):
        self.folder = Path(folder).absolute()
        if not self.folder.is_dir():
            raise IntakeError("not a folder", path=self.folder)
        self.store, self.options, self.logger = store, options, logger
        self.report = WatchReport()
        self._pending: dict[Path, tuple[int, int, float]] = {}  # path -> (size, mtime_ns, stable since)
        self._lock = threading.Lock()
        self._seen_path = self.folder / SEEN
        self._seen: dict[str, list[int]] = json.loads(self._seen_path.read_text()) if self._seen_path.exists() else {}

    # -- discovery --------------------------------------------------------------------------
    def _ignored(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.folder)
        except ValueError:
            return True
        return any(part.startswith(".") for part in rel.parts)  # our folders, hidden partial copies

    def notice(self, path: Path) -> None:
        if self._ignored(path):
            return
        with self._lock:
            self._pending.setdefault(path, (-1, -1, 0.0))

    def scan(self, root: Path | None = None) -> None:
        for dirpath, dirnames, filenames in os.walk(root or self.folder):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                self.notice(Path(dirpath, name))

    # -- settling ---------------------------------------------------------------------------
    def poll(self, now: float | None = None) -> None:
        """Process every pending file that has been stable for the settle period."""
        now = time.monotonic() if now is None else now
        with self._lock:
            items = list(self._pending.items())
        for path, (size, mtime, since) in items:
            try:
                st = path.stat()
            except FileNotFoundError:
                self._drop(path)
                continue
            if not path.is_file() or self._already_seen(path, st):
                self._drop(path)
                continue
            if (st.st_size, st.st_mtime_ns) != (size, mtime):
                with self._lock:
                    self._pending[path] = (st.st_size, st.st_mtime_ns, now)
                continue
            quiet = now - since
            if quiet >= self.options.settle_seconds:
                grace = self.options.settle_seconds * self.options.reject_after_settles
                if self._process(path, final=quiet >= grace):
                    self._drop(path)

    def _drop(self, path: Path) -> None:
        with self._lock:
            self._pending.pop(path, None)

    def _already_seen(self, path: Path, st: os.stat_result) -> bool:
        return self._seen.get(str(path.relative_to(self.folder))) == [st.st_size, st.st_mtime_ns]

    # -- one file ---------------------------------------------------------------------------
    def _process(self, path: Path, *, final: bool) -> bool:
        """Import, set aside or postpone one stable file; True when it is dealt with."""
        if _is_dicomdir(path):  # by content: an image may be called DICOMDIR, a DICOMDIR anything
            return self._dicomdir(path)
        try:
            ds = read_dataset(path)
            check_complete(ds, path)
            raw = path.read_bytes()
            if header_note(ds) is not None and raw[128:132] != b"DICM":  # a bare data set (older exports)
                transfer_syntax, dataset = str(ds.file_meta.TransferSyntaxUID), raw
            else:
                transfer_syntax, dataset = split_part10(raw, path=str(path))
            result = ingest(self.store, dataset, transfer_syntax, source="folder", path_hint=str(path))
        except NotDicomError as exc:
            if not final:
                return False  # may still be being written by a slow copier
            self._reject(path, exc.reason)
            return True
        except (IntakeError, OSError) as exc:
            self.report.failed.append({"path": str(path), "reason": getattr(exc, "reason", type(exc).__name__)})
            self.logger.error("%s: not imported (%s); will retry", path.name, getattr(exc, "reason", type(exc).__name__))
            return False
        if result.status == "duplicate":
            self.report.duplicates += 1
        elif result.status == "conflict":
            self.report.conflicts += 1
            self.logger.warning("conflicting re-send for study %s sop %s kept as version %d",
                                result.keys.study, result.keys.sop, result.version)
        else:
            self.report.imported += 1
        self.logger.info("imported a file into study %s series %s (%s)", result.keys.study, result.keys.series,
                         result.status)  # no path: folder names from PACS exports often carry names
        self._done(path)
        return True

    def _dicomdir(self, path: Path) -> bool:
        try:
            media = pydicom.dcmread(path)
            records = list(media.DirectoryRecordSequence)
        except Exception as exc:
            self._reject(path, f"unreadable DICOMDIR ({type(exc).__name__})")
            return True
        base, missing = path.parent, 0
        for record in records:
            ref = record.get("ReferencedFileID")
            if not ref:
                continue
            parts = [ref] if isinstance(ref, str) else list(ref)
            target = base.joinpath(*parts)
            if not target.exists():  # media written in upper case, copied in lower, or the reverse
                target = base.joinpath(*(p.lower() for p in parts))
            if target.is_file():
                self.notice(target)
            else:
                missing += 1
        if missing:
            self.logger.warning("%s references %d file(s) that are not present", path.relative_to(self.folder),
                                missing)
        self.report.dicomdirs += 1
        self._done(path)
        return True

    def _done(self, path: Path) -> None:
        if self.options.copy:
            st = path.stat()
            self._seen[str(path.relative_to(self.folder))] = [st.st_size, st.st_mtime_ns]
            tmp = self._seen_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._seen))
            os.replace(tmp, self._seen_path)
        else:
            self._move(path, self.folder / IMPORTED)

    def _reject(self, path: Path, reason: str) -> None:
        self.report.rejected.append({"path": str(path), "reason": reason})
        self.logger.warning("%s set aside: %s", path.relative_to(self.folder), reason)
        dest = self._move(path, self.folder / REJECTED)
        dest.with_name(dest.name + ".reason.txt").write_text(f"{path.relative_to(self.folder)}: {reason}\n")

    def _move(self, path: Path, under: Path) -> Path:
        dest = under / path.relative_to(self.folder)
        dest.parent.mkdir(parents=True, exist_ok=True)
        n = 1
        while dest.exists():
            n += 1
            dest = dest.with_name(f"{path.name}.{n}")
        shutil.move(path, dest)
        return dest

    # -- running ----------------------------------------------------------------------------
    def run(self, stop: threading.Event, *, interval: float = 0.25) -> WatchReport:
        """Watch until ``stop`` is set; files already stable are processed before returning."""
        observer = Observer()
        observer.schedule(_Nudge(self), str(self.folder), recursive=True)
        observer.start()
        try:
            self.scan()
            last_scan = time.monotonic()
            while not stop.wait(interval):
                self.poll()
                if time.monotonic() - last_scan >= self.options.rescan_seconds:
                    self.scan()
                    last_scan = time.monotonic()
        finally:
            observer.stop()
            observer.join(timeout=10)
        self.poll()
        return self.report

    def run_once(self) -> WatchReport:
        """Scan, wait until what is there has settled, import it, return (for cron jobs and tests)."""
        self.scan()
        deadline = time.monotonic() + self.options.settle_seconds * (self.options.reject_after_settles + 2)
        while self._pending and time.monotonic() < deadline:
            self.poll()
            if self._pending:
                time.sleep(0.2)
        return self.report


def _is_dicomdir(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return sniff(f.read(600)) == "dicomdir"
    except OSError:
        return False
