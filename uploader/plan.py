"""What an approved release becomes on XNAT: one zipped DICOM session, session resources.

DEST's layout is ``<subject>/<session>/<series>/<file>.dcm`` plus the two ``sdu-report`` JSONs:
the subject and session labels are the pseudonymous folder names. Non-DICOM files beside the
DICOM (PDF, CSV, forms) go to the ``ATTACHMENTS`` resource, the reports to ``SDU_REPORTS``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import UploadError

REPORTS = "SDU_REPORTS"
ATTACHMENTS = "ATTACHMENTS"


@dataclass
class Item:
    rel: str
    size: int
    sha256: str
    md5: str = ""
    crc32: int | None = None


@dataclass
class Plan:
    subject: str
    session: str
    dicom: list[Item] = field(default_factory=list)
    resources: dict[str, list[Item]] = field(default_factory=dict)

    def ensure_md5(self, folder: Path) -> None:
        """MD5 (what XNAT's catalog records) of every file not hashed yet, for the remote check."""
        for item in self.dicom + [i for v in self.resources.values() for i in v]:
            if not item.md5:
                item.md5 = _md5(Path(folder) / item.rel)

    @property
    def count(self) -> int:
        return len(self.dicom) + sum(len(v) for v in self.resources.values())

    @property
    def bytes(self) -> int:
        return sum(i.size for i in self.dicom) + sum(i.size for v in self.resources.values() for i in v)


def _is_dicom(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(132)
    return len(head) == 132 and head[128:] == b"DICM"


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _release_path(folder: Path, p: Path) -> str | None:
    full = (p if p.is_absolute() else Path.cwd() / p).resolve()
    if full.is_relative_to(folder):
        return full.relative_to(folder).as_posix()
    if not p.is_absolute() and (folder / p).is_file():
        return p.as_posix()
    return None


def make_plan(folder: Path, files: dict[str, tuple[int, str]], attach: list[str] = (),
              sums: dict[str, dict] | None = None) -> Plan:
    """Sort the release's files; ``attach`` names files of the release (relative or absolute) to
    send as attachments even if they sit elsewhere in the folder; ``sums`` the MD5 and CRC-32
    recorded at approval. Exactly one subject and session."""
    folder = Path(folder).resolve()
    wanted = set()
    for a in attach:
        rel = _release_path(folder, Path(a))
        if rel is None or rel not in files:
            raise UploadError(f"--attach {Path(a).name}: not a file of the approved folder (only approved files leave)")
        wanted.add(rel)
    labels, dicom, resources = set(), [], {}
    for rel, (size, sha) in sorted(files.items()):
        path = folder / rel
        known = (sums or {}).get(rel, {})
        item = Item(rel, size, sha, known.get("md5", ""), known.get("crc32"))
        parts = rel.split("/")
        if rel.startswith("sdu-report.") and len(parts) == 1:
            resources.setdefault(REPORTS, []).append(item)
        elif rel not in wanted and len(parts) >= 3 and _is_dicom(path):
            labels.add((parts[0], parts[1]))
            dicom.append(item)
        else:
            resources.setdefault(ATTACHMENTS, []).append(item)
    if len(labels) != 1:
        raise UploadError(f"the folder holds {len(labels)} subject/session folders with DICOM; one session per upload",
                          path=folder)
    (subject, session), = labels
    names = [i.rel.rsplit("/", 1)[-1] for v in resources.values() for i in v]
    if len(names) != len(set(names)):
        raise UploadError("two attachments share a file name: rename one", path=folder)
    return Plan(subject, session, dicom, resources)
