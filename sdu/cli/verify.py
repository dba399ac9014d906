"""`sdu verify DIR`: check anonymised output independently (see :mod:`verifier`)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click


from ..errors import VerificationError
from ..limits import DEFAULT_LIMITS
from ._common import ByteSize, echo_json, sdu_errors


@click.command("verify")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--against", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the identifiable originals: their identifiers and UIDs must not appear.")
@click.option("--linkage-db", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Linkage store whose recorded identifiers and original UIDs must not appear.")
@click.option("--trial", help="Trial ID: only this trial's linkage records.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--max-inflated-size", type=ByteSize(), default=f"{DEFAULT_LIMITS.max_inflated >> 20}MiB", show_default=True,
              help="Size a deflated file is inflated to at most; a larger one fails as not fully checked.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the JSON report to this file.")
def command(folder, against, linkage_db, trial, workers, max_inflated_size, as_json, report_file):
    """Verify every file in FOLDER; exit 0 only when every file passes (5 when any fails)."""
    from rich.console import Console
    from rich.progress import Progress
    from verifier import VerifyOptions, report_table, verify_folder
    options = VerifyOptions(against, linkage_db, trial, workers, max_inflated=max_inflated_size)
    with sdu_errors():
        if sys.stderr.isatty() and not as_json:
            with Progress(transient=True, console=Console(stderr=True)) as bar:
                task = bar.add_task("verifying", total=None)
                report = verify_folder(folder, options, lambda done, total: bar.update(task, completed=done, total=total))
        else:
            report = verify_folder(folder, options)
    data = report.to_dict()
    from .. import audit
    audit.record("verify", ok=report.ok, files=data.get("files_total"), failed=data.get("files_failed"),
                 findings=data.get("findings_total"), warnings=data.get("warnings_total"))
    if report_file:
        report_file.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if as_json:
        echo_json(data)
    else:
        Console(soft_wrap=False).print(report_table(report))
    sys.exit(0 if report.ok else VerificationError.exit_code)
