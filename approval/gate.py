"""The gate before upload: an approval bound to a manifest of the exact files and to a passing
verification of those files.

:func:`approve` hashes every file of an anonymised folder, runs the independent verifier on it
(refusing unless every file passes), hashes again (nothing changed meanwhile) and records who,
when and why in the site folder (``approvals/``, 0600): the record names a site user and stays at
the site. Approval also registers the folder's pseudonymous sessions (``SUBJECT/SESSION/...``) in
the research registry (:mod:`sdu.registry`): before anything leaves, never after. With each file's
SHA-256 the record keeps its MD5 and CRC-32 (what XNAT's catalog and a zip entry show for the same
bytes) and a stat key (size, times, inode).
:func:`require_release` is what the upload calls first: it recomputes the manifest and refuses,
naming the reason, when there is no approval, it was revoked, or any file changed, appeared or
vanished since. The uploader asks it to re-hash only files whose stat key changed, because it
checks every file's SHA-256 itself as it reads the file to send it (:mod:`uploader.stream`).
"""
from __future__ import annotations

import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sdu import audit, site
from sdu.errors import ApprovalError

VERIFY_REPORT = "sdu-report.verify.json"
ANONYMISE_REPORT = "sdu-report.anonymise.json"


@dataclass(frozen=True)
class Release:
    """An approved folder: its files (relative path -> (size, SHA-256)) and the approval record."""

    folder: Path
    files: dict[str, tuple[int, str]]
    approval: dict

    @property
    def sums(self) -> dict[str, dict]:
        """MD5 and CRC-32 of each approved file as recorded at approval (what XNAT's catalog and a
        zip entry show for the same bytes); empty for a record from before they were kept."""
        return {rel: {"md5": e["md5"], "crc32": e["crc32"]} for rel, e in self.approval["manifest"].items()
                if isinstance(e.get("md5"), str) and isinstance(e.get("crc32"), int)}


def _stat_key(st: os.stat_result) -> list[int]:
    """What changes whenever a file's bytes do: size, modification and change times (the change
    time cannot be set back by a user), inode and device. Used only to skip re-hashing before the
    connection; the uploader still checks every file's SHA-256 as it reads it to send."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _files_below(folder: Path) -> dict[str, Path]:
    """Relative path -> path of every regular file below ``folder`` (links and devices refused)."""
    out: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink() or not path.is_file():
                raise ApprovalError(f"{rel}: not a regular file (a link or device): refused", path=folder)
            out[rel] = path
    return out


def _hash_file(path: Path, sums: bool = False) -> tuple[int, str, list[int], dict]:
    """(size, SHA-256, stat key taken before the read, {"md5", "crc32"} if ``sums``): a change
    during or after the read leaves a stat key that no longer matches. MD5 is what XNAT's catalog
    records, CRC-32 what a zip entry carries: kept so the upload need not compute them again."""
    digest, md5sum, crc = hashlib.sha256(), hashlib.md5() if sums else None, 0
    with open(path, "rb") as f:
        key = _stat_key(os.fstat(f.fileno()))
        size = 0
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            if md5sum is not None:
                md5sum.update(chunk)
                crc = zlib.crc32(chunk, crc)
            size += len(chunk)
    return size, digest.hexdigest(), key, {"md5": md5sum.hexdigest(), "crc32": crc} if md5sum is not None else {}


def _manifest_with_stats(folder: Path, sums: bool = False):
    """(manifest, {rel: stat key}, {rel: {"md5", "crc32"}} when asked)."""
    files, stats, extra = {}, {}, {}
    for rel, path in _files_below(folder).items():
        size, sha, key, extra[rel] = _hash_file(path, sums)
        files[rel], stats[rel] = (size, sha), key
    return files, stats, extra


def manifest(folder: str | Path) -> dict[str, tuple[int, str]]:
    """Relative path -> (size, SHA-256) of every regular file below ``folder`` (links refused)."""
    return _manifest_with_stats(Path(folder))[0]


def _record_path(folder: Path) -> Path:
    key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:24]
    return site.site_dir() / "approvals" / f"{key}.json"


def _identity(folder: Path) -> tuple[str | None, str | None]:
    """Trial and site IDs from DEST's anonymise report (None when there is none)."""
    try:
        data = json.loads((folder / ANONYMISE_REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    trial, site_id = data.get("trial_id"), data.get("site_id")
    return (trial if isinstance(trial, str) else None), (site_id if isinstance(site_id, str) else None)


def _register(folder: Path, trial: str | None, site_id: str | None) -> list[dict]:
    """Register the folder's pseudonymous sessions in the research registry (automatic-ID route).

    Done at approval, before anything leaves: the registry never lags behind the central archive.
    Idempotent, so approving again (or after a revoke) registers nothing twice."""
    if not trial or not site_id:
        return []
    from sdu import registry

    from .review import session_pseudonyms

    sessions = session_pseudonyms(folder)
    if sessions:
        with registry.Registry() as reg:
            for s in sessions:
                reg.register(trial, site_id, s["subject"], s["session"], s["study_uid"])
    return [{"subject": s["subject"], "session": s["session"]} for s in sessions]


def _verify(folder: Path, files: dict) -> dict:
    """Run the independent verifier on ``folder``; refuse unless every file passes."""
    from verifier import VerifyOptions, verify_folder

    trial = _identity(folder)[0]
    db = site.default_linkage_db()
    report = verify_folder(folder, VerifyOptions(linkage_db=db if db.exists() else None, trial=trial))
    checked = {r.path for r in report.files}
    if not report.ok:
        failed = sum(not r.ok for r in report.files)
        raise ApprovalError(f"verification fails on {failed} file(s): not approved (run sdu verify)", path=folder)
    if checked != set(files):
        raise ApprovalError("verification did not cover exactly the files of the folder", path=folder)
    return {"ok": True, "files": len(checked), "checks": list(report.checks), "warnings": report.warnings_total}


def approve(folder: str | Path, user: str, comment: str = "") -> dict:
    """Verify ``folder`` and record an approval by ``user`` bound to its manifest."""
    folder = Path(folder)
    if not user.strip():
        raise ApprovalError("an approval names the user who gives it")
    if not folder.is_dir():
        raise ApprovalError("not a folder", path=folder)
    before = manifest(folder)
    if not before:
        raise ApprovalError("nothing to approve: the folder is empty", path=folder)
    verification = _verify(folder, before)
    after, stats, sums = _manifest_with_stats(folder, sums=True)
    if after != before:
        raise ApprovalError("files changed while being verified: approve again", path=folder)
    trial, site_id = _identity(folder)
    registered = _register(folder, trial, site_id)
    record = {"folder": str(folder.resolve()), "user": user, "comment": comment,
              "trial": trial, "site": site_id, "registered": registered,
              "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "revoked": None,
              "verification": verification,
              "manifest": {rel: {"size": size, "sha256": sha, **sums[rel], "stat": stats[rel]}
                           for rel, (size, sha) in before.items()}}
    _write(_record_path(folder), record)
    audit.record("approve", user=user, files=len(before), manifest=_digest(before), warnings=verification["warnings"],
                 trial=trial, site=site_id, sessions=len(registered))
    return record


def revoke(folder: str | Path, user: str, comment: str = "") -> dict:
    """Withdraw the approval of ``folder`` (the record is kept, marked revoked)."""
    folder = Path(folder)
    if not user.strip():
        raise ApprovalError("a revocation names the user who gives it")
    path = _record_path(folder)
    record = _read(path, folder)
    record["revoked"] = {"user": user, "comment": comment,
                         "time": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    _write(path, record)
    audit.record("revoke", user=user, manifest=_digest(_files(record)), trial=record.get("trial"), site=record.get("site"))
    return record


def require_release(folder: str | Path, *, rehash: bool = True) -> Release:
    """The approved release of ``folder``; :class:`ApprovalError` (naming why) otherwise.

    With ``rehash`` (the default) every file is hashed again. Without it, a file whose stat key
    (size, times, inode) is the one recorded at approval is not re-read here: that is for a caller
    that checks each file's SHA-256 itself as it reads the file to send it (the uploader), so the
    pre-connection check costs a ``stat`` per file and any file written since approval is still
    hashed, and refused, before anything is sent."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ApprovalError("not a folder", path=folder)
    record = _read(_record_path(folder), folder)
    if record.get("revoked"):
        raise ApprovalError("the approval was revoked: approve again", path=folder)
    approved, recorded = _files(record), _stats(record)
    now: dict[str, tuple[int, str]] = {}
    for rel, path in _files_below(folder).items():
        if not rehash and rel in approved and recorded.get(rel) == _stat_key(path.stat()):
            now[rel] = approved[rel]
        else:
            now[rel] = _hash_file(path)[:2]
    if now != approved:
        changed = sum(1 for k in now.keys() & approved.keys() if now[k] != approved[k])
        added, removed = len(now.keys() - approved.keys()), len(approved.keys() - now.keys())
        raise ApprovalError(f"files changed since approval ({changed} changed, {added} added, {removed} removed): "
                            "verify and approve again", path=folder)
    return Release(folder, now, record)


def install_record(folder: str | Path, record: dict) -> None:
    """Place an approval record made elsewhere for ``folder`` (the command images carry it through
    XNAT, sealed: see :mod:`sdu.xnat.signing`); :func:`require_release` still checks every file."""
    _write(_record_path(Path(folder)), record)


def _stats(record: dict) -> dict[str, list[int]]:
    return {rel: e["stat"] for rel, e in record["manifest"].items() if isinstance(e.get("stat"), list)}


def _files(record: dict) -> dict[str, tuple[int, str]]:
    return {rel: (e["size"], e["sha256"]) for rel, e in record["manifest"].items()}


def _digest(files: dict[str, tuple[int, str]]) -> str:
    text = "\n".join(f"{rel}\t{size}\t{sha}" for rel, (size, sha) in sorted(files.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _read(path: Path, folder: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ApprovalError("not approved (sdu approve)", path=folder) from None
    except (OSError, ValueError) as exc:
        raise ApprovalError(f"approval record unreadable ({type(exc).__name__})", path=folder) from None


def _write(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=1, ensure_ascii=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
