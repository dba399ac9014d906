"""Small helpers shared by the subcommands: error to exit code, JSON output."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager

import click

from ..errors import SDUError


@contextmanager
def sdu_errors():
    """Turn an :class:`SDUError` into a one-line message and its class's exit code."""
    try:
        yield
    except SDUError as exc:
        click.echo(f"sdu: error: {exc}", err=True)
        sys.exit(exc.exit_code)


def echo_json(obj) -> None:
    click.echo(json.dumps(obj, indent=2, sort_keys=False, default=str, ensure_ascii=False))


@contextmanager
def progress_bar(label: str, disable: bool = False):
    """A rich progress bar on stderr; yields ``advance(done, total)`` for library callbacks."""
    if disable or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(f"[bold]{label}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
