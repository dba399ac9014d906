"""XNAT's archive layout of one session, as the Container Service mounts it.

``SCANS/<scan id>/<resource label>/`` holds the scan's files beside the resource's catalog
(``scan_<id>_catalog.xml``: ``cat:DCMCatalog`` with one ``cat:entry URI=…`` per file, as
XNAT 1.8 writes it); ``RESOURCES/<label>/`` holds session resources with their catalog
(``<label>_catalog.xml``). A resource's files are its catalog's entries; without a catalog, every
file but the catalog. Errors name scans, resources and counts, never file names (XNAT names DICOM
files by their UIDs).
"""
from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError, SDUError

CATALOG_NS = "http://nrg.wustl.edu/catalog"
ANONYMISE_REPORT = "sdu-report.anonymise.json"
VERIFY_REPORT = "sdu-report.verify.json"
REPORTS = "SDU_REPORTS"
#: The session resource ``sdu-relabel`` writes: the session with its ROIs renamed.
RELABELLED = "SDU_RELABELLED"


class ArchiveError(SDUError):
    """A session folder that is not laid out as XNAT archives sessions."""

    exit_code = 3


@dataclass(frozen=True)
class ResourceFolder:
    owner: str  # "scan 3" or "session"
    label: str
    folder: Path

    def files(self) -> list[Path]:
        """The resource's files: its catalog's entries, in catalog order (else every non-catalog file)."""
        catalogs = sorted(self.folder.glob("*catalog.xml"))
        if not catalogs:
            return sorted(p for p in self.folder.rglob("*") if p.is_file())
        out: list[Path] = []
        for catalog in catalogs:
            try:
                root = ET.parse(catalog).getroot()
            except (ET.ParseError, OSError) as exc:
                raise ArchiveError(f"{self.owner} resource {self.label}: catalog unreadable ({type(exc).__name__})") from None
            entries = [e.get("URI") for e in root.iter(f"{{{CATALOG_NS}}}entry")]
            missing = 0
            for uri in entries:
                path = (self.folder / uri) if uri else None
                if path is None or not path.resolve().is_relative_to(self.folder.resolve()):
                    raise ArchiveError(f"{self.owner} resource {self.label}: a catalog entry points outside the resource")
                if not path.is_file():
                    missing += 1
                    continue
                out.append(path)
            if missing:
                raise ArchiveError(f"{self.owner} resource {self.label}: {missing} catalog entr(y/ies) without a file")
        return out


@dataclass(frozen=True)
class SessionFolder:
    """The archive folder of one image session."""

    root: Path

    @classmethod
    def open(cls, root: str | Path) -> "SessionFolder":
        root = Path(root)
        if not (root / "SCANS").is_dir():
            raise ArchiveError("no SCANS folder: not an XNAT session archive folder", path=root)
        return cls(root)

    @property
    def scans_folder(self) -> Path:
        return self.root / "SCANS"

    def scans(self) -> list[str]:
        return sorted((p.name for p in self.scans_folder.iterdir() if p.is_dir()), key=_scan_order)

    def scan_resource(self, scan: str, label: str = "DICOM") -> ResourceFolder | None:
        folder = self.scans_folder / scan / label
        return ResourceFolder(f"scan {scan}", label, folder) if folder.is_dir() else None

    def dicom_files(self) -> dict[str, list[Path]]:
        """Scan ID -> the files of its DICOM resource (scans without one are left out)."""
        out = {}
        for scan in self.scans():
            res = self.scan_resource(scan)
            if res is not None:
                out[scan] = res.files()
        return out

    def catalogs(self) -> list[Path]:
        """Every catalog file below SCANS (they sit beside the DICOM a step reads)."""
        return sorted(self.scans_folder.glob("*/*/*catalog.xml"))

    def source(self) -> Path:
        """What validate, relabel and anonymise read: the relabelled session (``SDU_RELABELLED``, a
        copy of ``SCANS`` with ROIs renamed) when ``sdu-relabel`` left one, else ``SCANS``."""
        relabelled = self.resource(RELABELLED)
        return relabelled.folder if relabelled is not None else self.scans_folder

    def resource(self, label: str) -> ResourceFolder | None:
        folder = self.root / "RESOURCES" / label
        return ResourceFolder("session", label, folder) if folder.is_dir() else None


def _scan_order(scan_id: str):
    return (0, int(scan_id), "") if scan_id.isdigit() else (1, 0, scan_id)


def build_release(session: SessionFolder, dest: str | Path, verify_report: Path | None = None) -> Path:
    """Lay an anonymised session out as ``sdu anonymise`` wrote it, for ``sdu verify``/``approve``/``upload``.

    ``dest/<subject>/<session>/<scan id>/<file>`` from the scans' DICOM resources, the subject and
    session labels from the session's ``SDU_REPORTS/sdu-report.anonymise.json`` (one of each), that
    report at the top, and ``verify_report`` (the verification the approval was bound to) as
    ``sdu-report.verify.json``. The approve and upload containers build the same folder from the
    same archive, so the approval's manifest matches exactly when no file changed in XNAT between.
    """
    dest = Path(dest)
    reports = session.resource(REPORTS)
    files = {p.name: p for p in reports.files()} if reports else {}
    if ANONYMISE_REPORT not in files:
        raise ConfigError(f"no {REPORTS}/{ANONYMISE_REPORT} on this session: not a session SDU anonymised")
    try:
        report = json.loads(files[ANONYMISE_REPORT].read_text(encoding="utf-8"))
        (subject,), (label,) = report["subjects"], report["sessions"]
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(f"{REPORTS}/{ANONYMISE_REPORT} does not name exactly one subject and one session") from None
    for part in (subject, label):
        if not isinstance(part, str) or not part or "/" in part or part in (".", ".."):
            raise ConfigError(f"{REPORTS}/{ANONYMISE_REPORT} names an unusable subject or session label")
    if dest.exists() and any(dest.iterdir()):
        raise ConfigError("release folder is not empty", path=dest)
    top = dest / subject / label
    for scan, paths in session.dicom_files().items():
        (top / scan).mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copyfile(path, top / scan / path.name)
    shutil.copyfile(files[ANONYMISE_REPORT], dest / ANONYMISE_REPORT)
    if verify_report is not None:
        shutil.copyfile(verify_report, dest / VERIFY_REPORT)
    return dest
