"""``sdu``: every step of the Secure DICOM Uploader from the command line.

Commands only parse arguments and call the step's library function; exit codes come from
the :mod:`sdu.errors` classes.
"""
from __future__ import annotations

import importlib
import logging

import click

from .. import __version__
from ..logs import quiet_dicom_libraries

#: Command name -> module of this package defining ``command`` (imported when the command runs:
#: a step does not pay for the others' imports).
COMMANDS = {name: name for name in ("anonymise", "verify", "linkage", "demo", "script", "validate", "relabel",
                                    "protocols", "receive", "watch", "store",
                                    "review", "approve", "audit", "upload")}


class LazyGroup(click.Group):
    """click's documented lazy-loading group: subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        return importlib.import_module(f"{__package__}.{COMMANDS[name]}").command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sdu")
@click.option("-v", "--verbose", count=True, help="More log output (never identifiable values).")
def cli(verbose: int) -> None:
    """Secure DICOM Uploader: intake, validate, anonymise, verify radiotherapy DICOM."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_dicom_libraries()


if __name__ == "__main__":
    cli()
