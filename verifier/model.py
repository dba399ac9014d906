"""Options and report objects of the verifier (library values: no printing, JSON via ``to_dict``)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from sdu.limits import DEFAULT_LIMITS

#: Default cap on the inflated size of a deflated output file (bytes): the anonymiser's own cap.
DEFAULT_MAX_INFLATED = DEFAULT_LIMITS.max_inflated


@dataclass(frozen=True)
class VerifyOptions:
    """Where the originals come from (``against`` folder and/or linkage store) and how many workers."""

    against: Path | None = None
    linkage_db: Path | None = None
    trial: str | None = None
    workers: int = 2
    #: What :func:`verifier.collect.collect_folder` found under ``against``, when the caller has
    #: already run it (``sdu anonymise`` does, while its workers anonymise).
    against_collected: object | None = None
    #: A deflated output file is inflated up to this many bytes; past it the file fails as "could
    #: not be fully checked" (memory stays bounded whatever the file claims).
    max_inflated: int = DEFAULT_MAX_INFLATED


@dataclass(frozen=True)
class Finding:
    """One problem in one file. ``message`` names the kind of identifier, never its value."""

    check: str          # profile, private, identifiers, uids, record, references, raw bytes, readable
    tag_path: str       # e.g. "(300A,00B0)[0]/(0008,0080)"; "" when not inside an element
    message: str
    keyword_path: str = ""  # e.g. "BeamSequence[0].InstitutionName"
    offset: int | None = None  # byte offset, for raw-bytes findings

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FileResult:
    """Verdict on one file of the folder (path relative to the folder)."""

    path: str
    kind: str = "dicom"   # "dicom" or "other" (only the raw-bytes check applies)
    modality: str = ""
    findings: list[Finding] = field(default_factory=list)
    #: Worth a look, not a failure (e.g. a reference that already dangled in the source).
    warnings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict:
        d = {"path": self.path, "kind": self.kind, "modality": self.modality, "ok": self.ok,
             "findings": [f.to_dict() for f in self.findings]}
        if self.warnings:
            d["warnings"] = [w.to_dict() for w in self.warnings]
        return d


@dataclass
class VerifyReport:
    folder: str
    files: list[FileResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    sources: dict = field(default_factory=dict)  # counts only: identifiers, original UIDs, source files

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(f.ok for f in self.files)

    @property
    def files_passed(self) -> int:
        return sum(1 for f in self.files if f.ok)

    @property
    def files_failed(self) -> int:
        return len(self.files) - self.files_passed

    @property
    def findings_total(self) -> int:
        return sum(len(f.findings) for f in self.files)

    @property
    def warnings_total(self) -> int:
        return sum(len(f.warnings) for f in self.files)

    def to_dict(self) -> dict:
        return {
            "folder": self.folder, "ok": self.ok, "files_total": len(self.files),
            "files_passed": self.files_passed, "files_failed": self.files_failed,
            "findings_total": self.findings_total, "warnings_total": self.warnings_total, "checks": list(self.checks), "notes": list(self.notes),
            "sources": dict(self.sources), "files": [f.to_dict() for f in self.files],
        }
