"""`sdu audit verify`: check the site's hash-chained audit log (see :mod:`sdu.audit`)."""
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
        click.echo(f"audit log {state}: {check.entries} entries{legacy}")
    sys.exit(0 if check.ok else AuditError.exit_code)
