"""What a batch did: per file, per subject, in total. Serialises to JSON without identifiers."""
from __future__ import annotations

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
    # For the linkage store only: never serialised.
    link: dict | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        d = {"source": self.source, "status": self.status, "output": self.output, "reason": self.reason,
             "actions": dict(self.actions), "script_changes": self.script_changes}
        return {k: v for k, v in d.items() if v not in (None, {}, 0) or k == "status"}


@dataclass
class AnonymiseReport:
    source: str
    destination: str
    trial_id: str
    site_id: str
    profile: list[str]
    files: list[FileOutcome] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    seconds: float = 0.0
    verification: dict | None = None

    @property
    def written(self) -> int:
        return sum(f.status in ("written", "written-version", "identical") for f in self.files)

    @property
    def failed(self) -> int:
        return sum(f.status == "failed" for f in self.files) + len(self.unreadable)

    @property
    def verified(self) -> bool:
        return bool(self.verification and self.verification.get("ok"))

    @property
    def ok(self) -> bool:
        return self.failed == 0 and (self.verification is None or self.verified)

    def action_totals(self) -> dict[str, int]:
        """Each action code summed over the files (``IOD``: elements removed as not in the IOD)."""
        totals: dict[str, int] = {}
        for f in self.files:
            for code, n in f.actions.items():
                totals[code] = totals.get(code, 0) + n
        return dict(sorted(totals.items()))

    def to_dict(self) -> dict:
        return {
            "step": "anonymise", "ok": self.ok, "source": self.source, "destination": self.destination,
            "trial_id": self.trial_id, "site_id": self.site_id, "profile": self.profile,
            "counts": {"in": len(self.files) + len(self.unreadable), "out": self.written, "failed": self.failed},
            "subjects": self.subjects, "sessions": self.sessions, "seconds": round(self.seconds, 3),
            "files_per_second": round(len(self.files) / self.seconds, 1) if self.seconds else None,
            "verification": self.verification,
            "actions": self.action_totals(),
            "unreadable": self.unreadable,
            "files": [f.to_dict() for f in self.files],
        }
