"""`sdu receive`: a DICOM C-STORE SCP feeding the identifiable store (runs until SIGTERM/SIGINT)."""
from __future__ import annotations

import logging
import signal
import threading

import click

from ..site import load_site_key
from ._common import ByteSize, echo_json, sdu_errors


@click.command("receive")
@click.option("--ae-title", default="SDU", show_default=True, help="Our AE title.")
@click.option("--port", default=11112, show_default=True, type=click.IntRange(0, 65535))
@click.option("--host", default="", help="Address to listen on (default: all).")
@click.option("--store", "store_dir", required=True, type=click.Path(file_okay=False), help="Identifiable store.")
@click.option("--allow-ae", multiple=True, help="Calling AE titles allowed (repeat; default: any).")
@click.option("--require-called-ae", is_flag=True,
              help="Reject associations addressed to another AE title than --ae-title (default: accept them).")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False))
@click.option("--tls-ca", type=click.Path(exists=True, dir_okay=False), help="Require client certificates from this CA.")
@click.option("--max-pdu", default=0, show_default=True, type=click.IntRange(0),
              help="Max PDU we accept (0 = unlimited); a longer P-DATA-TF aborts the association.")
@click.option("--max-dataset-size", default="1GiB", show_default=True, type=ByteSize(),
              help="Largest data set accepted; a bigger one (or an endless stream) aborts its association, "
                   "nothing of it is stored.")
@click.option("--max-half-open", default=8, show_default=True, type=click.IntRange(1),
              help="Connections one address may hold before completing association negotiation; "
                   "more are closed at once.")
@click.option("--acse-timeout", default=5.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds a connection has for its TLS handshake and A-ASSOCIATE-RQ before it is closed.")
@click.option("--shutdown-grace", default=30.0, show_default=True, type=click.FloatRange(0),
              help="On SIGTERM, seconds open transfers may take to finish before they are aborted.")
@click.option("--quiet-seconds", default=60.0, show_default=True, type=click.FloatRange(0.1))
@click.option("--trial", help="Trial the received studies belong to (for --on-complete).")
@click.option("--on-complete", help="Command run (no shell) when a study completes; {study_dir} {trial}.")
@click.option("--fsync/--no-fsync", default=True, show_default=True,
              help="Flush each file to disk before acknowledging it (--no-fsync survives a crash of sdu, "
                   "not a power cut).")
@click.option("--json", "as_json", is_flag=True, help="Print the final report as JSON on exit.")
def command(ae_title, port, host, store_dir, allow_ae, require_called_ae, tls_cert, tls_key, tls_ca, max_pdu,
            max_dataset_size, max_half_open, acse_timeout, shutdown_grace, quiet_seconds, trial, on_complete, fsync,
            as_json):
    """Receive DICOM (C-STORE, C-ECHO) into the store until SIGTERM or Ctrl-C."""
    from intake import quiet_dicom_libraries
    from intake.completion import CompletionOptions
    from intake.receiver import Receiver, ReceiverOptions
    from intake.store import Store
    logger = logging.getLogger("sdu.receive")
    logger.setLevel(min(logging.getLogger().level or logging.INFO, logging.INFO))
    quiet_dicom_libraries()
    options = ReceiverOptions(
        ae_title=ae_title, port=port, host=host, allow_ae=tuple(allow_ae), require_called_ae=require_called_ae,
        tls_cert=tls_cert, tls_key=tls_key, tls_ca=tls_ca, max_pdu=max_pdu, max_dataset_size=max_dataset_size,
        max_half_open=max_half_open, acse_timeout=acse_timeout, shutdown_grace=shutdown_grace,
        completion=CompletionOptions(quiet_seconds=quiet_seconds, on_complete=on_complete, trial=trial))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with sdu_errors():
        receiver = Receiver(Store(store_dir, load_site_key(), fsync=fsync), options, logger).start()
        click.echo(f"sdu receive: listening as {ae_title} on port {receiver.port}", err=True)
        while not stop.wait(1.0):
            pass
        report = receiver.stop()
    if as_json:
        echo_json(report.to_dict())
    else:
        click.echo(f"sdu receive: stopped ({report.stored} stored, {report.duplicates} duplicate, "
                   f"{report.conflicts} conflict, {report.rejected} refused, {report.failed} failed)", err=True)
