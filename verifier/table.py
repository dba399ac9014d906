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
        first = True
        for finding in f.findings:
            where = finding.keyword_path or finding.tag_path
            if finding.keyword_path and finding.tag_path:
                where = f"{finding.keyword_path}\n{finding.tag_path}"
            table.add_row(f.path if first else "", finding.check, where, finding.message)
            first = False
        groups: dict[tuple[str, str], list] = {}
        for warning in f.warnings:  # e.g. every contour on a slice never exported: one row
            groups.setdefault((warning.check, warning.message), []).append(warning)
        for (check, message), same in groups.items():
            where = same[0].keyword_path or same[0].tag_path
            if len(same) > 1:
                where = f"{len(same)} places, e.g. {where}"
            table.add_row(f.path if first else "", f"{check} (warning)", where, Text(message, style="yellow"))
            first = False
    if report.files_passed:
        table.add_row(Text(f"{report.files_passed} file(s)", style="green"), "all", "", Text("passed", style="green"))
    verdict = Text("PASS" if report.ok else "FAIL", style="bold green" if report.ok else "bold red")
    summary = Text.assemble(verdict, f": {len(report.files)} file(s), {report.files_passed} passed, "
                                     f"{report.files_failed} failed, {report.findings_total} finding(s), "
                                     f"{report.warnings_total} warning(s); "
                                     f"checks: {', '.join(report.checks)}")
    notes = [Text(f"note: {n}", style="yellow") for n in report.notes]
    return Group(table, summary, *notes)
