"""`sdu store list|show`: what arrived in the identifiable store (names shown only by `show`)."""
from __future__ import annotations

import time

import click


from ..errors import ConfigError
from ..site import load_site_key
from ._common import echo_json, sdu_errors

store_option = click.option("--store", "store_dir", required=True, envvar="SDU_STORE",
                            type=click.Path(exists=True, file_okay=False), help="Identifiable store ($SDU_STORE).")


def _when(ts) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@click.group("store")
def command():
    """Inspect the identifiable store."""


@command.command("list")
@store_option
@click.option("--json", "as_json", is_flag=True)
def list_(store_dir, as_json):
    """One line per study: key, modalities, counts, completion (no names)."""
    from intake.store import Store
    with sdu_errors():
        studies = Store(store_dir, load_site_key(create=False)).studies()
    keep = ("study_key", "patient_key", "modalities", "series_count", "instances", "complete", "first_at", "last_at")
    rows = [{k: s[k] for k in keep} for s in studies]
    if as_json:
        echo_json(rows)
        return
    click.echo(f"{'STUDY':16}  {'PATIENT':16}  {'MODALITIES':18} {'SERIES':>6} {'INST':>6}  STATE     LAST")
    for r in rows:
        state = "complete" if r["complete"] else "receiving"
        click.echo(f"{r['study_key']:16}  {r['patient_key']:16}  {r['modalities'] or '-':18} {r['series_count']:>6}"
                   f" {r['instances']:>6}  {state:9} {_when(r['last_at'])}")


@command.command("show")
@store_option
@click.argument("study")
@click.option("--json", "as_json", is_flag=True)
def show(store_dir, study, as_json):
    """One study (key, key prefix or Study Instance UID) with its series; shows the patient."""
    from intake.store import Store
    with sdu_errors():
        found = Store(store_dir, load_site_key(create=False)).study(study)
        if found is None:
            raise ConfigError("no single study matches this key", path=store_dir)
    if as_json:
        echo_json(found)
        return
    click.echo(f"study {found['study_key']} ({'complete' if found['complete'] else 'receiving'})")
    click.echo(f"  patient: {found['patient_name']} [{found['patient_id']}] (key {found['patient_key']})")
    click.echo(f"  date: {found['study_date'] or '-'}  description: {found['study_description'] or '-'}")
    click.echo(f"  study UID: {found['study_uid']}  instances: {found['instances']}")
    for s in found["series"]:
        extra = f", {s['conflicts']} conflicting version(s)" if s["conflicts"] else ""
        click.echo(f"  series {s['series_key']} #{s['series_number'] or '-'} {s['modality'] or '?':8}"
                   f" {s['instances']:>5} instance(s){extra}  {s['series_description'] or ''}")
