"""The C-STORE SCP (pynetdicom) feeding the identifiable store.

Handlers are plain functions with explicit arguments (the store, a logger, a tally): the
C-STORE handler writes ``event.encoded_dataset()`` bytes through :func:`intake.store.ingest`
without decoding them and answers with a status (PS3.4 Annex B.2.3): 0x0000 success, 0xC210
cannot understand, 0xA700 out of resources. Log lines name study/series keys, never values.
"""
from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from dataclasses import asdict, dataclass, field

from pynetdicom import AE, evt
from pynetdicom.sop_class import Verification

from sdu.errors import ConfigError, IntakeError, NotDicomError

from .completion import CompletionMonitor, CompletionOptions
from .identity import storage_tables
from .store import Store, ingest

STATUS_SUCCESS = 0x0000
STATUS_OUT_OF_RESOURCES = 0xA700
STATUS_CANNOT_UNDERSTAND = 0xC210
DUL_LOOP_DELAY = 0.0001


@dataclass(frozen=True)
class ReceiverOptions:
    ae_title: str = "SDU"
    port: int = 11112
    host: str = ""
    allow_ae: tuple[str, ...] = ()
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_ca: str | None = None
    #: 0 = unlimited: the peer may send each dataset in as few PDUs as it likes (fast).
    max_pdu: int = 0
    network_timeout: float = 60.0
    shutdown_grace: float = 30.0
    completion: CompletionOptions = field(default_factory=CompletionOptions)


@dataclass
class ReceiverReport:
    associations: int = 0
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    failed: int = 0
    completed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


class _Tally:
    """Counts shared by the handler threads."""

    def __init__(self, report: ReceiverReport):
        self.report = report
        self.lock = threading.Lock()

    def add(self, name: str) -> None:
        with self.lock:
            setattr(self.report, name, getattr(self.report, name) + 1)


def handle_store(event, store: Store, logger: logging.Logger, tally: _Tally) -> int:
    """EVT_C_STORE: write the received bytes to the store; answer with a status."""
    calling = event.assoc.requestor.ae_title
    try:
        result = ingest(store, event.encoded_dataset(include_meta=False), event.context.transfer_syntax,
                        source=f"dicom:{calling}", calling_ae=calling)
    except NotDicomError as exc:
        tally.add("rejected")
        logger.warning("C-STORE from %s refused: %s", calling, exc.reason)
        return STATUS_CANNOT_UNDERSTAND
    except (IntakeError, OSError, MemoryError) as exc:
        tally.add("failed")
        logger.error("C-STORE from %s not stored: %s", calling, getattr(exc, "reason", type(exc).__name__))
        return STATUS_OUT_OF_RESOURCES
    k = result.keys
    if result.status == "stored":
        tally.add("stored")
        logger.debug("stored study %s series %s sop %s (%s)", k.study, k.series, k.sop, result.modality)
    elif result.status == "duplicate":
        tally.add("duplicates")
        logger.info("duplicate of study %s series %s sop %s: already stored", k.study, k.series, k.sop)
    else:
        tally.add("conflicts")
        logger.warning("conflicting re-send for study %s series %s sop %s kept as version %d",
                       k.study, k.series, k.sop, result.version)
    return STATUS_SUCCESS


def handle_echo(event, logger: logging.Logger) -> int:
    logger.info("C-ECHO from %s", event.assoc.requestor.ae_title)
    return STATUS_SUCCESS


def handle_conn_open(event, tally: _Tally) -> None:
    """EVT_CONN_OPEN: disable Nagle on the accepted socket (small PDUs go out at once).

    pynetdicom's DUL thread sleeps 1 ms whenever it finds nothing to do, which adds up to a
    millisecond to every C-STORE response; 0.1 ms keeps latency low at little idle CPU cost.
    """
    tally.add("associations")
    dul = event.assoc.dul
    if hasattr(dul, "_run_loop_delay"):
        dul._run_loop_delay = DUL_LOOP_DELAY
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


def build_ae(options: ReceiverOptions) -> AE:
    ae = AE(ae_title=options.ae_title)
    ae.maximum_pdu_size = options.max_pdu
    ae.network_timeout = options.network_timeout
    ae.maximum_associations = 32
    syntaxes = list(storage_tables()["transfer_syntaxes"].values())
    for uid in storage_tables()["sop_classes"].values():
        ae.add_supported_context(uid, syntaxes)
    ae.add_supported_context(Verification)
    if options.allow_ae:
        ae.require_calling_aet = list(options.allow_ae)
    return ae


def tls_context(options: ReceiverOptions) -> ssl.SSLContext | None:
    if not (options.tls_cert or options.tls_key or options.tls_ca):
        return None
    if not (options.tls_cert and options.tls_key):
        raise ConfigError("TLS needs both --tls-cert and --tls-key")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(options.tls_cert, options.tls_key)
        if options.tls_ca:
            ctx.load_verify_locations(options.tls_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load TLS certificate/key: {type(exc).__name__}") from None
    return ctx


class Receiver:
    """A running SCP: ``start()``, then ``stop()`` (stop accepting, let associations finish)."""

    def __init__(self, store: Store, options: ReceiverOptions, logger: logging.Logger):
        self.store, self.options, self.logger = store, options, logger
        self.report = ReceiverReport()
        self._tally = _Tally(self.report)
        self._server = None
        self._monitor = CompletionMonitor(store, options.completion, logger)

    def start(self) -> "Receiver":
        swept = self.store.sweep_temp_files()
        if swept:
            self.logger.warning("removed %d partial file(s) left by an interrupted receiver", swept)
        ae = build_ae(self.options)
        handlers = [
            (evt.EVT_C_STORE, handle_store, [self.store, self.logger, self._tally]),
            (evt.EVT_C_ECHO, handle_echo, [self.logger]),
            (evt.EVT_CONN_OPEN, handle_conn_open, [self._tally]),
        ]
        try:
            self._server = ae.start_server((self.options.host, self.options.port), block=False,
                                           evt_handlers=handlers, ssl_context=tls_context(self.options))
        except OSError as exc:
            raise IntakeError(f"cannot listen on port {self.options.port}: {exc.strerror}") from None
        self._monitor.start()
        self.logger.info("listening as %s on port %d", self.options.ae_title, self.port)
        return self

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self.options.port

    def stop(self) -> ReceiverReport:
        """Stop accepting; wait (up to the grace period) for open associations; then abort them."""
        if self._server is None:
            return self.report
        server, self._server = self._server, None
        server.shutdown()  # no new connections
        deadline = time.monotonic() + self.options.shutdown_grace
        while any(a.is_established for a in server.active_associations) and time.monotonic() < deadline:
            time.sleep(0.05)  # let transfers in progress finish; idle half-open connections don't count
        for assoc in server.active_associations:
            assoc.abort()
        for assoc in server.active_associations:
            assoc.join(timeout=10)  # a handler mid-write finishes its atomic write first
        self._monitor.stop()
        self.report.completed = [e["study_key"] for e in self._monitor.events]
        self.logger.info("stopped: %d stored, %d duplicate(s), %d conflict(s), %d refused, %d failed",
                         self.report.stored, self.report.duplicates, self.report.conflicts,
                         self.report.rejected, self.report.failed)
        return self.report
