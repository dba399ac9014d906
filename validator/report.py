"""The validation report: one entry per check (pass/warn/fail with a reason) plus the ROI names.

It names files relative to the session folder, ROI names and UIDs' roles, never patient names,
IDs or dates. ``to_dict()`` is what ``--json``/``--report`` write and the XNAT plugin shows.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .names import NameVerdict

PASS, WARN, FAIL = "pass", "warn", "fail"


@dataclass(frozen=True)
class Check:
    id: str
    status: str  # pass | warn | fail
    reason: str

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "reason": self.reason}


@dataclass
class ValidationReport:
    protocol_id: str
    protocol_version: str
    arm: str | None
    checks: list[Check] = field(default_factory=list)
    names: list[NameVerdict] = field(default_factory=list)
    files: int = 0
    skipped: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(c.status == FAIL for c in self.checks)

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(c.status == s for c in self.checks) for s in (PASS, WARN, FAIL)}

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)

    def unknown_names(self) -> list[NameVerdict]:
        return [n for n in self.names if n.status == "unknown"]

    def to_dict(self) -> dict:
        return {
            "protocol": {"id": self.protocol_id, "version": self.protocol_version, "arm": self.arm},
            "result": "pass" if self.ok else "fail",
            "counts": self.counts,
            "files": self.files,
            "skipped": self.skipped,
            "checks": [c.to_dict() for c in self.checks],
            "roi_names": [n.to_dict() for n in self.names],
        }


STYLE = {PASS: "green", WARN: "yellow", FAIL: "bold red"}


def render(report: ValidationReport):
    """A rich renderable (two tables) for the terminal."""
    from rich.console import Group
    from rich.markup import escape
    from rich.table import Table

    checks = Table(title=f"Validation against {report.protocol_id} v{report.protocol_version}"
                         + (f", arm {report.arm}" if report.arm else ""))
    checks.add_column("check")
    checks.add_column("result")
    checks.add_column("reason", overflow="fold")
    for c in report.checks:
        checks.add_row(c.id, f"[{STYLE[c.status]}]{c.status}[/]", c.reason)
    names = Table(title="ROI names")
    names.add_column("ROI name")
    names.add_column("status")
    names.add_column("trial structure")
    names.add_column("suggestions (score)", overflow="fold")
    names.add_column("why (first suggestion)", overflow="fold")
    for n in report.names:
        colour = "red" if n.status == "unknown" else "green" if n.status in ("standard", "synonym") else "dim"
        hint = ", ".join(f"{s.name} ({s.score:.0f})" for s in n.suggestions)
        why = escape(n.suggestions[0].explanation) if n.suggestions else ""
        names.add_row(n.roi_name, f"[{colour}]{n.status}[/]", n.structure or "", hint, why)
    counts = report.counts
    summary = (f"{'PASS' if report.ok else 'FAIL'}: {counts[PASS]} passed, {counts[WARN]} warnings, "
               f"{counts[FAIL]} failed; {report.files} DICOM files, {len(report.skipped)} skipped")
    return Group(checks, names, f"[{'green' if report.ok else 'bold red'}]{summary}[/]")
