"""`sdu audit verify`: check the site's hash-chained audit log, keyed with the site key (see
:mod:`sdu.audit`); `sdu audit migrate`: seal a log from before keyed hashes."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import AuditError
from ._common import echo_json


@click.group("audit")
def command() -> None:
    """The site's append-only audit log."""


@command.command("verify")
@click.option("--log", "log", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Audit log to check (default: the site folder's audit.jsonl).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def verify(log, as_json):
    """Check every entry's hash, sequence and link to the one before; exit 11 naming each broken line."""
    from .. import audit
    check = audit.verify(log)
    if as_json:
        echo_json(check.to_dict())
    else:
        for line, problem in check.problems:
            click.echo(f"{check.path}:{line}: {problem}" if line else f"{check.path}: {problem}")
        state = "intact" if check.ok else f"BROKEN ({len(check.problems)} problem(s))"
        legacy = f", {check.legacy} from before the chain" if check.legacy else ""
        unkeyed = (f", {check.unkeyed} unkeyed from before the site key, sealed by the keyed chain"
                   if check.unkeyed else "")
        click.echo(f"audit log {state}: {check.entries} entries{legacy}{unkeyed}")
    sys.exit(0 if check.ok else AuditError.exit_code)


@command.command("migrate")
def migrate():
    """Seal a log written before keyed hashes: check it as it was, then append one entry keyed with
    the site key that continues its chain (every later entry is keyed too)."""
    from .. import audit
    check = audit.verify()
    if check.keyed:
        click.echo("audit log already keyed: nothing to do")
        return
    old = [p for p in check.problems if not p[1].startswith("no entry is keyed")]
    for line, problem in old:
        click.echo(f"{check.path}:{line}: {problem}" if line else f"{check.path}: {problem}")
    if old:
        click.echo("audit log BROKEN before the migration: not sealed")
        sys.exit(AuditError.exit_code)
    audit.record("audit-keyed", unkeyed=check.unkeyed, legacy=check.legacy)
    click.echo(f"audit log sealed under the site key: {check.entries} earlier entries, every entry from now on keyed")
