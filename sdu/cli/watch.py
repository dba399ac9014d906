"""`sdu watch`: import files dropped into a folder into the identifiable store (until SIGTERM)."""
from __future__ import annotations

import logging
import signal
import threading

import click


from ..site import load_site_key
from ._common import echo_json, sdu_errors



@click.command("watch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False), help="Identifiable store.")
@click.option("--copy", is_flag=True, help="Leave imported files in place (remembered) instead of moving them.")
@click.option("--settle-seconds", default=2.0, show_default=True, type=click.FloatRange(0.1),
              help="A file must be unchanged this long before it is read.")
@click.option("--quiet-seconds", default=60.0, show_default=True, type=click.FloatRange(0.1),
              help="A study with nothing new for this long is complete.")
@click.option("--trial", help="Trial the studies belong to (for --on-complete).")
@click.option("--on-complete", help="Command run (no shell) when a study completes; {study_dir} {trial}.")
@click.option("--once", is_flag=True, help="Import what is there now, then exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on exit.")
def command(folder, store_dir, copy, settle_seconds, quiet_seconds, trial, on_complete, once, as_json):
    """Watch FOLDER and import complete DICOM files (and DICOMDIR media) into the store."""
    from intake import quiet_dicom_libraries
    from intake.completion import CompletionMonitor, CompletionOptions
    from intake.store import Store
    from intake.watcher import FolderWatcher, WatchOptions
    logger = logging.getLogger("sdu.watch")
    logger.setLevel(logging.INFO)
    quiet_dicom_libraries()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with sdu_errors():
        store = Store(store_dir, load_site_key())
        watcher = FolderWatcher(folder, store, WatchOptions(copy=copy, settle_seconds=settle_seconds), logger)
        completion = CompletionOptions(quiet_seconds=quiet_seconds, on_complete=on_complete, trial=trial)
        if once:
            report = watcher.run_once()
        else:
            monitor = CompletionMonitor(store, completion, logger).start()
            click.echo(f"sdu watch: watching {folder}", err=True)
            report = watcher.run(stop)
            monitor.stop()
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(f"sdu watch: {report.imported} imported, {report.duplicates} duplicate, {report.conflicts} "
                   f"conflict, {len(report.rejected)} set aside, {len(report.failed)} failed", err=True)
        for item in report.rejected:
            click.echo(f"  set aside: {item['path']}: {item['reason']}", err=True)
