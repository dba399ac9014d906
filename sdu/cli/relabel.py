"""`sdu relabel`: write a copy of a session with ROIs renamed (the original is left untouched)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ._common import echo_json, sdu_errors
from .validate import load_protocol


def _parse_map(values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for value in values:
        old, sep, new = value.rpartition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"expected OLD=NEW, got {value!r}", param_hint="--map")
        mapping[old] = new
    return mapping


@click.command("relabel")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="New session folder (must not exist or be empty).")
@click.option("--map", "maps", multiple=True, metavar="OLD=NEW", help="Rename ROI OLD to NEW (repeatable).")
@click.option("--accept-suggestions", is_flag=True,
              help="Rename each non-standard name to its top suggestion when it scores at least --threshold; "
                   "the others are listed for a person.")
@click.option("--trial", "trial_id", metavar="ID", help="Trial whose names the suggestions use.")
@click.option("--protocol", "protocol_file", type=click.Path(exists=True, dir_okay=False), help="Protocol JSON file.")
@click.option("--arm", help="Trial arm.")
@click.option("--threshold", type=click.FloatRange(0, 100), default=90.0, show_default=True,
              help="Lowest suggestion score --accept-suggestions applies.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def command(folder, out, maps, accept_suggestions, trial_id, protocol_file, arm, threshold, as_json):
    """Copy the session in FOLDER to --out with ROIs renamed; RTSTRUCT/RTPLAN/RTDOSE get new UIDs."""
    from validator import relabel_session, suggested_mapping

    mapping = _parse_map(maps)
    if not mapping and not accept_suggestions:
        raise click.UsageError("give --map OLD=NEW (repeatable) and/or --accept-suggestions")
    left = []
    with sdu_errors():
        if accept_suggestions:
            suggested, refused = suggested_mapping(folder, load_protocol(trial_id, protocol_file), arm, threshold)
            left = [v for v in refused if v.roi_name not in mapping]
            mapping = {**suggested, **mapping}
            if not mapping:
                click.echo(f"sdu: refusing: no suggestion scores {threshold:g} or more; rename these with --map:",
                           err=True)
                _list_left(left)
                sys.exit(1)
        report = relabel_session(folder, out, mapping)
        report.left_for_person = left
    if as_json:
        echo_json(report.to_dict())
        return
    for old, new in report.renamed.items():
        click.echo(f"{old!r} -> {new!r}")
    for name in report.not_found:
        click.echo(f"warning: no ROI named {name!r}", err=True)
    click.echo(f"wrote {out} ({report.copied} files; {len(report.rewritten)} rewritten with new UIDs)")
    if left:
        click.echo(f"left for a person: {len(left)} names (no suggestion scored {threshold:g}); "
                   "rename them with --map:", err=True)
        _list_left(left)


def _list_left(left) -> None:
    for v in left:
        hint = "; ".join(f"{s.name} ({s.score:.0f}: {s.explanation})" for s in v.suggestions[:2]) or "no suggestion"
        click.echo(f"  {v.roi_name!r}: {hint}", err=True)
