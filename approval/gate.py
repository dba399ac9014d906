"""The gate before upload: an approval bound to a manifest of the exact files and to a passing
verification of those files.

:func:`approve` hashes every file of an anonymised folder, runs the independent verifier on it
(refusing unless every file passes), hashes again (nothing changed meanwhile) and records who,
when and why in the site folder (``approvals/``, 0600): the record names a site user and stays at
the site. Approval also registers the folder's pseudonymous sessions (``SUBJECT/SESSION/...``) in
the research registry (:mod:`sdu.registry`): before anything leaves, never after.
:func:`require_release` is what the upload calls first: it recomputes the manifest and refuses,
naming the reason, when there is no approval, it was revoked, or any file changed, appeared or
vanished since.
"""
from __future__ import annotations

import hashlib
import json
import os
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


def manifest(folder: str | Path) -> dict[str, tuple[int, str]]:
    """Relative path -> (size, SHA-256) of every regular file below ``folder`` (links refused)."""
    folder = Path(folder)
    out: dict[str, tuple[int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink() or not path.is_file():
                raise ApprovalError(f"{rel}: not a regular file (a link or device): refused", path=folder)
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
            out[rel] = (path.stat().st_size, digest.hexdigest())
    return out


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
    if manifest(folder) != before:
        raise ApprovalError("files changed while being verified: approve again", path=folder)
    trial, site_id = _identity(folder)
    registered = _register(folder, trial, site_id)
    record = {"folder": str(folder.resolve()), "user": user, "comment": comment,
              "trial": trial, "site": site_id, "registered": registered,
              "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "revoked": None,
              "verification": verification,
              "manifest": {rel: {"size": size, "sha256": sha} for rel, (size, sha) in before.items()}}
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


def require_release(folder: str | Path) -> Release:
    """The approved release of ``folder``; :class:`ApprovalError` (naming why) otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ApprovalError("not a folder", path=folder)
    record = _read(_record_path(folder), folder)
    if record.get("revoked"):
        raise ApprovalError("the approval was revoked: approve again", path=folder)
    approved, now = _files(record), manifest(folder)
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
