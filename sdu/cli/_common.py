"""Small helpers shared by the subcommands: error to exit code, JSON output."""
from __future__ import annotations

import json
import re
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


class ByteSize(click.ParamType):
    """A size in bytes: ``1073741824``, ``1GiB``, ``500MB``, ``512M`` (K/M/G alone are binary)."""

    name = "size"
    _UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
              "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30,
              "t": 1 << 40, "tib": 1 << 40}

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
        unit = self._UNITS.get(match.group(2).lower()) if match else None
        if unit is None or float(match.group(1)) * unit < 1:
            self.fail("expected a size such as 1073741824, 1GiB or 500MB", param, ctx)
        return int(float(match.group(1)) * unit)
