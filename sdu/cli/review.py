"""`sdu review DIR`: what will leave the site (see :mod:`approval.review`)."""
from __future__ import annotations

from pathlib import Path

import click

from ._common import echo_json, sdu_errors


@click.command("review")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the review as JSON (for the plugin and the images).")
def command(folder, as_json):
    """Show what FOLDER would send: verification, series, ROIs and what anonymisation did per tag
    (new values only, never originals). Exit 0 when ready to approve, 9 otherwise."""
    import sys

    from approval.review import review_folder
    from sdu.errors import ApprovalError

    with sdu_errors():
        data = review_folder(folder)
    if as_json:
        echo_json(data)
    else:
        from rich.console import Console
        console = Console(soft_wrap=False)
        _show(console if console.is_terminal else Console(soft_wrap=False, width=160), data)
    sys.exit(0 if data["ready_to_approve"] else ApprovalError.exit_code)


def _show(console, data: dict) -> None:
    from rich.table import Table

    v, a = data["verification"], data["anonymisation"]
    colour = "green" if v["status"] == "passed" else "red"
    console.print(f"[bold]{data['folder']}[/bold]")
    console.print(f"verification: [{colour}]{v['status']}[/{colour}]"
                  + (f" ({v['files_passed']} file(s) passed, {v['warnings']} warning(s))" if v["status"] == "passed"
                     else f" - {v['reason']}"))
    ap = data["approval"]
    console.print(f"approval: {ap['status']}" + (f" by {ap['user']} at {ap['time']}" if ap["status"] == "valid"
                                                 else f" - {ap['reason']}" if ap["status"] != "none" else ""))
    if a.get("report") == "present":
        console.print(f"trial {a['trial_id']}, site {a['site_id']}, run {a['run']}; profile: {', '.join(a['profile'])}")
        console.print(f"subjects: {', '.join(a['subjects'])}; sessions: {', '.join(a['sessions'])}")
    else:
        console.print(f"[red]anonymise report {a.get('report')}[/red]")
    if not data["values_shown"]:
        console.print("[yellow]values withheld: the verification did not pass on exactly these files[/yellow]")

    series = Table(title="Series")
    for col in ("session", "modality", "number", "description", "files"):
        series.add_column(col, justify="right" if col in ("number", "files") else "left")
    for s in data["series"]:
        series.add_row(s["session"] or "", s["modality"], str(s["series_number"] or ""), s["description"] or "",
                       str(s["files"]))
    console.print(series)
    f = data["files"]
    if f["other"] or f["unreadable"]:
        console.print(f"other files: {len(f['other'])}; unreadable: {len(f['unreadable'])}")

    for r in data["rois"]:
        rois = Table(title=f"ROIs of {r['label'] or 'RTSTRUCT'} ({len(r['rois'])})")
        for col in ("number", "name", "type", "contours"):
            rois.add_column(col)
        for roi in r["rois"]:
            rois.add_row(str(roi["number"]), roi["name"] or "", roi["type"] or "", str(roi["contours"]))
        console.print(rois)

    if a.get("report") == "present":
        actions = Table(title="Anonymisation: elements by action")
        for col in ("code", "meaning", "elements"):
            actions.add_column(col, justify="right" if col == "elements" else "left")
        for row in a["actions"]:
            actions.add_row(row["code"], row["meaning"], str(row["count"]))
        console.print(actions)
        console.print("by outcome: " + ", ".join(f"{k} {n}" for k, n in a["by_outcome"].items()))
        sc = a["script_changes"]
        console.print(f"DicomEdit scripts: {sc['elements']} change(s) in {sc['files']} file(s)")

    tags = Table(title="Per tag (files with a value / empty / without)")
    for col in ("tag", "keyword", "action", "outcome", "value", "empty", "absent"):
        tags.add_column(col, no_wrap=True)
    tags.add_column("new values")
    for t in data["tags"]:
        values = "; ".join(f"{x['value']} ({x['files']})" for x in t.get("values", []))
        extra = t["distinct_values"] - len(t.get("values", []))
        if t["vr"] == "UI":
            values = f"{t['distinct_values']} distinct replacement UID(s)"
        elif t["vr"] == "SQ":
            values = "(sequence: see its items' tags)"
        elif extra > 0 and data["values_shown"]:
            values += f"; +{extra} more"
        tags.add_row(t["tag"], t["keyword"], t["profile_action"] or "", t["outcome"], str(t["with_value"]),
                     str(t["empty"]), str(t["absent"]), values)
    console.print(tags)
