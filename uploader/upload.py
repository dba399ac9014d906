"""``sdu upload``: an approved session to the site's project on the central XNAT, shared into the
trial's project.

1. :func:`approval.require_release` first, before any connection: no approval, a revoked one or
   any file written since approval (its size, times or inode differ: it is hashed again) refuses
   the upload, and nothing is sent. Every file is then read once to send it and its SHA-256
   checked against the approval before any byte of it leaves (:mod:`.stream`), so a file changed
   between the gate and the send stops the upload too.
2. The DICOM files go as one zip through XNAT's import service (``DICOM-zip``; straight to the
   archive with ``Direct-Archive``, or through the prearchive and the archive service), subject and
   session labels the pseudonymous folder names; the other files of the release as session
   resources (``ATTACHMENTS``, ``SDU_REPORTS``); then subject and session are shared into the trial
   project (``PUT …/projects/{trial}``).
3. A journal (:mod:`.journal`) records each confirmed step, so a re-run after a failure resumes;
   every step is idempotent on the server too (``overwrite=append`` with identical files, file
   uploads with ``overwrite=true``), so a step whose answer was lost is safely repeated.
4. :mod:`.remote_check` compares what the server holds with the release, in the site project and
   through the trial project; any difference fails the upload.
"""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from approval import require_release
from sdu import audit

from . import credentials
from .errors import UploadAuthError, UploadError
from .journal import Journal, manifest_digest
from .plan import Plan, make_plan
from .remote_check import check
from .retry import status_of, with_retries
from .stream import ZipStream, read_verified

logger = logging.getLogger("sdu.upload")


@dataclass
class UploadOptions:
    url: str
    project: str
    share: str | None = None
    prearchive: bool = False
    attach: tuple[str, ...] = ()
    token_file: str | None = None
    verify_tls: bool | str = True  # True, or the path of a CA bundle (never False)
    attempts: int = 6
    backoff: float = 0.5


@dataclass
class UploadResult:
    project: str
    share: str | None
    subject: str
    session: str
    files: int
    bytes: int
    seconds: float
    resumed: bool
    checks: list = field(default_factory=list)
    phases: dict = field(default_factory=dict)  # seconds per step: gate, connect, import, attach, share, check

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "project": self.project, "share": self.share, "subject": self.subject,
                "session": self.session, "files": self.files, "bytes": self.bytes,
                "seconds": round(self.seconds, 3), "resumed": self.resumed,
                "phases": {k: round(v, 3) for k, v in self.phases.items()},
                "checks": [c.to_dict() for c in self.checks]}


def upload(folder: str | Path, options: UploadOptions) -> UploadResult:
    """Upload the approved ``folder``; raises :class:`UploadError` when it cannot complete or the
    remote check fails (:class:`approval` errors before anything is sent)."""
    started = time.perf_counter()
    if options.verify_tls is False:
        raise UploadError("TLS verification cannot be turned off; give the server's CA with a CA bundle")
    release = require_release(folder, rehash=False)  # before any connection; the stream re-checks each file
    folder = Path(folder)
    plan = make_plan(folder, release.files, list(options.attach), release.sums)
    phases = {"gate": time.perf_counter() - started}
    creds = credentials.resolve(options.url, options.token_file)
    target = f"{options.url.rstrip('/')}|{options.project}|{options.share or ''}|{int(options.prearchive)}"
    journal = Journal(manifest_digest(release.files), target)
    resumed = bool(journal.state["steps"] or journal.state["files"])
    retry = lambda step, fn: with_retries(step, fn, options.attempts, options.backoff)  # noqa: E731
    try:
        with _ca_bundle(options.verify_tls):
            return _send(folder, release, plan, creds, journal, resumed, options, retry, started, phases)
    except UploadError as exc:  # a failed attempt is recorded too (reason texts carry no identifiers)
        if not isinstance(exc, _Checked):
            audit.record("upload", ok=False, reason=exc.reason, files=plan.count, project=options.project,
                         share=options.share, subject=plan.subject, session=plan.session,
                         manifest=manifest_digest(release.files))
        raise


class _Checked(UploadError):
    """The remote check failed (already in the audit log with the counts)."""


@contextlib.contextmanager
def _ca_bundle(verify):
    """A CA bundle path for this upload: xnatpy 0.8.1 passes only ``verify=False`` on to its
    requests session, so a bundle is given the way requests reads it, ``$REQUESTS_CA_BUNDLE``
    (restored afterwards). TLS verification itself is never turned off."""
    if verify is True:
        yield
        return
    saved = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(verify)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = saved


def _send(folder, release, plan, creds, journal, resumed, options, retry, started, phases) -> UploadResult:
    # The remote check compares XNAT's MD5s with those recorded at approval (the stream proved by
    # SHA-256 that the bytes sent are the approved ones). For a record from before MD5s were kept,
    # they are taken on another thread once the zip has been handed to the sender (while the
    # server reads it), off the upload's critical path (hashlib releases the GIL).
    hashing = ThreadPoolExecutor(1, thread_name_prefix="sdu-md5")
    md5s, lock = [], threading.Lock()

    def start_md5() -> None:
        with lock:
            if not md5s:
                md5s.append(hashing.submit(plan.ensure_md5, folder))
                hashing.shutdown(wait=False)

    def lap(name: str) -> None:
        phases[name] = time.perf_counter() - started - sum(phases.values())

    session = retry("connect", lambda: _connect(options, creds))
    try:
        exp_uri = f"/data/projects/{options.project}/subjects/{plan.subject}/experiments/{plan.session}"
        retry("project", lambda: session.get_json(f"/data/projects/{options.project}"))
        if options.share:
            retry("trial project", lambda: session.get_json(f"/data/projects/{options.share}"))
        lap("connect")
        if not journal.done("imported"):
            _import(session, folder, plan, options, journal, retry, start_md5)
        start_md5()
        lap("import")
        for label, items in plan.resources.items():
            for item in items:
                key = f"{label}/{item.rel}"
                if journal.file_done(key):
                    continue
                name = item.rel.rsplit("/", 1)[-1]
                retry(f"attach ({label})", lambda: _put_file(session, f"{exp_uri}/resources/{label}/files/{name}",
                                                             folder, item, label))
                journal.mark_file(key)
        lap("attach")
        if options.share and not journal.done("shared"):
            for kind, uri, label in (("subject", f"/data/projects/{options.project}/subjects/{plan.subject}",
                                      plan.subject),
                                     ("session", exp_uri, plan.session)):
                retry(f"share {kind}", lambda: _share(session, uri, options.share, label))
            journal.mark("shared")
        lap("share")
        try:
            md5s[0].result()
        except OSError as exc:
            raise UploadError(f"could not read a file of the release ({type(exc).__name__})", path=folder) from None
        checks = [retry("remote check", lambda: check(session, exp_uri, plan, options.project))]
        if options.share:
            shared_uri = f"/data/projects/{options.share}/subjects/{plan.subject}/experiments/{plan.session}"
            checks.append(retry("remote check (trial)", lambda: check(session, shared_uri, plan, options.share)))
        lap("check")
    finally:
        try:
            session.disconnect()
        except Exception:  # noqa: BLE001 - the connection is gone: close locally, nothing left to end
            from xnat.session import BaseXNATSession
            BaseXNATSession.disconnect(session)
    result = UploadResult(options.project, options.share, plan.subject, plan.session, plan.count, plan.bytes,
                          time.perf_counter() - started, resumed, checks, phases)
    audit.record("upload", ok=result.ok, files=plan.count, dicom=len(plan.dicom),
                 resources={k: len(v) for k, v in plan.resources.items()}, project=options.project,
                 share=options.share, subject=plan.subject, session=plan.session, resumed=resumed,
                 manifest=manifest_digest(release.files))
    if not result.ok:
        problems = "; ".join(p for c in checks for p in c.problems)
        raise _Checked(f"the remote copy does not match the release: {problems}", path=folder)
    journal.mark("verified", True)
    return result


def _connect(options: UploadOptions, creds):
    import xnat
    from xnat import exceptions

    try:
        return xnat.connect(options.url, user=creds.user, password=creds.password, verify=options.verify_tls,
                            loglevel="ERROR", no_parse_model=True, default_timeout=120)
    except exceptions.XNATLoginFailedError:
        # xnatpy reports any non-200 login answer so; a 5xx is transient, only 401/403 is a refusal.
        import requests
        probe = requests.get(options.url.rstrip("/") + "/data/auth", auth=(creds.user, creds.password),
                             verify=options.verify_tls, timeout=60)
        if probe.status_code in (401, 403):
            raise UploadAuthError(f"the server refused the credentials from {creds.source}") from None
        raise ConnectionError(f"login did not succeed (HTTP {probe.status_code} now): transient") from None
    except exceptions.XNATAuthError:
        raise UploadAuthError(f"login with the credentials from {creds.source} did not succeed") from None


def _put_file(session, uri: str, folder: Path, item, label: str) -> None:
    """One session resource file, read and checked against the approval before it is sent."""
    data = read_verified(folder, item)
    if isinstance(data, bytes):
        session.upload_string(uri, data, overwrite=True, query={"content": label}, retries=1)
        return
    with data:
        session.upload_stream(uri, data, overwrite=True, query={"content": label}, retries=1, upload_size=item.size)


def _post_zip(session, options: UploadOptions, folder: Path, plan: Plan, query: dict, then) -> str:
    """POST the zipped DICOM to the import service over xnatpy's authenticated HTTP session (the
    zip is produced, each file checked first, while it is sent; its length is known in advance);
    the answer is the session's URI."""
    response = session.interface.post(options.url.rstrip("/") + "/data/services/import", params=query,
                                      data=ZipStream(folder, plan.dicom, then),
                                      headers={"Content-Type": "application/zip"}, timeout=(30, 3600))
    response.raise_for_status()
    return response.text.strip()


def _import(session, folder: Path, plan: Plan, options: UploadOptions, journal: Journal, retry, then) -> None:
    query = {"import-handler": "DICOM-zip", "overwrite": "append", "project": options.project,
             "subject": plan.subject, "session": plan.session}
    if not options.prearchive:
        query["dest"] = f"/archive/projects/{options.project}/subjects/{plan.subject}/experiments/{plan.session}"
        query["Direct-Archive"] = "true"
        retry("import", lambda: _post_zip(session, options, folder, plan, dict(query), then))
    else:
        src = journal.value("prearchived")
        if src is None:
            _drop_stale_prearchive(session, options.project, plan, retry)
            query["dest"] = f"/prearchive/projects/{options.project}"
            src = retry("import (prearchive)", lambda: _post_zip(session, options, folder, plan, dict(query), then))
            src = src.removeprefix("/data")
            journal.mark("prearchived", src)
        exp_uri = f"/data/projects/{options.project}/subjects/{plan.subject}/experiments/{plan.session}"
        retry("archive", lambda: _archive(session, src, exp_uri))
    journal.mark("imported")


def _archive(session, src: str, exp_uri: str) -> None:
    """Archive the prearchive session; an entry already gone (archived by an attempt whose answer
    was lost) is fine when the session is in the archive."""
    from xnat.exceptions import XNATResponseError

    try:
        session.post("/data/services/archive", query={"src": src, "overwrite": "append"})
    except XNATResponseError as exc:
        if status_of(exc) != 404:
            raise
        session.get_json(exp_uri)


def _drop_stale_prearchive(session, project: str, plan: Plan, retry) -> None:
    """Remove this session's prearchive entries an interrupted earlier run may have left."""
    rows = retry("prearchive listing", lambda: session.get_json(f"/data/prearchive/projects/{project}"))
    for row in rows["ResultSet"]["Result"]:
        if row.get("subject") == plan.subject and row.get("name") == plan.session:
            retry("prearchive cleanup", lambda: session.delete(f"/data{row['url']}"))


def _share(session, uri: str, dest: str, label: str) -> None:
    from xnat.exceptions import XNATResponseError

    try:
        session.put(f"{uri}/projects/{dest}", query={"label": label, "primary": "false"})
    except XNATResponseError as exc:
        if status_of(exc) != 409:
            raise
        # Already shared (an earlier run whose answer was lost): fine if visible there under the label.
        session.get_json(f"/data/projects/{dest}/{uri.split('/')[-2]}/{label}")
