"""The store's index: one SQLite file (``STORE/.index.sqlite``) of studies, series, instances.

The files on disk are the truth; the index holds what ``sdu store list/show`` and the
completion monitor need (counts, modality, last arrival, completion state, and, because this
is the identifiable store, the patient's name and ID for ``store show`` only). WAL mode: a
commit survives a crash of the process without an fsync per instance.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    study_key TEXT PRIMARY KEY, patient_key TEXT NOT NULL, study_uid TEXT NOT NULL,
    patient_name TEXT, patient_id TEXT, study_date TEXT, study_description TEXT,
    first_at REAL NOT NULL, last_at REAL NOT NULL, complete INTEGER NOT NULL DEFAULT 0,
    completed_at REAL);
CREATE TABLE IF NOT EXISTS series (
    series_key TEXT PRIMARY KEY, study_key TEXT NOT NULL, series_uid TEXT NOT NULL,
    modality TEXT, series_number TEXT, series_description TEXT);
CREATE TABLE IF NOT EXISTS instances (
    sop_key TEXT NOT NULL, version INTEGER NOT NULL, series_key TEXT NOT NULL,
    study_key TEXT NOT NULL, sop_class_uid TEXT, transfer_syntax TEXT,
    size INTEGER NOT NULL, path TEXT NOT NULL, received_at REAL NOT NULL, source TEXT,
    PRIMARY KEY (sop_key, version));
CREATE INDEX IF NOT EXISTS instances_study ON instances (study_key);
"""


class Index:
    """Thread-safe access to the index (one connection per thread, short transactions)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()
        self.connect().db.executescript(SCHEMA)

    def connect(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return _Txn(db)

    def query(self, sql: str, args=()) -> list[sqlite3.Row]:
        return self.connect().db.execute(sql, args).fetchall()


class _Txn:
    """``with index.connect() as db``: one IMMEDIATE transaction, committed or rolled back."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def record_instance(db: sqlite3.Connection, *, keys, ident, version: int, size: int,
                    path: str, transfer_syntax: str, source: str, now: float, reopen: bool) -> None:
    """Upsert the study/series rows and insert (or refresh) the instance row."""
    db.execute(
        "INSERT INTO studies (study_key, patient_key, study_uid, patient_name, patient_id, study_date,"
        " study_description, first_at, last_at) VALUES (?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT(study_key) DO NOTHING",
        (keys.study, keys.patient, ident.study_uid, ident.patient_name, ident.patient_id, ident.study_date,
         ident.study_description, now, now),
    )
    if reopen:
        db.execute("UPDATE studies SET last_at=?, complete=0, completed_at=NULL WHERE study_key=?", (now, keys.study))
    db.execute(
        "INSERT INTO series (series_key, study_key, series_uid, modality, series_number, series_description)"
        " VALUES (?,?,?,?,?,?) ON CONFLICT(series_key) DO NOTHING",
        (keys.series, keys.study, ident.series_uid, ident.modality, ident.series_number, ident.series_description),
    )
    db.execute(
        "INSERT OR REPLACE INTO instances (sop_key, version, series_key, study_key, sop_class_uid,"
        " transfer_syntax, size, path, received_at, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (keys.sop, version, keys.series, keys.study, ident.sop_class_uid, transfer_syntax, size, path, now, source),
    )
