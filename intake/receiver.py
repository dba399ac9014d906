"""`sdu receive`: the C-STORE SCP feeding the identifiable store.

The association engine is :mod:`intake.acceptor` (one thread per association, blocking reads,
pynetdicom's PDU and negotiation codecs); this module holds what the receiver does with it.
Handlers are plain functions with explicit arguments (the store, a logger, a tally): the
C-STORE handler writes the received data set bytes through :func:`intake.store.ingest`
without decoding them and answers with a status (PS3.4 Annex B.2.3): 0x0000 success, 0xC210
cannot understand, 0xA700 out of resources. Log lines name study/series keys, never values.
"""
from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import asdict, dataclass, field

from pynetdicom.presentation import build_context

from sdu.errors import ConfigError, IntakeError, NotDicomError

from .acceptor import VERIFICATION, AcceptorServer, Limits, Timeouts
from .completion import CompletionMonitor, CompletionOptions
from .identity import storage_tables
from .store import Store, ingest
from .upperlayer import AcceptorPolicy, Negotiated

STATUS_SUCCESS = 0x0000
STATUS_OUT_OF_RESOURCES = 0xA700
STATUS_CANNOT_UNDERSTAND = 0xC210
MAX_ASSOCIATIONS = 32


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
    #: Reject associations whose called AE title is not ours (off by default, as before).
    require_called_ae: bool = False
    network_timeout: float = 60.0
    #: ARTIM: a connection that has not completed its TLS handshake and A-ASSOCIATE-RQ within
    #: this is closed (a real sender does both at once; a half-open connection holds a thread).
    acse_timeout: float = 5.0
    #: Largest data set accepted; a bigger one (or an unterminated stream) aborts the association.
    max_dataset_size: int = 1 << 30
    #: Connections one address may hold before completing association negotiation.
    max_half_open: int = 8
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


def handle_store(calling: str, transfer_syntax: str, dataset: bytes, store: Store, logger: logging.Logger,
                 tally: _Tally) -> int:
    """A complete C-STORE: write the received bytes to the store; answer with a status."""
    try:
        result = ingest(store, dataset, transfer_syntax, source=f"dicom:{calling}", calling_ae=calling)
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


def handle_echo(calling: str, logger: logging.Logger) -> int:
    logger.info("C-ECHO from %s", calling)
    return STATUS_SUCCESS


class _StoreService:
    """The engine's service: complete C-STOREs go to the store, C-ECHOs are answered."""

    def __init__(self, store: Store, logger: logging.Logger, tally: _Tally):
        self._store, self.logger, self.tally = store, logger, tally

    def store(self, assoc: Negotiated, transfer_syntax: str, dataset: bytes) -> int:
        try:
            return handle_store(assoc.calling_ae, transfer_syntax, dataset, self._store, self.logger, self.tally)
        except Exception:
            self.tally.add("failed")
            raise

    def echo(self, assoc: Negotiated) -> int:
        return handle_echo(assoc.calling_ae, self.logger)


def acceptor_policy(options: ReceiverOptions) -> AcceptorPolicy:
    """The storage SOP classes x transfer syntaxes of ``storage_tables()``, plus Verification."""
    syntaxes = list(storage_tables()["transfer_syntaxes"].values())
    contexts = [build_context(uid, syntaxes) for uid in storage_tables()["sop_classes"].values()]
    contexts.append(build_context(VERIFICATION))
    for i, cx in enumerate(contexts):
        cx.context_id = 2 * i + 1
    return AcceptorPolicy(ae_title=options.ae_title, contexts=contexts, allow_ae=options.allow_ae,
                          require_called_ae=options.require_called_ae, max_pdu=options.max_pdu)


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
        self._server: AcceptorServer | None = None
        self._monitor = CompletionMonitor(store, options.completion, logger)

    def start(self) -> "Receiver":
        swept = self.store.sweep_temp_files()
        if swept:
            self.logger.warning("removed %d partial file(s) left by an interrupted receiver", swept)
        o = self.options
        try:
            self._server = AcceptorServer(
                (o.host, o.port), acceptor_policy(o), _StoreService(self.store, self.logger, self._tally),
                self.logger, ssl_context=tls_context(o),
                timeouts=Timeouts(acse=o.acse_timeout, network=o.network_timeout),
                limits=Limits(max_dataset=o.max_dataset_size, half_open_per_peer=o.max_half_open),
                max_associations=MAX_ASSOCIATIONS, on_connect=lambda: self._tally.add("associations")).start()
        except OSError as exc:
            raise IntakeError(f"cannot listen on port {o.port}: {exc.strerror}") from None
        self._monitor.start()
        self.logger.info("listening as %s on port %d", o.ae_title, self.port)
        return self

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self.options.port

    def stop(self) -> ReceiverReport:
        """Stop accepting; wait (up to the grace period) for open associations; then abort them."""
        if self._server is None:
            return self.report
        server, self._server = self._server, None
        server.shutdown(self.options.shutdown_grace)
        self._monitor.stop()
        self.report.completed = [e["study_key"] for e in self._monitor.events]
        self.logger.info("stopped: %d stored, %d duplicate(s), %d conflict(s), %d refused, %d failed",
                         self.report.stored, self.report.duplicates, self.report.conflicts,
                         self.report.rejected, self.report.failed)
        return self.report
