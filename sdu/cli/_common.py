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
    click.echo(json.dumps(obj, indent=2, sort_keys=False, default=str))
