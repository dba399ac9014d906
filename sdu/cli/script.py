"""`sdu script check FILE` and `sdu script dry-run FILE DICOM`: DicomEdit 6 scripts.

dry-run prints element values (before and after) to the terminal only: it never logs them and
never writes the DICOM file.
"""
from __future__ import annotations

from pathlib import Path

import click

from sdu.errors import ConfigError, ScriptError

from ._common import sdu_errors


def _load(path: Path):
    from anonymiser.dicomedit import load_script
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"cannot read script ({type(exc).__name__})", path=path) from None
    return load_script(text, str(path))


@click.group("script")
def command() -> None:
    """Check and try out DicomEdit 6 anonymisation scripts."""


@command.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(file: Path) -> None:
    """Parse FILE and report its statements and variables (exit 6 on an error)."""
    with sdu_errors():
        script = _load(file)
    click.echo(f"{file}: OK, DicomEdit {script.version or '6 (no version statement)'}, "
               f"{script.statement_count} statements")
    for info in script.variables.values():
        flags = [f for f, on in (("hidden", info.hidden), ("const", info.constant), ("set by script", info.assigned),
                                 ("from context", info.referenced and not info.assigned)) if on]
        desc = f' "{info.description}"' if info.description else ""
        click.echo(f"  variable {info.name}{desc}" + (f" [{', '.join(flags)}]" if flags else ""))


def _vars(pairs) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigError("--var takes name=value")
        out[name.strip()] = value
    return out


@command.command("dry-run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("dicom", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
              help="A variable XNAT would supply (project, subject, session, modalityLabel, ...).")
def dry_run(file: Path, dicom: Path, variables: tuple[str, ...]) -> None:
    """Apply FILE to an in-memory copy of DICOM and show each change; nothing is written."""
    from anonymiser.dicomedit import ScriptContext
    from sdu.dicomfiles import read_dataset
    with sdu_errors():
        script = _load(file)
        ds = read_dataset(dicom)
        changes = script.apply(ds, ScriptContext(variables=_vars(variables)))
    for change in changes:
        before = "(absent)" if change.before is None else change.before
        after = "(removed)" if change.after is None else change.after
        click.echo(f"{change.path} {change.keyword}: {before} → {after}")
    for line in changes.echoes:
        click.echo(f"echo: {line}")
    click.echo(f"{len(changes)} change(s); {dicom} was not modified")
