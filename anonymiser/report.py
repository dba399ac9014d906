"""What a batch did: per file, per subject, in total.

Two forms. :meth:`AnonymiseReport.to_dict` is the site's full record (source paths, the
source -> output mapping, skipped inputs by path): it stays at the site. :meth:`for_destination`
is what DEST holds and may leave: counts, pseudonymous output names, reasons, and failed or
skipped inputs by number only, never a source path, folder name or original value.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class FileOutcome:
    source: str                 # path relative to SRC
    status: str                 # "written", "written-version" (same UID, other content: kept beside),
                                # "identical" (already there, same bytes) or "failed"
    output: str | None = None   # path relative to DEST
    reason: str | None = None
    actions: dict[str, int] = field(default_factory=dict)
    script_changes: int = 0
    #: How the input was read when it was unusual (e.g. no preamble or file meta): value-free.
    notes: list[str] = field(default_factory=list)
    #: The destination could not be written (full, read-only): the batch stops.
    dest_error: bool = False
    # For the linkage store only: never serialised.
    link: dict | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        d = {"source": self.source, "status": self.status, "output": self.output, "reason": self.reason,
             "actions": dict(self.actions), "script_changes": self.script_changes, "notes": list(self.notes)}
        return {k: v for k, v in d.items() if v not in (None, {}, [], 0) or k == "status"}


WRITTEN = ("written", "written-version", "identical")


@dataclass
class AnonymiseReport:
    source: str
    destination: str
    trial_id: str
    site_id: str
    profile: list[str]
    files: list[FileOutcome] = field(default_factory=list)
    #: Inputs met but not processed, each {"path", "reason"} (not DICOM, DICOMDIR, links, folders).
    skipped: list[dict] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    seconds: float = 0.0
    verification: dict | None = None
    #: Identifies the run in both reports (the site's full one and DEST's).
    run: str = ""
    #: Where the site's full report was written (site side only).
    site_report: str | None = None

    @property
    def written(self) -> int:
        return sum(f.status in WRITTEN for f in self.files)

    @property
    def failed(self) -> int:
        return sum(f.status == "failed" for f in self.files)

    @property
    def verified(self) -> bool:
        return bool(self.verification and self.verification.get("ok"))

    @property
    def unreadable(self) -> int:
        """Skipped inputs that could not be read at all (they may hold data meant to be sent)."""
        return sum(s["reason"].startswith("cannot read") for s in self.skipped)

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.unreadable == 0 and (self.verification is None or self.verified)

    def counts(self) -> dict:
        """in = written + failed + skipped, always."""
        return {"in": len(self.files) + len(self.skipped), "out": self.written, "failed": self.failed,
                "skipped": len(self.skipped)}

    def _common(self) -> dict:
        return {"step": "anonymise", "ok": self.ok, "run": self.run, "trial_id": self.trial_id,
                "site_id": self.site_id, "profile": self.profile, "counts": self.counts(),
                "subjects": self.subjects, "sessions": self.sessions, "seconds": round(self.seconds, 3),
                "files_per_second": round(len(self.files) / self.seconds, 1) if self.seconds else None,
                "verification": self.verification, "actions": self.action_totals()}

    def action_totals(self) -> dict[str, int]:
        """Each action code summed over the files (``IOD``: elements removed as not in the IOD)."""
        totals: dict[str, int] = {}
        for f in self.files:
            for code, n in f.actions.items():
                totals[code] = totals.get(code, 0) + n
        return dict(sorted(totals.items()))

    def to_dict(self) -> dict:
        """The site's full report: source paths and the source -> output mapping included."""
        return {**self._common(), "source": self.source, "destination": self.destination,
                "skipped": self.skipped, "files": [f.to_dict() for f in self.files]}

    def for_destination(self) -> dict:
        """The report DEST holds: nothing from the identifiable side (no source path, folder
        name or value). Failed inputs are numbered as in the site's report (``files``, from 1).
        Its ``ok`` is the anonymising pass's; the verification's verdict is in the verify report."""
        files, failed = [], []
        for n, f in enumerate(self.files, 1):
            if f.status == "failed":
                failed.append({"input": n, "reason": f.reason})
            else:
                d = f.to_dict()
                d.pop("source", None)
                files.append(d)
        common = self._common()
        common["ok"] = self.failed == 0 and self.unreadable == 0  # the anonymising pass's verdict
        # written before verification, and never rewritten: DEST stays exactly as verified
        common["verification"] = {"report": "sdu-report.verify.json"}
        return {**common,
                "skipped_by_reason": dict(sorted(Counter(s["reason"] for s in self.skipped).items())),
                "failed": failed, "files": files}
