"""`sdu protocols`: list the trial protocols (site and bundled), show one, check a file."""
from __future__ import annotations

import json

import click

from ._common import echo_json, sdu_errors


@click.group("protocols")
def command():
    """Trial protocols: bundled ones and the site's (<site folder>/protocols/, which override)."""


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def list_(as_json):
    """List every protocol file with its trial ID, version and source."""
    from validator import list_protocols

    entries = list_protocols()
    if as_json:
        echo_json([e.to_dict() for e in entries])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Trial protocols")
    for column in ("id", "version", "source", "title / problem"):
        table.add_column(column, overflow="fold")
    for e in entries:
        note = f"[red]invalid: {e.error}[/]" if e.error else e.title + (" [dim](overridden by site)[/]" if e.overridden else "")
        table.add_row(e.id or "?", e.version, e.source, note)
    Console().print(table)


@command.command("show")
@click.argument("trial_id")
def show(trial_id):
    """Print the protocol for TRIAL_ID as JSON (the one validation would use)."""
    from validator import find_protocol

    with sdu_errors():
        protocol = find_protocol(trial_id)
    click.echo(f"# {protocol.source}", err=True)
    click.echo(json.dumps(protocol.raw, indent=2))


@command.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def check(file):
    """Check a protocol file against the schema and semantic rules (exit 7 with the JSON pointer if bad)."""
    from validator import TrialProtocol

    with sdu_errors():
        protocol = TrialProtocol.from_file(file)
    click.echo(f"ok: {protocol.id} v{protocol.version}: {len(protocol.structures)} structures, "
               f"{len(protocol.arms)} arms, {len(protocol.objects)} object rules")
