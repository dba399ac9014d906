"""``sdu anonymise SRC DEST``: the anonymisation step, verification included."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import site
from ..errors import ConfigError
from ..limits import DEFAULT_LIMITS, MIB, Limits
from ..standard import annex_e
from ._common import ByteSize, echo_json, progress_bar, sdu_errors


def site_scripts() -> list[Path]:
    """The site's own DicomEdit scripts (``<site dir>/scripts/*.das``), applied first, by name."""
    folder = site.site_dir() / "scripts"
    return sorted(folder.glob("*.das")) if folder.is_dir() else []


@click.command("anonymise")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--trial-id", required=True, help="Trial (XNAT project) ID.")
@click.option("--site-id", required=True, help="This site's ID in the trial.")
@click.option("--subject-id", help="Trial-assigned subject ID (one patient in SRC).")
@click.option("--auto-id", is_flag=True, help="Derive subject/session IDs from the patient with the site key.")
@click.option("--session-id", help="Trial-assigned session label (one study in SRC).")
@click.option("--key-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Site key file (default: $SDU_SITE_KEY_FILE or <site dir>/site.key, created 0600).")
@click.option("--linkage-db", type=click.Path(dir_okay=False, path_type=Path),
              help="Linkage store (default: <site dir>/linkage.sqlite).")
@click.option("--script", "scripts", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="DicomEdit 6 script, after the site's own scripts; repeatable, applied in order.")
@click.option("--option", "profile_options", multiple=True,
              type=click.Choice(sorted(annex_e.options())), help="Annex E option, added to the trial defaults.")
@click.option("--no-trial-defaults", is_flag=True,
              help=f"Start from the bare basic profile instead of {', '.join(annex_e.trial_default_options())}.")
@click.option("--keep-non-iod", is_flag=True,
              help="Keep public elements the object's IOD (PS3.3) does not define, unknown public tags and "
                   "elements written with a wrong VR (the old behaviour, for non-trial use). Risk: elements nobody "
                   "reviewed pass through with only the profile's scrub, so a new hiding place is a new leak. "
                   "The files declare it in De-identification Method; the verifier then skips its IOD check.")
@click.option("--sponsor", help="Clinical Trial Sponsor Name (default: the trial ID).")
@click.option("--site-name", default="", help="Clinical Trial Site Name.")
@click.option("--time-point", default="", help="Clinical Trial Time Point ID.")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--max-inflated-size", type=ByteSize(), default=f"{DEFAULT_LIMITS.max_inflated // MIB}MiB",
              show_default=True, help="Size a deflated file may inflate to; larger ones are refused (named).")
@click.option("--max-element-size", type=ByteSize(), default=f"{DEFAULT_LIMITS.max_element // MIB}MiB",
              show_default=True, help="Size a single element may hold; files with a larger one are refused (named).")
@click.option("--no-verify", is_flag=True, help="Skip verification (the output then cannot be approved).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def command(src, dest, trial_id, site_id, subject_id, auto_id, session_id, key_file, linkage_db, scripts,
            profile_options, no_trial_defaults, keep_non_iod, sponsor, site_name, time_point, workers,
            max_inflated_size, max_element_size, no_verify, as_json):
    """Anonymise every DICOM file below SRC into DEST, then verify DEST.

    PS3.15 Annex E Basic Profile (+ options), keyed UIDs, Clinical Trial modules. Exit 0 only
    when every file was anonymised and verification passed.
    """
    from anonymiser import AnonymiseOptions, anonymise_folder

    if bool(subject_id) == auto_id:
        raise click.UsageError("give exactly one of --subject-id ID and --auto-id")
    chosen = tuple(dict.fromkeys(([] if no_trial_defaults else list(annex_e.trial_default_options()))
                                 + list(profile_options)))
    with sdu_errors():
        texts = []
        for path in [*site_scripts(), *scripts]:
            try:
                texts.append((str(path), path.read_text()))
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read script ({type(exc).__name__})", path=path) from None
        options = AnonymiseOptions(
            trial_id=trial_id, site_id=site_id, subject_id=subject_id, session_id=session_id,
            profile_options=chosen, sponsor=sponsor, site_name=site_name, time_point=time_point,
            scripts=tuple(texts), key_file=key_file, linkage_db=linkage_db, workers=workers,
            verify=not no_verify, keep_non_iod=keep_non_iod, limits=Limits(max_inflated_size, max_element_size))
        with progress_bar("Anonymising", disable=as_json) as advance:
            report = anonymise_folder(src, dest, options, progress=advance)
    if as_json:
        echo_json(report.to_dict())
    else:
        _print_summary(report, keep_non_iod)
    sys.exit(0 if report.ok else 1)


def _print_summary(report, keep_non_iod: bool = False) -> None:
    """At the site: names source files (the terminal is on the identifiable side)."""
    d = report.to_dict()
    c = d["counts"]
    click.echo(f"Anonymised {c['out']} of {c['in']} inputs into {report.destination} "
               f"({d['seconds']} s, {d['files_per_second'] or '-'} files/s); failed: {c['failed']}, "
               f"skipped: {c['skipped']}")
    click.echo(f"Profile: {', '.join(report.profile)}; subjects: {', '.join(report.subjects) or '-'}; "
               f"sessions: {', '.join(report.sessions) or '-'}")
    if keep_non_iod:
        click.echo("IOD rule: OFF (--keep-non-iod): elements outside the objects' IODs were kept, only scrubbed")
    else:
        totals = d.get("actions", {})
        unknown = totals.get("IOD-fallback", 0)
        click.echo(f"IOD rule: {totals.get('IOD', 0)} element(s) outside the objects' IODs removed"
                   + (f"; {unknown} file(s) of a SOP class without an IOD table judged by the common modules"
                      if unknown else ""))
    for f in report.files:
        if f.status == "failed":
            click.echo(f"  FAILED {f.source}: {f.reason}", err=True)
        for note in f.notes:
            click.echo(f"  note {f.source}: {note}", err=True)
    for s in report.skipped:
        click.echo(f"  {'FAILED' if s['reason'].startswith('cannot read') else 'skipped'} {s['path']}: {s['reason']}",
                   err=True)
    v = report.verification
    if v is None:
        click.echo("Verification: NOT RUN (--no-verify): this output cannot be approved")
    else:
        click.echo(f"Verification: {'PASSED' if v.get('ok') else 'FAILED'} "
                   f"({v.get('passed', '?')} of {v.get('files', '?')} files pass) — sdu verify, independent of the anonymiser")
    click.echo(f"Report (leaves with the data): {Path(report.destination) / 'sdu-report.anonymise.json'}")
    click.echo(f"Full report (stays at the site): {report.site_report}")
