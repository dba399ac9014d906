"""The acceptor engine: a listening socket and one thread per association, blocking reads.

Each connection's thread does the whole association itself: ARTIM-bounded read of the
A-ASSOCIATE-RQ, accept/reject (:mod:`intake.upperlayer`), then the data phase: P-DATA-TF
PDUs are parsed as they arrive (PDV item length, presentation context ID, message control
header), command fragments are joined and decoded (:mod:`intake.dimse`), data set fragments
are kept as the buffers they were received into and joined once, and a complete C-STORE or
C-ECHO is handed to the service, whose status goes back as one P-DATA-TF.

Anything the peer gets wrong (bad PDU type, inconsistent lengths, a PDV on a context that was
not accepted, a DIMSE operation we do not provide) ends the association with A-ABORT; the
partial message is dropped. Nothing raised here reaches the accept loop.

Resources are bounded per peer (:class:`Limits`): a data set larger than ``max_dataset`` (or a
P-DATA-TF PDU longer than the maximum we advertised) is aborted before its bytes are read, so
an unterminated stream costs at most the cap; a connection that has not finished association
negotiation ("half-open") must do so within the ARTIM timeout, and one address may hold only
``half_open_per_peer`` of them: further connections from it are closed at once, while other
peers, and associations already established, are served as before. Only established
associations count towards the association limit.
"""
from __future__ import annotations

import logging
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass
from typing import Callable, Protocol

from . import dimse
from .upperlayer import (
    READ_PIECE,
    ABORT,
    ABORT_UNEXPECTED_PDU,
    ABORT_INVALID_PARAMETER,
    ABORT_UNRECOGNISED_PDU,
    ASSOCIATE_RQ,
    P_DATA_TF,
    RELEASE_RQ,
    AcceptorPolicy,
    Negotiated,
    PeerClosed,
    ProtocolError,
    abort_pdu,
    decode_request,
    negotiate,
    p_data_tf,
    pdv_header,
    read_body,
    read_header,
    read_pieces,
    recv_exact,
    release_rp_pdu,
)

VERIFICATION = "1.2.840.10008.1.1"
MAX_COMMAND_SET = 1 << 16  # a C-STORE-RQ command set is ~200 bytes
STATUS_PROCESSING_FAILURE = 0xC211  # what pynetdicom answers when a handler raises
#: Sending the response puts Linux TCP in "interactive" mode, where the ACK of the peer's next
#: small segment (a PDU header written on its own) is delayed up to 40 ms; a peer with Nagle's
#: algorithm on (dcmtk without TCP_NODELAY=1) then waits for that ACK before sending the data set.
QUICKACK = getattr(socket, "TCP_QUICKACK", None)
LINGER = 1.0  # after an A-ABORT: how long the peer has to read it and hang up

_REJECT_TEXT = {(0x01, 0x01, 0x03): "calling AE title not recognised",
                (0x01, 0x01, 0x07): "called AE title not recognised",
                (0x01, 0x02, 0x02): "protocol version not supported",
                (0x02, 0x03, 0x02): "local limit exceeded"}


class Service(Protocol):
    """What the engine calls with complete requests; each returns a DIMSE status."""

    def store(self, assoc: Negotiated, transfer_syntax: str, dataset: bytes) -> int: ...

    def echo(self, assoc: Negotiated) -> int: ...


@dataclass(frozen=True)
class Timeouts:
    acse: float = 5.0  #: ARTIM: TLS handshake and the whole A-ASSOCIATE-RQ must arrive within this
    network: float = 60.0  #: idle read/write on an association


@dataclass(frozen=True)
class Limits:
    """What peers may make the server hold (PDU lengths are bounded by the policy's ``max_pdu``)."""

    #: Bytes of one data set (all its fragments); a large RTDOSE or multi-frame CT is a few hundred MB.
    max_dataset: int = 1 << 30
    #: Connections from one address that have not completed association negotiation.
    half_open_per_peer: int = 8
    #: Half-open connections from all addresses together (each holds a thread until ARTIM).
    half_open_total: int = 128


#: A peer may count the Maximum Length Received as PDV data rather than the PDU's variable field
#: (PS3.7 D.3.3.1): up to this many bytes past our maximum are tolerated.
PDU_SLACK = 12


class LimitExceeded(ProtocolError):
    """The peer sent more than we take: A-ABORT (by default as the service user: our limit,
    not a protocol error) and close; logged with the calling AE title and address, no values."""

    def __init__(self, message: str, source: int = 0x00, reason: int = 0x00):
        super().__init__(message, reason)
        self.source = source


class _DatasetBuffer:
    """One association's data set fragments, received straight into one reused buffer.

    The buffer grows (by what has actually arrived, at most READ_PIECE ahead) and is kept for
    the next data set, so the pages the kernel copies into are already mapped; ``take()`` makes
    the one copy the store gets. After an unusually large data set it is given back.
    """

    KEEP = 64 << 20

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.buf = bytearray(min(1 << 20, limit))
        self.filled = 0

    def receive(self, sock: socket.socket, size: int) -> None:
        """Append ``size`` bytes from ``sock``; past the limit, raise before reading any of them."""
        if self.filled + size > self.limit:
            raise LimitExceeded(f"data set larger than the {self.limit}-byte limit ({self.filled} bytes "
                                f"received, {size} more announced)")
        while size:
            piece = min(size, READ_PIECE)
            need = self.filled + piece
            if need > len(self.buf):
                self.buf.extend(bytes(min(max(need, 2 * len(self.buf)), self.limit) - len(self.buf)))
            with memoryview(self.buf) as view:
                recv_exact(sock, view[self.filled:need])
            self.filled = need
            size -= piece

    def take(self) -> bytes:
        with memoryview(self.buf) as view:
            dataset = bytes(view[:self.filled])
        self.filled = 0
        if len(self.buf) > self.KEEP:
            self.buf = bytearray(min(1 << 20, self.limit))
        return dataset


class _Connection:
    def __init__(self, server: "AcceptorServer", sock: socket.socket, peer: str):
        self.server, self.sock, self.peer = server, sock, peer
        self.calling = ""  # the peer's AE title, once its A-ASSOCIATE-RQ is read
        self.established = False
        self.abort_requested = False
        self.thread = threading.Thread(target=self.run, name="sdu-association", daemon=True)

    # -- the association -------------------------------------------------------------------
    def run(self) -> None:
        srv, log = self.server, self.server.logger
        try:
            deadline = time.monotonic() + srv.timeouts.acse  # ARTIM, from the TCP connection on
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.settimeout(srv.timeouts.acse)
            if srv.ssl_context is not None:
                self.sock = srv.ssl_context.wrap_socket(self.sock, server_side=True)
            assoc = self._associate(deadline)
            if assoc is not None:
                self.sock.settimeout(srv.timeouts.network)
                self._data_phase(assoc)
        except LimitExceeded as exc:
            log.warning("association from %s (%s) aborted: %s", self.calling or "?", self.peer, exc)
            self._send_quietly(abort_pdu(exc.source, exc.reason))
        except ProtocolError as exc:
            log.warning("association aborted: %s", exc)
            self._send_quietly(abort_pdu(0x02, exc.reason))
        except PeerClosed:
            if self.abort_requested and self.established:
                log.warning("association aborted by shutdown")
                self._send_quietly(abort_pdu(0x00, 0x00))
            elif self.established:
                log.warning("connection closed by peer during association")
        except socket.timeout:
            if self.established:
                log.warning("association aborted: network timeout (%g s)", srv.timeouts.network)
                self._send_quietly(abort_pdu(0x02, 0x00))
            else:
                log.info("connection from %s closed: no association request within %g s", self.peer,
                         srv.timeouts.acse)
        except ssl.SSLError as exc:
            log.warning("TLS connection refused: %s", getattr(exc, "reason", None) or type(exc).__name__)
        except OSError as exc:
            log.warning("connection error: %s", exc.strerror or type(exc).__name__)
        except Exception as exc:  # never let one peer take the server down
            log.error("association aborted after internal error (%s)", type(exc).__name__)
            self._send_quietly(abort_pdu(0x02, 0x00))
        finally:
            try:
                self.sock.close()
            except OSError:
                pass
            srv._forget(self)

    def _associate(self, deadline: float) -> Negotiated | None:
        srv = self.server
        header = bytearray(6)
        pdu_type, length = read_header(self.sock, header, deadline)
        if pdu_type != ASSOCIATE_RQ:
            raise ProtocolError(f"PDU type 0x{pdu_type:02x} before A-ASSOCIATE-RQ",
                                ABORT_UNEXPECTED_PDU if 1 <= pdu_type <= 7 else ABORT_UNRECOGNISED_PDU)
        body = read_body(self.sock, length, deadline)
        rq = decode_request(header, body)
        self.calling = calling = rq.calling_ae_title.strip()
        reply, assoc, reject = negotiate(rq, srv.policy, over_limit=srv.established() >= srv.max_associations)
        self.sock.sendall(reply)
        if assoc is None:
            srv.logger.warning("association from %s to %s rejected: %s", calling, rq.called_ae_title.strip(),
                               _REJECT_TEXT.get(reject, str(reject)))
            return None
        self.established = True
        srv.logger.debug("association from %s accepted (%d presentation context(s))", calling, len(assoc.contexts))
        return assoc

    def _data_phase(self, assoc: Negotiated) -> None:
        sock, service, contexts = self.sock, self.server.service, assoc.contexts
        header, pdv = bytearray(6), bytearray(6)
        command: dimse.Command | None = None
        command_parts: list[bytearray] = []
        data = _DatasetBuffer(self.server.limits.max_dataset)
        max_pdu = self.server.policy.max_pdu + PDU_SLACK if self.server.policy.max_pdu else 0
        command_size = 0
        message_context = None
        while True:
            if self.abort_requested:
                raise PeerClosed("shutdown")
            pdu_type, length = read_header(sock, header)
            if pdu_type != P_DATA_TF:
                self._control_pdu(pdu_type, length)
                return
            if max_pdu and length > max_pdu:
                raise LimitExceeded(f"P-DATA-TF of {length} bytes, more than the {self.server.policy.max_pdu} "
                                    "we accept", 0x02, ABORT_INVALID_PARAMETER)
            while length:
                if length < 6:
                    raise ProtocolError("P-DATA-TF length does not match its PDV items")
                size, context_id, control = pdv_header(sock, pdv)
                length -= 6
                if size > length:
                    raise ProtocolError("PDV item longer than its P-DATA-TF")
                length -= size
                if context_id not in contexts:
                    raise ProtocolError(f"PDV on presentation context {context_id}, which was not accepted")
                if message_context is None:
                    message_context = context_id
                elif context_id != message_context:
                    raise ProtocolError("message fragments on different presentation contexts")
                if control & 0x01:  # command fragment
                    command_size += size
                    if command is not None or command_size > MAX_COMMAND_SET:
                        raise ProtocolError("unexpected command fragment")
                    command_parts += read_pieces(sock, size)
                    if not control & 0x02:
                        continue
                    try:
                        command = dimse.read_command(b"".join(command_parts))
                    except dimse.BadCommand as exc:
                        raise ProtocolError(str(exc)) from None
                    command_parts, command_size = [], 0
                    if command.field not in (dimse.C_STORE_RQ, dimse.C_ECHO_RQ, dimse.C_CANCEL_RQ):
                        raise ProtocolError(f"DIMSE command 0x{command.field:04x} is not provided here",
                                            ABORT_UNEXPECTED_PDU)
                    if command.has_dataset:
                        continue
                    self._answer(assoc, service, message_context, command, None)
                else:  # data set fragment
                    if command is None or not command.has_dataset:
                        raise ProtocolError("data set fragment without its command")
                    data.receive(sock, size)
                    if not control & 0x02:
                        continue
                    self._answer(assoc, service, message_context, command, data.take())
                command, message_context = None, None

    def _answer(self, assoc: Negotiated, service: Service, context_id: int, command: dimse.Command,
                dataset: bytes | None) -> None:
        abstract, transfer_syntax = assoc.contexts[context_id]
        if command.field == dimse.C_STORE_RQ:
            if dataset is None or abstract == VERIFICATION:
                raise ProtocolError("C-STORE-RQ without a data set or on the Verification context")
            status = self._call(service.store, assoc, transfer_syntax, dataset)
            response = dimse.store_response(command, status)
        elif command.field == dimse.C_ECHO_RQ:
            response = dimse.echo_response(command, self._call(service.echo, assoc))
        else:
            return  # C-CANCEL: nothing is pending on this synchronous association
        self.sock.sendall(p_data_tf(context_id, response, assoc.peer_max_pdu))
        if QUICKACK is not None:
            self.sock.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)

    def _call(self, handler: Callable[..., int], *args) -> int:
        try:
            return handler(*args)
        except Exception as exc:
            self.server.logger.error("handler failed (%s); answering 0x%04X", type(exc).__name__,
                                     STATUS_PROCESSING_FAILURE)
            return STATUS_PROCESSING_FAILURE

    def _control_pdu(self, pdu_type: int, length: int) -> None:
        """A-RELEASE-RQ: answer and close. A-ABORT: close. Anything else: A-ABORT."""
        if pdu_type == RELEASE_RQ:
            read_body(self.sock, length)
            self.sock.sendall(release_rp_pdu())
            self.server.logger.debug("association released")
        elif pdu_type == ABORT:
            read_body(self.sock, length)
            self.server.logger.warning("association aborted by peer")
        elif 1 <= pdu_type <= 7:
            raise ProtocolError(f"unexpected PDU type 0x{pdu_type:02x}", ABORT_UNEXPECTED_PDU)
        else:
            raise ProtocolError(f"unrecognised PDU type 0x{pdu_type:02x}", ABORT_UNRECOGNISED_PDU)

    def _send_quietly(self, data: bytes) -> None:
        """Send a last PDU (A-ABORT), then let the peer read it before the connection closes.

        Closing with unread input makes the kernel answer with a reset, which can destroy the
        A-ABORT before the peer reads it: shut our side, drain what is left (briefly), close.
        """
        try:
            self.sock.settimeout(2.0)
            self.sock.sendall(data)
            socket.socket.shutdown(self.sock, socket.SHUT_WR)
            deadline, drained = time.monotonic() + LINGER, 0
            while drained < 1 << 20 and time.monotonic() < deadline:
                self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
                n = len(self.sock.recv(65536))
                if n == 0:
                    break
                drained += n
        except (OSError, ValueError):
            pass

    # -- called from the stopping thread ---------------------------------------------------
    def request_abort(self) -> None:
        """Wake the association's thread (blocked in recv) so that it aborts and closes.

        Only the association's own thread reads and writes the socket (TLS objects are not
        shared between threads): here the read side is shut, on the file descriptor itself.
        """
        self.abort_requested = True
        try:
            socket.socket.shutdown(self.sock, socket.SHUT_RD)
        except (OSError, ValueError):
            pass

    def kill(self) -> None:
        try:
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass


class AcceptorServer:
    """Listen on ``address``; serve each connection on its own thread."""

    def __init__(self, address: tuple[str, int], policy: AcceptorPolicy, service: Service, logger: logging.Logger,
                 *, ssl_context: ssl.SSLContext | None = None, timeouts: Timeouts = Timeouts(),
                 limits: Limits = Limits(), max_associations: int = 32,
                 on_connect: Callable[[], None] | None = None):
        self.policy, self.service, self.logger = policy, service, logger
        self.ssl_context, self.timeouts, self.max_associations = ssl_context, timeouts, max_associations
        self.limits = limits
        self._refused: dict[str, int] = {}  # connections refused per address, since its last accepted one
        self.on_connect = on_connect
        self._lock = threading.Lock()
        self._connections: set[_Connection] = set()
        self._stopping = threading.Event()
        self._sock = socket.create_server(address, backlog=64, reuse_port=False)
        self._sock.settimeout(0.2)
        self.server_address = self._sock.getsockname()
        self._thread = threading.Thread(target=self._accept_loop, name="sdu-acceptor", daemon=True)

    def start(self) -> "AcceptorServer":
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, address = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stopping.is_set():
                    break
                time.sleep(0.05)  # e.g. out of file descriptors: don't spin
                continue
            if self._stopping.is_set():
                sock.close()
                break
            conn = _Connection(self, sock, address[0])
            if not self._admit(conn):
                continue
            if self.on_connect is not None:
                self.on_connect()
            conn.thread.start()
        self._sock.close()

    def _admit(self, conn: _Connection) -> bool:
        """Register a new connection, or close it at once if its address (or everyone) holds
        too many half-open ones already."""
        peer = conn.peer
        with self._lock:
            half_open = [c.peer for c in self._connections if not c.established]
            full = (half_open.count(peer) >= self.limits.half_open_per_peer
                    or len(half_open) >= self.limits.half_open_total)
            if not full:
                self._connections.add(conn)
                refused = self._refused.pop(peer, 0)
            else:
                refused = self._refused[peer] = self._refused.get(peer, 0) + 1
                if len(self._refused) > 4096:  # only counts for log lines: never let it grow
                    self._refused.clear()
        if not full:
            if refused:
                self.logger.info("%s: %d connection(s) refused while it had too many half-open ones", peer, refused)
            return True
        try:  # abortive close (RST): nothing to say before an A-ASSOCIATE-RQ, nothing left behind
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.sock.close()
        except OSError:
            pass
        if refused == 1 or refused % 1000 == 0:
            self.logger.warning("connection from %s refused (%d so far): %d half-open connection(s) from it "
                                "(limit %d), %d in all (limit %d)", peer, refused, half_open.count(peer),
                                self.limits.half_open_per_peer, len(half_open), self.limits.half_open_total)
        return False

    def active(self) -> int:
        with self._lock:
            return len(self._connections)

    def established(self) -> int:
        with self._lock:
            return sum(1 for c in self._connections if c.established)

    def _forget(self, conn: _Connection) -> None:
        with self._lock:
            self._connections.discard(conn)

    def shutdown(self, grace: float) -> None:
        """Stop accepting; let established associations finish for ``grace`` s; abort the rest."""
        self._stopping.set()
        try:
            socket.socket.shutdown(self._sock, socket.SHUT_RDWR)  # wakes accept() at once on Linux
        except OSError:
            pass
        self._thread.join(timeout=5)
        with self._lock:
            idle = [c for c in self._connections if not c.established]
        for conn in idle:  # not associated yet: nothing in progress
            conn.request_abort()
        deadline = time.monotonic() + grace
        while self.established() and time.monotonic() < deadline:
            time.sleep(0.05)
        with self._lock:
            left = list(self._connections)
        for conn in left:
            conn.request_abort()
        for conn in left:
            conn.thread.join(timeout=10)  # a store in progress finishes its atomic write first
            if conn.thread.is_alive():
                conn.kill()
                conn.thread.join(timeout=5)
