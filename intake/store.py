"""The site's identifiable store: ``STORE/<patient>/<study>/<series>/<sop>.dcm``.

Every folder and file name is a keyed hash (HMAC-SHA-256 with the site key, 16 hex digits) of
the patient ID or a UID: no name or raw identifier ever becomes a path. Files are written
atomically (temp file in the same folder, fsync, ``os.replace``) so a crash never leaves half
a file under a real name. :func:`ingest` is the one way in, used by the receiver and the
watcher alike: the same SOP Instance with the same bytes is stored once; different bytes
under the same SOP Instance UID are kept as ``<sop>.v2.dcm`` and reported as a conflict.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import sqlite3
import struct
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

from sdu.errors import ConfigError, IntakeError

from .identity import Identity, identify, split_part10
from .index import Index, record_instance

KEY_HEX = 16
TEMP_PREFIX = ".sdu-"
TEMP_SUFFIX = ".part"
EVENTS_DIR = ".events"
IMPLEMENTATION_CLASS_UID = str(PYDICOM_IMPLEMENTATION_UID)
IMPLEMENTATION_VERSION = "SDU_INTAKE"


@dataclass(frozen=True)
class StoreKeys:
    patient: str
    study: str
    series: str
    sop: str


@dataclass(frozen=True)
class IngestResult:
    """What :func:`ingest` did: ``stored``, ``duplicate`` (nothing written) or ``conflict``."""

    status: str
    keys: StoreKeys
    path: str
    version: int
    modality: str

    def to_dict(self) -> dict:
        return {"status": self.status, **{f"{k}_key": v for k, v in asdict(self.keys).items()},
                "path": self.path, "version": self.version, "modality": self.modality}


class Store:
    """An identifiable store folder bound to the site key that names its contents."""

    def __init__(self, root: str | Path, key: bytes, *, fsync: bool = True):
        """``fsync=False`` trusts the page cache: safe when the process dies, not on power loss."""
        self.root = Path(root).absolute()
        self.fsync = fsync
        self._made: set[Path] = set()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._key = key
        self._check_key()
        (self.root / EVENTS_DIR).mkdir(exist_ok=True)
        self.index = Index(self.root / ".index.sqlite")
        self._lock = threading.Lock()
        self._lock_fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)

    # -- names -------------------------------------------------------------------------------
    def _hash(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"sdu-store\x1f{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()[:KEY_HEX]

    def keys_for(self, ident: Identity) -> StoreKeys:
        return StoreKeys(
            patient=self._hash("patient", f"{ident.issuer}\x1f{ident.patient_id}"),
            study=self._hash("study", ident.study_uid),
            series=self._hash("series", ident.series_uid),
            sop=self._hash("sop", ident.sop_instance_uid),
        )

    def study_key_for_uid(self, study_uid: str) -> str:
        return self._hash("study", study_uid)

    def _check_key(self) -> None:
        """A store is named with one key: refuse to mix in files named with another."""
        marker = self.root / ".store.json"
        check = self._hash("check", "sdu-store")
        if marker.exists():
            if json.loads(marker.read_text()).get("key_check") != check:
                raise ConfigError("store was created with a different site key", path=self.root)
        else:
            marker.write_text(json.dumps({"layout": "patient/study/series/sop", "key_check": check}) + "\n")

    def study_dir(self, patient_key: str, study_key: str) -> Path:
        return self.root / patient_key / study_key

    # -- housekeeping ------------------------------------------------------------------------
    def sweep_temp_files(self) -> int:
        """Delete temp files left by dead processes (a killed receiver); return how many."""
        removed = 0
        for path in self.root.glob(f"*/*/*/{TEMP_PREFIX}*{TEMP_SUFFIX}"):
            try:
                pid = int(path.name[len(TEMP_PREFIX):].split("-", 1)[0])
                os.kill(pid, 0)
                continue  # writer still alive
            except (ValueError, ProcessLookupError):
                pass
            except PermissionError:
                continue
            path.unlink(missing_ok=True)
            removed += 1
        return removed

    def write_event(self, kind: str, study_key: str, payload: dict) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"{time.time() % 1:.6f}"[1:]
        path = self.root / EVENTS_DIR / f"{stamp}-{study_key}{'' if kind == 'complete' else '-' + kind}.json"
        _atomic_write(path, (json.dumps({"event": kind, "study_key": study_key, **payload}, indent=2) + "\n").encode())
        return path

    # -- the one way in ----------------------------------------------------------------------
    def ingest(self, dataset: bytes, transfer_syntax: str, *, source: str = "", calling_ae: str = "",
               path_hint: str | None = None) -> IngestResult:
        """Store one encoded dataset (bytes after the File Meta group) written in ``transfer_syntax``.

        Raises :class:`~sdu.errors.NotDicomError` when the header cannot be understood and
        :class:`~sdu.errors.IntakeError` when it cannot be stored.
        """
        ident = identify(dataset, transfer_syntax, path=path_hint)
        keys = self.keys_for(ident)
        series_dir = self.root / keys.patient / keys.study / keys.series
        try:
            if series_dir not in self._made:
                series_dir.mkdir(parents=True, exist_ok=True)
                self._made.add(series_dir)
            header = part10_header(ident.sop_class_uid, ident.sop_instance_uid, transfer_syntax, calling_ae)
            tmp = _write_temp(series_dir, header, dataset, fsync=self.fsync)
        except OSError as exc:
            raise IntakeError(f"cannot write to store: {exc.strerror}", path=self.root) from None
        try:
            with self._lock:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX)  # other processes (a watcher) on this store
                try:
                    version, existing = self._version_for(series_dir, keys.sop, dataset)
                    rel = f"{keys.patient}/{keys.study}/{keys.series}/{_file_name(keys.sop, version)}"
                    if existing:
                        status = "duplicate"
                        os.unlink(tmp)
                    else:
                        status = "stored" if version == 1 else "conflict"
                        os.replace(tmp, self.root / rel)
                        if self.fsync:
                            _fsync_dir(series_dir)
                    with self.index.connect() as db:
                        record_instance(db, keys=keys, ident=ident, version=version,
                                        size=len(header) + len(dataset), path=rel, transfer_syntax=transfer_syntax,
                                        source=source, now=time.time(), reopen=status != "duplicate")
                finally:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        except (OSError, sqlite3.Error) as exc:
            tmp.unlink(missing_ok=True)
            reason = exc.strerror if isinstance(exc, OSError) else f"index error ({type(exc).__name__})"
            raise IntakeError(f"cannot store instance: {reason}", path=self.root) from None
        if status == "conflict":
            self.write_event("conflict", keys.study, {"series_key": keys.series, "sop_key": keys.sop,
                                                     "version": version, "path": rel, "source": source})
        return IngestResult(status, keys, rel, version, ident.modality)

    def _version_for(self, series_dir: Path, sop_key: str, dataset: bytes) -> tuple[int, bool]:
        """(version to use, True if a version with identical dataset bytes exists), from the disk."""
        version = 1
        while True:
            path = series_dir / _file_name(sop_key, version)
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                return version, False
            if split_part10(raw, path=str(path))[1] == dataset:
                return version, True
            version += 1

    # -- reading -----------------------------------------------------------------------------
    def studies(self) -> list[dict]:
        rows = self.index.query(
            "SELECT s.*, (SELECT COUNT(*) FROM instances i WHERE i.study_key=s.study_key) AS instances,"
            " (SELECT COUNT(*) FROM series r WHERE r.study_key=s.study_key) AS series_count,"
            " (SELECT GROUP_CONCAT(DISTINCT modality) FROM series r WHERE r.study_key=s.study_key) AS modalities"
            " FROM studies s ORDER BY s.first_at")
        return [dict(r) for r in rows]

    def study(self, ref: str) -> dict | None:
        """One study by study key (or its prefix) or Study Instance UID, with its series."""
        rows = self.index.query("SELECT * FROM studies WHERE study_key=? OR study_uid=?", (ref, ref))
        if not rows and len(ref) >= 4:
            rows = self.index.query("SELECT * FROM studies WHERE study_key LIKE ?", (ref + "%",))
        if len(rows) != 1:
            return None
        study = dict(rows[0])
        series = self.index.query(
            "SELECT r.*, COUNT(i.sop_key) AS instances, SUM(i.version > 1) AS conflicts FROM series r"
            " LEFT JOIN instances i ON i.series_key=r.series_key WHERE r.study_key=?"
            " GROUP BY r.series_key ORDER BY r.modality, CAST(r.series_number AS INTEGER)", (study["study_key"],))
        study["series"] = [dict(s) for s in series]
        study["instances"] = sum(s["instances"] for s in study["series"])
        return study

    def due_for_completion(self, quiet_seconds: float, now: float | None = None) -> list[str]:
        cutoff = (time.time() if now is None else now) - quiet_seconds
        return [r["study_key"] for r in self.index.query(
            "SELECT study_key FROM studies WHERE complete=0 AND last_at<=?", (cutoff,))]

    def mark_complete(self, study_key: str, quiet_seconds: float) -> dict | None:
        """Mark a quiet study complete (unless something arrived meanwhile); return its summary."""
        with self.index.connect() as db:
            cur = db.execute("UPDATE studies SET complete=1, completed_at=? WHERE study_key=? AND complete=0"
                             " AND last_at<=?", (time.time(), study_key, time.time() - quiet_seconds))
            if cur.rowcount != 1:
                return None
        return self.study(study_key)


def _file_name(sop_key: str, version: int) -> str:
    return f"{sop_key}.dcm" if version == 1 else f"{sop_key}.v{version}.dcm"


def _element(tag: int, vr: bytes, value: bytes, pad: bytes) -> bytes:
    if len(value) % 2:
        value += pad
    if vr == b"OB":
        return struct.pack("<HH2s2xL", 2, tag, vr, len(value)) + value
    return struct.pack("<HH2sH", 2, tag, vr, len(value)) + value


def part10_header(sop_class_uid: str, sop_instance_uid: str, transfer_syntax: str, source_ae: str = "") -> bytes:
    """Preamble, ``DICM`` and the File Meta group (PS3.10 7.1), explicit VR little endian."""
    body = b"".join([
        _element(0x0001, b"OB", b"\x00\x01", b"\0"),
        _element(0x0002, b"UI", sop_class_uid.encode("ascii"), b"\0"),
        _element(0x0003, b"UI", sop_instance_uid.encode("ascii"), b"\0"),
        _element(0x0010, b"UI", transfer_syntax.encode("ascii"), b"\0"),
        _element(0x0012, b"UI", IMPLEMENTATION_CLASS_UID.encode("ascii"), b"\0"),
        _element(0x0013, b"SH", IMPLEMENTATION_VERSION.encode("ascii"), b" "),
        *([_element(0x0016, b"AE", source_ae.encode("ascii", "replace"), b" ")] if source_ae else []),
    ])
    return b"\0" * 128 + b"DICM" + struct.pack("<HH2sHL", 2, 0x0000, b"UL", 4, len(body)) + body


def _write_temp(folder: Path, *chunks: bytes, fsync: bool = True) -> Path:
    tmp = folder / f"{TEMP_PREFIX}{os.getpid()}-{os.urandom(6).hex()}{TEMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            if fsync:
                f.flush()
                os.fdatasync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = _write_temp(path.parent, data)
    os.replace(tmp, path)


def ingest(store: Store, dataset: bytes, transfer_syntax: str, *, source: str = "", calling_ae: str = "",
           path_hint: str | None = None) -> IngestResult:
    """The single entry point shared by the receiver and the watcher (see :meth:`Store.ingest`)."""
    return store.ingest(dataset, transfer_syntax, source=source, calling_ae=calling_ae, path_hint=path_hint)
