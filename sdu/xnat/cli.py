"""``sdu-xnat``: the entry point of the SDU command image (XNAT's Container Service runs it).

Only parses arguments and calls :mod:`sdu.xnat.steps`. Values a user types in XNAT's launch
dialog (trial, arm, mapping, subject ID, comment, share) arrive as environment variables the
command JSON sets (``SDU_TRIAL`` …), never spliced into the ``/bin/sh -c`` command line, so no
value is ever parsed by a shell; secrets come from :mod:`sdu.xnat.settings`.

Exit status (the Container Service shows 0 as Complete, anything else as Failed, and uploads the
outputs only when Complete): 0 when the step did its work and its report is in the output
(a validation or verification verdict is inside the report, which XNAT must receive either way);
otherwise the code of the ``sdu`` error class (2 setting, 3 archive layout, 4 anonymisation,
5 verification of the anonymised output, 7 protocol, 9 approval refused, 10 upload or import
failed, 13 refused by XNAT). Output lines hold counts and verdicts only: never an identifiable
value, a file name or an exception text from a library (only its type).
"""
from __future__ import annotations

import json
import logging
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from ..errors import ConfigError, SDUError

PATH = click.Path(path_type=Path, file_okay=False)


@contextmanager
def _step():
    try:
        yield
    except SDUError as exc:
        click.echo(f"sdu-xnat: refused: {exc.reason}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - a library's message may quote a value: print its type only
        click.echo(f"sdu-xnat: failed ({type(exc).__name__})", err=True)
        sys.exit(1)


def _done(summary: dict) -> None:
    click.echo(json.dumps(summary, sort_keys=True))


def _site_key() -> bytes:
    from .. import site
    from .settings import export

    export("SDU_SITE_KEY")
    return site.load_site_key(create=False)


def _session_option(f):
    f = click.option("--session", "session_dir", type=PATH, default="/input", show_default=True,
                     help="The session's archive folder (read-only input mount).")(f)
    f = click.option("--out", type=PATH, default="/output/report", show_default=True,
                     help="Folder for the report (an output mount).")(f)
    return f


def _work_option(f):
    return click.option("--work", type=PATH, default="/scratch", show_default=True,
                        help="Scratch folder (a writable mount).")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """SDU steps for XNAT's Container Service (one per command of the image)."""
    from ..logs import quiet_dicom_libraries

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    quiet_dicom_libraries()


@cli.command("validate")
@_session_option
@click.option("--trial", envvar="SDU_TRIAL", default="",
              help="Trial ID [$SDU_TRIAL]; empty: the trial recorded on the session (sdu_trial).")
@click.option("--arm", envvar="SDU_ARM", default="", help="Trial arm [$SDU_ARM].")
def validate_cmd(session_dir, out, trial, arm):
    """Validate the session against the trial protocol; report sdu-report.validate.json."""
    from . import steps
    from .context import Launch

    with _step():
        _done(steps.validate(session_dir, out, Launch.from_env().trial(trial), arm or None))


@cli.command("relabel")
@_session_option
@click.option("--relabelled", type=PATH, default="/output/relabelled", show_default=True)
@click.option("--trial", envvar="SDU_TRIAL", default="", help="Trial ID [$SDU_TRIAL].")
@click.option("--mapping", envvar="SDU_MAPPING", default="",
              help='JSON object {"old ROI name": "new name"} [$SDU_MAPPING]; empty: the trial\'s suggestions.')
def relabel_cmd(session_dir, out, relabelled, trial, mapping):
    """Copy the session with ROIs renamed; report sdu-report.relabel.json."""
    from . import steps
    from .context import Launch

    with _step():
        trial = Launch.from_env().trial(trial, required=False)
        _done(steps.relabel(session_dir, out, relabelled, trial, _mapping(mapping)))


def _mapping(text: str) -> dict[str, str]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise ConfigError("mapping is not JSON: expected an object of old name -> new name") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) and k and v
                                             for k, v in data.items()):
        raise ConfigError("mapping must be a JSON object of non-empty old name -> new name strings")
    return data


@cli.command("anonymise")
@_session_option
@_work_option
@click.option("--trial", envvar="SDU_TRIAL", default="",
              help="Trial ID [$SDU_TRIAL]; empty: the trial recorded on the session (sdu_trial).")
@click.option("--subject-id", envvar="SDU_SUBJECT_ID", default="",
              help="Trial-assigned subject ID [$SDU_SUBJECT_ID]; empty: derived with the site key.")
def anonymise_cmd(session_dir, out, work, trial, subject_id):
    """Anonymise and verify the session, import it into the anonymised XNAT project."""
    import os

    from . import steps
    from .context import Launch
    from .settings import setting

    with _step():
        _site_key()  # the library reads $SDU_SITE_KEY; fail early and clearly when there is none
        launch = Launch.from_env()
        trial = launch.trial(trial)
        target = {"url": setting("SDU_ANON_XNAT_URL", os.environ.get("XNAT_HOST"), required=True),
                  "user": setting("SDU_ANON_XNAT_USER", os.environ.get("XNAT_USER"), required=True),
                  "password": setting("SDU_ANON_XNAT_PASS", os.environ.get("XNAT_PASS"), required=True),
                  "project": launch.setting("SDU_ANON_PROJECT", required=True),
                  "verify": setting("SDU_CA_BUNDLE") or True}
        _done(steps.anonymise(session_dir, out, work, trial, launch.setting("SDU_SITE_ID", required=True),
                              subject_id, target))


@cli.command("verify")
@_session_option
@_work_option
def verify_cmd(session_dir, out, work):
    """Verify every file of the anonymised session; report sdu-report.verify.json."""
    from . import steps

    with _step():
        _done(steps.verify(session_dir, out, work))


@cli.command("approve")
@_session_option
@_work_option
@click.option("--comment", envvar="SDU_COMMENT", default="", help="Why [$SDU_COMMENT].")
def approve_cmd(session_dir, out, work, comment):
    """Approve the anonymised session as the launching XNAT user (resolved from the alias token); refused
    unless that user is an owner or member of the session's project (asked of XNAT)."""
    from . import steps
    from .context import Launch
    from .identity import whoami
    from .settings import export

    with _step():
        key = _site_key()
        launch = Launch.from_env(need_xnat=True)
        user = whoami(launch.xnat)
        launch.require_editor(user, "approve")
        export("SDU_REGISTRY_DSN")  # the research registry (PostgreSQL); else SQLite in the container's tmpfs
        _done(steps.approve(session_dir, out, work, user, comment, key))


@cli.command("upload")
@_session_option
@_work_option
@click.option("--share", envvar="SDU_SHARE", default="", help="Trial project to share into [$SDU_SHARE].")
def upload_cmd(session_dir, out, work, share):
    """Upload the approved anonymised session to the central XNAT (refused unless the launching user is an
    owner or member of the session's project, and the session approved and unchanged)."""
    from uploader import UploadOptions

    from . import steps
    from .context import Launch
    from .identity import whoami
    from .settings import export, setting

    with _step():
        key = _site_key()
        launch = Launch.from_env(need_xnat=True)
        launch.require_editor(whoami(launch.xnat), "upload")
        export("SDU_XNAT_USER", "SDU_XNAT_PASS", "SDU_XNAT_TOKEN_FILE")
        share = share or launch.settings.get("share") or ""
        options = UploadOptions(launch.setting("SDU_CENTRAL_URL", required=True),
                                setting("SDU_CENTRAL_PROJECT", required=True), share or None,
                                verify_tls=setting("SDU_CA_BUNDLE") or True)
        _done(steps.upload(session_dir, out, work, options, key))


if __name__ == "__main__":
    cli()
