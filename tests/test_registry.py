"""The research registry: pseudonyms only, idempotent, on SQLite and on a real PostgreSQL server."""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from sdu import registry
from sdu.errors import RegistryError
from sdu.studygen import PLANTED

UID = "2.25.18989857086890666113625033634101528319"


def _skip(reason: str):
    """Skip, except in CI, where a PostgreSQL test that ran nothing is a failure (./run-tests installs it)."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_dsn():
    """A throwaway PostgreSQL cluster on loopback (Debian's server binaries), password auth."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        _skip("PostgreSQL server not installed (Debian package postgresql)")
    bindir = Path(bins[-1]).parent
    runas: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        user = next((u for u in ("postgres", "nobody") if _user_exists(u)), None)
        if user is None or not shutil.which("runuser"):
            _skip("running as root without a postgres/nobody user or runuser to start the server")
        runas = ["runuser", "-u", user, "--"]
    base = Path(tempfile.mkdtemp(prefix="sdu-pg-"))
    password = secrets.token_hex(12)
    (base / "pw").write_text(password + "\n")
    if runas:
        shutil.chown(base, runas[2])
        shutil.chown(base / "pw", runas[2])
    port = _free_port()
    data = base / "data"
    try:
        subprocess.run([*runas, str(bindir / "initdb"), "-D", str(data), "-U", "sdu", "--auth=scram-sha-256",
                        f"--pwfile={base / 'pw'}", "-E", "UTF8", "--no-sync"], check=True, capture_output=True,
                       timeout=120)
        subprocess.run([*runas, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "60",
                        "-o", f"-h 127.0.0.1 -p {port} -k {base} -F", "start"], check=True, capture_output=True,
                       timeout=120)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        _skip(f"could not start a PostgreSQL cluster: {type(exc).__name__}")
    try:
        yield f"postgresql://sdu:{password}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*runas, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    import pwd
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _exercise(reg: registry.Registry) -> None:
    first = reg.register("T1", "S1", "S1-TMDLU24F", "S1-TMDLU24F-KREL63", UID)
    again = reg.register("T1", "S1", "S1-TMDLU24F", "S1-TMDLU24F-KREL63", UID)
    assert again == first  # idempotent: same row, same registration time
    reg.register("T1", "S1", "S1-TMDLU24F", "S1-TMDLU24F-AB12CD")
    reg.register("T2", "S1", "S1-OTHER", "S1-OTHER-XY")
    assert [e.session for e in reg.list("T1")] == ["S1-TMDLU24F-AB12CD", "S1-TMDLU24F-KREL63"]
    assert len(reg.list()) == 3
    with pytest.raises(RegistryError, match="another subject"):
        reg.register("T1", "S1", "S1-SOMEONEELSE", "S1-TMDLU24F-KREL63")
    for value in (PLANTED["family name"] + "^" + PLANTED["given name"], PLANTED["patient id"] + " ", "19580317 x"):
        with pytest.raises(RegistryError, match="subject: not a pseudonym") as info:
            reg.register("T1", "S1", value, "S1-NEW-1")
        assert value.strip() not in str(info.value)
    with pytest.raises(RegistryError, match="study_uid: not a replacement UID"):
        reg.register("T1", "S1", "S1-TMDLU24F", "S1-TMDLU24F-ZZ", "1.2.840.113619.2.55.3")  # an original-style UID
    assert len(reg.list()) == 3  # nothing refused was stored


def test_sqlite_registry_in_the_site_folder(site_dir):
    with registry.Registry() as reg:
        assert reg.backend == "sqlite"
        _exercise(reg)
    path = site_dir / registry.SQLITE_FILE
    assert path.stat().st_mode & 0o077 == 0
    assert [e.subject for e in registry.list_entries("T2")] == ["S1-OTHER"]  # persisted


def test_postgresql_registry_from_the_environment(postgres_dsn, monkeypatch):
    monkeypatch.setenv(registry.DSN_ENV, postgres_dsn)
    with registry.Registry() as reg:
        assert reg.backend == "postgresql"
        reg.db.execute("DROP TABLE IF EXISTS registry_sessions")
        reg.db.commit()
    with registry.Registry() as reg:
        _exercise(reg)
    monkeypatch.delenv(registry.DSN_ENV)
    assert registry.list_entries() == []  # without the DSN: the (empty) SQLite registry
    assert len(registry.list_entries(dsn=postgres_dsn)) == 3


def test_postgresql_dsn_from_the_site_file(postgres_dsn, site_dir):
    site_dir.mkdir(parents=True, exist_ok=True)
    dsn_file = site_dir / registry.DSN_FILE
    dsn_file.write_text(postgres_dsn + "\n")
    dsn_file.chmod(0o644)
    with pytest.raises(RegistryError, match="chmod 600"):
        registry.Registry()
    dsn_file.chmod(0o600)
    entry = registry.register("T9", "S1", "S1-FILEDSN", "S1-FILEDSN-01")
    assert entry.trial == "T9"
    assert not (site_dir / registry.SQLITE_FILE).exists()


def test_unreachable_postgresql_names_no_secret(monkeypatch):
    monkeypatch.setenv(registry.DSN_ENV, f"postgresql://sdu:s3cretpw@127.0.0.1:{_free_port()}/x")
    with pytest.raises(RegistryError, match="cannot connect") as info:
        registry.Registry()
    assert "s3cretpw" not in str(info.value)
