"""A readable rich rendering of a :class:`VerifyReport` (returned, never printed here)."""
from __future__ import annotations

from .model import VerifyReport


def report_table(report: VerifyReport):
    """Every finding of every failed file with its tag path, then the totals and notes (a rich
    renderable; rich is imported here, not when the verifier runs without printing)."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"sdu verify: {report.folder}", show_lines=False)
    for col in ("file", "check", "where", "finding"):
        table.add_column(col, overflow="fold")
    for f in report.files:
        for n, finding in enumerate([*f.findings, *f.warnings]):
            where = finding.keyword_path or finding.tag_path
            if finding.keyword_path and finding.tag_path:
                where = f"{finding.keyword_path}\n{finding.tag_path}"
            warn = n >= len(f.findings)
            table.add_row(f.path if n == 0 else "", finding.check + (" (warning)" if warn else ""), where,
                          Text(finding.message, style="yellow") if warn else finding.message)
    if report.files_passed:
        table.add_row(Text(f"{report.files_passed} file(s)", style="green"), "all", "", Text("passed", style="green"))
    verdict = Text("PASS" if report.ok else "FAIL", style="bold green" if report.ok else "bold red")
    summary = Text.assemble(verdict, f": {len(report.files)} file(s), {report.files_passed} passed, "
                                     f"{report.files_failed} failed, {report.findings_total} finding(s), "
                                     f"{report.warnings_total} warning(s); "
                                     f"checks: {', '.join(report.checks)}")
    notes = [Text(f"note: {n}", style="yellow") for n in report.notes]
    return Group(table, summary, *notes)
