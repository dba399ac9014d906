"""The site-local linkage store: pseudonyms <-> originals. The only place identifiable values live.

An SQLite file (mode 0600) in the site folder. The anonymiser writes to it; the trial office
re-identifies through ``sdu linkage lookup``; the verifier reads the originals to search outputs
for them. Nothing from here is ever printed by a step other than ``sdu linkage``.
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from .errors import ConfigError

SCHEMA = """
CREATE TABLE IF NOT EXISTS subjects (
    trial TEXT NOT NULL, site TEXT NOT NULL, patient_id TEXT NOT NULL, subject_id TEXT NOT NULL,
    assigned TEXT NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (trial, patient_id), UNIQUE (trial, subject_id)
);
CREATE TABLE IF NOT EXISTS sessions (
    trial TEXT NOT NULL, subject_id TEXT NOT NULL, study_uid TEXT NOT NULL,
    session_id TEXT NOT NULL, new_study_uid TEXT NOT NULL, created TEXT NOT NULL,
    PRIMARY KEY (trial, study_uid)
);
CREATE TABLE IF NOT EXISTS identifiers (
    trial TEXT NOT NULL, subject_id TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (trial, subject_id, kind, value)
);
CREATE TABLE IF NOT EXISTS uids (
    original TEXT PRIMARY KEY, replacement TEXT NOT NULL, trial TEXT NOT NULL, subject_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    time TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class SubjectLink:
    trial: str
    site: str
    patient_id: str
    subject_id: str
    assigned: str


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class LinkageStore:
    """Open (creating when allowed) the linkage database at ``path``."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise ConfigError("no linkage store", path=self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "LinkageStore":
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.db.commit()
        self.close()

    # -- subjects -------------------------------------------------------------------------
    def subject_for_patient(self, trial: str, patient_id: str) -> SubjectLink | None:
        row = self.db.execute(
            "SELECT trial, site, patient_id, subject_id, assigned FROM subjects WHERE trial=? AND patient_id=?",
            (trial, patient_id)).fetchone()
        return SubjectLink(*row) if row else None

    def patient_for_subject(self, trial: str, subject_id: str) -> SubjectLink | None:
        row = self.db.execute(
            "SELECT trial, site, patient_id, subject_id, assigned FROM subjects WHERE trial=? AND subject_id=?",
            (trial, subject_id)).fetchone()
        return SubjectLink(*row) if row else None

    def link_subject(self, link: SubjectLink) -> None:
        """Record a link; refuse one that contradicts an existing link either way."""
        by_patient = self.subject_for_patient(link.trial, link.patient_id)
        if by_patient and by_patient.subject_id != link.subject_id:
            raise ConfigError(
                f"this patient is already enrolled in trial {link.trial} as subject "
                f"{by_patient.subject_id}; refusing to assign {link.subject_id}")
        by_subject = self.patient_for_subject(link.trial, link.subject_id)
        if by_subject and by_subject.patient_id != link.patient_id:
            raise ConfigError(
                f"subject ID {link.subject_id} is already used for another patient in trial {link.trial}")
        if not by_patient:
            self.db.execute("INSERT INTO subjects VALUES (?,?,?,?,?,?)",
                            (link.trial, link.site, link.patient_id, link.subject_id, link.assigned, _now()))

    # -- sessions, identifiers, uids -------------------------------------------------------
    def link_session(self, trial: str, subject_id: str, study_uid: str, session_id: str, new_study_uid: str) -> None:
        self.db.execute("INSERT OR IGNORE INTO sessions VALUES (?,?,?,?,?,?)",
                        (trial, subject_id, study_uid, session_id, new_study_uid, _now()))

    def sessions(self, trial: str, subject_id: str) -> list[tuple[str, str, str]]:
        return self.db.execute(
            "SELECT study_uid, session_id, new_study_uid FROM sessions WHERE trial=? AND subject_id=?",
            (trial, subject_id)).fetchall()

    def add_identifiers(self, trial: str, subject_id: str, items: Iterable[tuple[str, str]]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO identifiers VALUES (?,?,?,?)",
                            [(trial, subject_id, k, v) for k, v in items if v])

    def identifiers(self, trial: str | None = None, subject_id: str | None = None) -> list[tuple[str, str]]:
        sql, args = "SELECT DISTINCT kind, value FROM identifiers WHERE 1=1", []
        if trial:
            sql, args = sql + " AND trial=?", [*args, trial]
        if subject_id:
            sql, args = sql + " AND subject_id=?", [*args, subject_id]
        return self.db.execute(sql, args).fetchall()

    def add_uids(self, trial: str, subject_id: str, pairs: Iterable[tuple[str, str]]) -> None:
        self.db.executemany("INSERT OR IGNORE INTO uids VALUES (?,?,?,?)",
                            [(o, r, trial, subject_id) for o, r in pairs])

    def original_uids(self, trial: str | None = None) -> set[str]:
        if trial:
            return {r[0] for r in self.db.execute("SELECT original FROM uids WHERE trial=?", (trial,))}
        return {r[0] for r in self.db.execute("SELECT original FROM uids")}

    def original_uid(self, replacement: str) -> str | None:
        row = self.db.execute("SELECT original FROM uids WHERE replacement=?", (replacement,)).fetchone()
        return row[0] if row else None

    def audit(self, action: str, detail: str) -> None:
        self.db.execute("INSERT INTO audit VALUES (?,?,?)", (_now(), action, detail))
