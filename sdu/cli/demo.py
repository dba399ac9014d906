"""``sdu demo``: the whole core on generated data, no servers needed."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from ._common import sdu_errors


@click.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo's data (default: a new temporary folder).")
@click.option("--slices", type=click.IntRange(1, 2000), default=60, show_default=True)
@click.option("--size", type=click.IntRange(16, 1024), default=128, show_default=True, help="CT rows/columns.")
def command(out, slices, size):
    """Generate an identifiable RT study and take it through validate, relabel, anonymise, verify."""
    from ..demo import run_demo

    out = out or Path(tempfile.mkdtemp(prefix="sdu-demo-"))
    if not os.environ.get("SDU_SITE_DIR"):
        os.environ["SDU_SITE_DIR"] = str(out / "site")  # the demo's own site key and linkage store
    with sdu_errors():
        report = run_demo(out, slices=slices, size=size)
    click.echo(f"SDU demo in {out}")
    for step in report.steps:
        click.echo(f"  [{'ok' if step.ok else 'FAIL'}] {step.name}: {step.summary}")
    click.echo(f"Result: {'all steps behaved as they must' if report.ok else 'a step did not behave as it must'}")
    sys.exit(0 if report.ok else 1)
