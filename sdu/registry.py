"""The research registry of the automatic-ID route: pseudonymous subjects and sessions per trial.

What it holds may leave the hospital's identifiable side: trial, site, subject and session
pseudonyms and the *replacement* Study Instance UID. It never holds a name, a hospital ID or an
original UID: every value must match the pseudonym pattern (``anonymiser.options.ID_PATTERN``)
or be a UID under ``2.25`` (the anonymiser's replacement UIDs), and anything else is refused with
:class:`RegistryError` naming the field, never the value.

Backend: an embedded SQLite file in the site folder (``registry.sqlite``) by default; PostgreSQL
(psycopg 3) when a DSN is configured in ``$SDU_REGISTRY_DSN`` or in the site folder's
``registry.dsn`` (mode 0600: it may hold a password). Never on the command line.

:func:`register` is idempotent: registering the same session again changes nothing; registering
a known session under another subject is refused.
"""
from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from .errors import RegistryError
from .site import site_dir

DSN_ENV = "SDU_REGISTRY_DSN"
DSN_FILE = "registry.dsn"
SQLITE_FILE = "registry.sqlite"
#: Replacement UIDs only: the anonymiser's UUID-derived ``2.25.`` UIDs (PS3.5 B.2).
REPLACEMENT_UID = re.compile(r"^2\.25\.(0|[1-9][0-9]{0,38})$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS registry_sessions (
    trial TEXT NOT NULL,
    site TEXT NOT NULL,
    subject TEXT NOT NULL,
    session TEXT NOT NULL,
    study_uid TEXT,
    registered TEXT NOT NULL,
    PRIMARY KEY (trial, session)
)
"""
_INSERT = ("INSERT INTO registry_sessions (trial, site, subject, session, study_uid, registered) "
           "VALUES ({p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (trial, session) DO NOTHING")
_SELECT = "SELECT trial, site, subject, session, study_uid, registered FROM registry_sessions"
_SELECT_ONE = _SELECT + " WHERE trial={p} AND session={p}"


@dataclass(frozen=True)
class Entry:
    trial: str
    site: str
    subject: str
    session: str
    study_uid: str | None
    registered: str

    def to_dict(self) -> dict:
        return asdict(self)


def _check(field: str, value) -> None:
    from anonymiser.options import ID_PATTERN  # the one pseudonym pattern (imported when used)

    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise RegistryError(f"{field}: not a pseudonym (letters, digits, '.', '_', '-'; at most 64): refused")


def configured_dsn() -> str | None:
    """The PostgreSQL DSN from ``$SDU_REGISTRY_DSN`` or the site's ``registry.dsn``; None for SQLite."""
    if os.environ.get(DSN_ENV, "").strip():
        return os.environ[DSN_ENV].strip()
    path = site_dir() / DSN_FILE
    if not path.exists():
        return None
    if path.stat().st_mode & 0o077:
        raise RegistryError("registry DSN file is readable by group/others; chmod 600 it", path=path)
    return path.read_text(encoding="utf-8").strip() or None


class Registry:
    """One connection to the registry (SQLite or PostgreSQL); use as a context manager."""

    def __init__(self, dsn: str | None = None, sqlite_path: str | Path | None = None):
        dsn = dsn if dsn is not None else configured_dsn()
        self.backend = "postgresql" if dsn else "sqlite"
        if dsn:
            try:
                import psycopg
            except ImportError:
                raise RegistryError("a PostgreSQL registry is configured but psycopg is not installed") from None
            try:
                self.db = psycopg.connect(dsn, connect_timeout=10)
            except psycopg.Error as exc:  # the message may echo the DSN: name the kind only
                raise RegistryError(f"cannot connect to the PostgreSQL registry ({type(exc).__name__})") from None
            self._p = "%s"
        else:
            path = Path(sqlite_path) if sqlite_path else site_dir() / SQLITE_FILE
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            self.db = sqlite3.connect(path, timeout=30)
            self._p = "?"
        self._errors = (psycopg.Error,) if dsn else (sqlite3.Error,)
        self._run(SCHEMA)

    def _run(self, sql: str, args: tuple = (), *, then: tuple[str, tuple] | None = None) -> list:
        """Run ``sql`` (and ``then``, whose rows are returned) in one transaction."""
        try:
            self.db.execute(sql, args)
            rows = self.db.execute(*then).fetchall() if then else []
            self.db.commit()
            return rows
        except self._errors as exc:  # messages may quote SQL values: name the kind only
            self.db.rollback()
            raise RegistryError(f"registry {self.backend} error ({type(exc).__name__})") from None

    def __enter__(self) -> "Registry":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def register(self, trial: str, site: str, subject: str, session: str,
                 study_uid_replacement: str | None = None) -> Entry:
        """Record one pseudonymous session (idempotent); returns the registry's entry."""
        for field, value in (("trial", trial), ("site", site), ("subject", subject), ("session", session)):
            _check(field, value)
        if study_uid_replacement is not None and not REPLACEMENT_UID.match(study_uid_replacement):
            raise RegistryError("study_uid: not a replacement UID (2.25.<n>): refused")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        rows = self._run(_INSERT.format(p=self._p), (trial, site, subject, session, study_uid_replacement, now),
                         then=(_SELECT_ONE.format(p=self._p), (trial, session)))
        entry = Entry(*rows[0])
        if (entry.subject, entry.site) != (subject, site) or (
                study_uid_replacement and entry.study_uid not in (None, study_uid_replacement)):
            raise RegistryError(f"session already registered in trial {trial} with another subject, site or study")
        return entry

    def list(self, trial: str | None = None) -> list[Entry]:
        """Every entry (of one trial), ordered by trial, subject, session."""
        sql, args = _SELECT, ()
        if trial is not None:
            sql, args = sql + f" WHERE trial={self._p}", (trial,)
        rows = self._run("SELECT 1", then=(sql + " ORDER BY trial, subject, session", args))
        return [Entry(*r) for r in rows]


def register(trial: str, site: str, subject: str, session: str, study_uid_replacement: str | None = None,
             *, dsn: str | None = None) -> Entry:
    """Register one session in the configured registry (see :class:`Registry`)."""
    with Registry(dsn) as reg:
        return reg.register(trial, site, subject, session, study_uid_replacement)


def list_entries(trial: str | None = None, *, dsn: str | None = None) -> list[Entry]:
    with Registry(dsn) as reg:
        return reg.list(trial)
