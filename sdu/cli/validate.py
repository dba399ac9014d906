"""`sdu validate`: check a session folder against a trial protocol (TG-263 names, structures, links).

Exit status: 0 when no check fails (warnings allowed), 1 when at least one fails (a failed
validation is a result, not an error class); protocol and usage errors keep their own codes.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ._common import echo_json, sdu_errors


def load_protocol(trial_id: str | None, protocol_file: str | None):
    """The protocol named by ``--trial`` or ``--protocol`` (exactly one)."""
    from validator import TrialProtocol, find_protocol

    if bool(trial_id) == bool(protocol_file):
        raise click.UsageError("give exactly one of --trial ID or --protocol FILE")
    return find_protocol(trial_id) if trial_id else TrialProtocol.from_file(protocol_file)


@click.command("validate")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--trial", "trial_id", metavar="ID", help="Trial ID (site protocols override bundled ones).")
@click.option("--protocol", "protocol_file", type=click.Path(exists=True, dir_okay=False), help="Protocol JSON file.")
@click.option("--arm", help="Trial arm (structures and prescription may depend on it).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON instead of tables.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the JSON report to this file.")
def command(folder, trial_id, protocol_file, arm, as_json, report_file):
    """Validate the RT session in FOLDER against a trial protocol; exit 1 if any check fails."""
    from validator import render, validate_session

    with sdu_errors():
        protocol = load_protocol(trial_id, protocol_file)
        report = validate_session(folder, protocol, arm)
    if report_file:
        report_file.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if as_json:
        echo_json(report.to_dict())
    else:
        from rich.console import Console

        Console().print(render(report))
    sys.exit(0 if report.ok else 1)
