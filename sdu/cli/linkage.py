"""``sdu linkage``: the trial office's way back from a pseudonym to the patient, at the site only.

This is the one command that prints identifiable values: it reads the site's linkage store,
which never leaves the site.
"""
from __future__ import annotations

from pathlib import Path

import click

from .. import site
from ..linkage import LinkageStore
from ._common import echo_json, sdu_errors

db_option = click.option("--linkage-db", type=click.Path(dir_okay=False, path_type=Path),
                         help="Linkage store (default: <site dir>/linkage.sqlite).")


@click.group("linkage")
def command() -> None:
    """Look up pseudonyms in the site's linkage store."""


@command.command("list")
@click.option("--trial", required=True)
@db_option
@click.option("--json", "as_json", is_flag=True)
def list_subjects(trial, linkage_db, as_json):
    """List the trial's subjects and sessions (pseudonyms only)."""
    with sdu_errors(), LinkageStore(linkage_db or site.default_linkage_db(), create=False) as store:
        rows = store.db.execute("SELECT subject_id, assigned, created FROM subjects WHERE trial=? ORDER BY subject_id",
                                (trial,)).fetchall()
        out = [{"subject": s, "assigned": a, "created": c,
                "sessions": [sess for _, sess, _ in store.sessions(trial, s)]} for s, a, c in rows]
    if as_json:
        echo_json(out)
    else:
        for r in out:
            click.echo(f"{r['subject']}  ({r['assigned']}, {r['created']})  sessions: {', '.join(r['sessions'])}")


@command.command("lookup")
@click.option("--trial", required=True)
@click.option("--subject", help="Subject ID to re-identify.")
@click.option("--uid", help="A replacement UID to trace back to the original.")
@db_option
@click.option("--json", "as_json", is_flag=True)
def lookup(trial, subject, uid, linkage_db, as_json):
    """Re-identify a subject (original patient ID and studies) or a UID. Prints identifiable values."""
    if bool(subject) == bool(uid):
        raise click.UsageError("give exactly one of --subject and --uid")
    with sdu_errors(), LinkageStore(linkage_db or site.default_linkage_db(), create=False) as store:
        if uid:
            original = store.original_uid(uid)
            result = {"uid": uid, "original": original}
        else:
            link = store.patient_for_subject(trial, subject)
            if link is None:
                raise click.ClickException(f"no subject {subject} in trial {trial}")
            result = {"trial": trial, "subject": subject, "patient_id": link.patient_id, "assigned": link.assigned,
                      "sessions": [{"session": s, "study_uid": o, "new_study_uid": n}
                                   for o, s, n in store.sessions(trial, subject)]}
    if as_json:
        echo_json(result)
    else:
        for k, v in result.items():
            click.echo(f"{k}: {v}")
