"""`sdu script check FILE` and `sdu script dry-run FILE DICOM`: DicomEdit 6 scripts.

dry-run prints element values (before and after, as text or ``--json``) to the terminal only:
old values are identifiable, so it is a site-side tool; it never logs them and never writes the
DICOM file.
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
    click.echo(f"{file}: OK, DicomEdit {script.version}, {script.statement_count} statements")
    for line, column, reason in script.program.reached_errors:  # XNAT accepts these, then fails the file
        click.echo(f"  warning: line {line}, column {column}: {reason}; any file that reaches it is refused")
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
              help="A variable XNAT would supply (project, subject, session, ...).")
@click.option("--json", "as_json", is_flag=True,
              help="Every changed element as JSON: tag path, keyword, VR, old and new value (old values are "
                   "identifiable: a site-side tool).")
def dry_run(file: Path, dicom: Path, variables: tuple[str, ...], as_json: bool) -> None:
    """Apply FILE to an in-memory copy of DICOM and show each change; nothing is written.

    Old values are the file's own, identifiable values: they go to this terminal only, never to a
    log. Run it at the site.
    """
    import json

    from anonymiser.dicomedit import ScriptContext
    from anonymiser.dicomedit.dryrun import dry_run as run_dry
    from sdu.dicomfiles import read_dataset
    with sdu_errors():
        script = _load(file)
        ds = read_dataset(dicom)
        result = run_dry(script, ds, ScriptContext(variables=_vars(variables)))
    if as_json:
        click.echo(json.dumps({"script": str(file), "dicom": str(dicom), **result}, indent=2, ensure_ascii=False))
        return
    click.echo(f"note: {result['note']}")
    for change in result["changes"]:
        before = "(absent)" if change["old"] is None else change["old"]
        after = "(removed)" if change["new"] is None else change["new"]
        click.echo(f"{change['path']} {change['keyword']}: {before} → {after}")
    for line in result["echoes"]:
        click.echo(f"echo: {line}")
    click.echo(f"{len(result['changes'])} change(s); {dicom} was not modified")
