"""`sdu upload DIR --xnat URL --project P [--share TRIAL]`: send an approved session (see :mod:`uploader`)."""
from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, sdu_errors


@click.command("upload")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--xnat", "url", required=True, help="Base URL of the central XNAT (https://…).")
@click.option("--project", required=True, help="The site's project on XNAT (project ID).")
@click.option("--share", help="The trial's project: subject and session are shared into it.")
@click.option("--prearchive", is_flag=True,
              help="Import through the prearchive and the archive service instead of straight to the archive.")
@click.option("--attach", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="A file of the approved folder to send as a session attachment (repeatable).")
@click.option("--token-file", type=click.Path(exists=True, dir_okay=False),
              help="XNAT alias token file (JSON with alias and secret); else $SDU_XNAT_USER/$SDU_XNAT_PASS or ~/.netrc.")
@click.option("--ca-bundle", type=click.Path(exists=True, dir_okay=False),
              help="CA certificates to verify the server with (TLS is always verified).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(folder, url, project, share, prearchive, attach, token_file, ca_bundle, as_json):
    """Upload the approved FOLDER to XNAT; refused unless approved and unchanged since (exit 9)."""
    from uploader import UploadOptions, upload

    options = UploadOptions(url, project, share, prearchive, tuple(attach), token_file, ca_bundle or True)
    with sdu_errors():
        result = upload(folder, options)
    if as_json:
        echo_json(result.to_dict())
        return
    click.echo(f"uploaded session {result.session} (subject {result.subject}) to {project}: {result.files} files, "
               f"{result.bytes / 1e6:.1f} MB in {result.seconds:.1f}s{' (resumed)' if result.resumed else ''}")
    for c in result.checks:
        click.echo(f"  remote check in {c.where}: {c.files} of {c.expected} files, "
                   f"{c.checksums} checksums compared: {'ok' if c.ok else 'FAILED'}")
