"""`sdu approve DIR --user NAME`: approve (or `--revoke`) what `sdu review DIR` showed (see :mod:`approval`)."""
from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, sdu_errors


@click.command("approve")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--user", required=True, help="Who approves (a site user: recorded at the site, never sent).")
@click.option("--comment", default="", help="Why: kept with the approval record.")
@click.option("--revoke", is_flag=True, help="Withdraw the approval of FOLDER instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the approval record (without the manifest) as JSON.")
def command(folder, user, comment, revoke, as_json):
    """Approve FOLDER for upload: verifies it afresh, binds the approval to the SHA-256 of every file
    and registers its pseudonymous sessions. Exit 9 when refused (verification fails, nothing to approve)."""
    from approval import approve
    from approval import revoke as withdraw

    with sdu_errors():
        record = withdraw(folder, user, comment) if revoke else approve(folder, user, comment)
    summary = {k: v for k, v in record.items() if k != "manifest"}
    summary["files"] = len(record["manifest"])
    if as_json:
        echo_json(summary)
    elif revoke:
        click.echo(f"approval of {folder} revoked by {user}: it cannot be uploaded until approved again")
    else:
        sessions = len(record.get("registered") or [])
        click.echo(f"approved by {user}: {summary['files']} files bound by SHA-256 "
                   f"(verification passed, {record['verification']['warnings']} warning(s)); "
                   f"{sessions} session(s) registered")
