"""Send an anonymised session (``sdu anonymise`` DEST) into a project of the site's anonymised XNAT.

The DICOM go as one zip through XNAT's import service (``import-handler=DICOM-zip``, straight to
the archive under the DEST's pseudonymous subject and session labels, ``overwrite=append``), the
two ``sdu-report`` JSONs as the session resource ``SDU_REPORTS``: what the approve and upload
containers later read from that session. Nothing here needs an approval: the anonymised XNAT is
the site's own, the gate stands before the central one.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import SDUError
from .archive import REPORTS


class XnatImportError(SDUError):
    """The anonymised XNAT refused or failed the import."""

    exit_code = 10


@dataclass(frozen=True)
class Imported:
    project: str
    subject: str
    session: str
    files: int
    reports: int

    def to_dict(self) -> dict:
        return {"project": self.project, "subject": self.subject, "session": self.session,
                "files": self.files, "reports": self.reports}


class _Sink:
    def __init__(self):
        self.parts: list[bytes] = []

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def _zip_stream(files: list[tuple[Path, str]]):
    """A stored zip of ``files`` produced while it is sent (no copy on disk or in memory)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as z:
        for path, name in files:
            with open(path, "rb") as src, z.open(name, "w", force_zip64=path.stat().st_size > 1 << 31) as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
                    yield sink.take()
    yield sink.take()


def import_session(dest: str | Path, url: str, user: str, password: str, project: str,
                   verify: bool | str = True, timeout: float = 3600) -> Imported:
    import requests

    from approval import manifest
    from uploader.plan import make_plan

    dest = Path(dest)
    plan = make_plan(dest, manifest(dest))  # one subject and session, DICOM and reports sorted
    base = url.rstrip("/")
    exp = f"/data/projects/{project}/subjects/{plan.subject}/experiments/{plan.session}"
    query = {"import-handler": "DICOM-zip", "project": project, "subject": plan.subject, "session": plan.session,
             "overwrite": "append", "Direct-Archive": "true",
             "dest": f"/archive/projects/{project}/subjects/{plan.subject}/experiments/{plan.session}"}
    files = [(dest / i.rel, "/".join(i.rel.split("/")[2:])) for i in plan.dicom]
    with requests.Session() as http:
        http.auth, http.verify = (user, password), verify
        try:
            answer = http.post(base + "/data/services/import", params=query,
                               data=(c for c in _zip_stream(files) if c),
                               headers={"Content-Type": "application/zip"}, timeout=(30, timeout))
            _check(answer, "import")
            reports = plan.resources.get(REPORTS, [])
            for item in reports:
                with open(dest / item.rel, "rb") as f:
                    answer = http.put(f"{base}{exp}/resources/{REPORTS}/files/{item.rel}",
                                      params={"overwrite": "true", "format": "JSON", "content": "SDU_REPORT"},
                                      data=f, timeout=(30, 600))
                _check(answer, "report upload")
        except requests.RequestException as exc:
            raise XnatImportError(f"the anonymised XNAT did not answer ({type(exc).__name__})") from None
    return Imported(project, plan.subject, plan.session, len(plan.dicom), len(reports))


def _check(answer, step: str) -> None:
    if answer.status_code in (401, 403):
        raise XnatImportError(f"{step}: the anonymised XNAT refused the credentials (HTTP {answer.status_code})")
    if answer.status_code >= 300:
        raise XnatImportError(f"{step}: the anonymised XNAT answered HTTP {answer.status_code}")
