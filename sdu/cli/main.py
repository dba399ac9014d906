"""``sdu``: every step of the Secure DICOM Uploader from the command line.

Commands only parse arguments and call the step's library function; exit codes come from
the :mod:`sdu.errors` classes.
"""
from __future__ import annotations

import logging

import click

from .. import __version__
from ..logs import quiet_dicom_libraries
from . import anonymise, demo, linkage, protocols, receive, relabel, script, store, validate, verify, watch


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sdu")
@click.option("-v", "--verbose", count=True, help="More log output (never identifiable values).")
def cli(verbose: int) -> None:
    """Secure DICOM Uploader: intake, validate, anonymise, verify radiotherapy DICOM."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_dicom_libraries()


for module in (anonymise, verify, linkage, demo, script, validate, relabel, protocols, receive, watch, store):
    cli.add_command(module.command)


if __name__ == "__main__":
    cli()
