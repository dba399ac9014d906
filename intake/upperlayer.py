"""DICOM upper layer for an acceptor: PDU framing and association negotiation (PS3.8).

The PDUs, primitives and presentation-context negotiation are pynetdicom's own
(:mod:`pynetdicom.pdu`, :mod:`pynetdicom.pdu_primitives`, :func:`negotiate_as_acceptor`); this
module only reads them off a blocking socket (``recv_into``, no reactor threads, no polling)
and decides accept/reject the way pynetdicom's ACSE does. The data phase lives in
:mod:`intake.acceptor`.
"""
from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass, field

from pynetdicom import PYNETDICOM_IMPLEMENTATION_UID, PYNETDICOM_IMPLEMENTATION_VERSION
from pynetdicom.pdu import A_ABORT_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RJ, A_ASSOCIATE_RQ, A_RELEASE_RP
from pynetdicom.pdu_primitives import (
    A_ASSOCIATE,
    AsynchronousOperationsWindowNegotiation,
    ImplementationClassUIDNotification,
    ImplementationVersionNameNotification,
    MaximumLengthNotification,
    SCP_SCU_RoleSelectionNegotiation,
)
from pynetdicom.presentation import PresentationContext, negotiate_as_acceptor
from pydicom.uid import UID

# PDU types (PS3.8 9.3.1)
ASSOCIATE_RQ, ASSOCIATE_AC, ASSOCIATE_RJ, P_DATA_TF, RELEASE_RQ, RELEASE_RP, ABORT = 1, 2, 3, 4, 5, 6, 7
APPLICATION_CONTEXT = UID("1.2.840.10008.3.1.1.1")

# A-ASSOCIATE-RJ (result, source, reason) as pynetdicom's ACSE sends them (PS3.8 9.3.4)
RJ_CALLING_AE = (0x01, 0x01, 0x03)  # permanent, service user, calling AE title not recognised
RJ_CALLED_AE = (0x01, 0x01, 0x07)  # permanent, service user, called AE title not recognised
RJ_PROTOCOL_VERSION = (0x01, 0x02, 0x02)  # permanent, service provider (ACSE), protocol version
RJ_LOCAL_LIMIT = (0x02, 0x03, 0x02)  # transient, service provider (presentation), local limit exceeded

# A-ABORT reasons when we are the service provider (source 2, PS3.8 9.3.8)
ABORT_UNRECOGNISED_PDU = 0x01
ABORT_UNEXPECTED_PDU = 0x02
ABORT_INVALID_PARAMETER = 0x06

#: A-ASSOCIATE-RQ, release and abort PDUs are small; anything bigger is not a DICOM peer.
MAX_CONTROL_PDU = 1 << 20
#: Big P-DATA payloads are read in pieces of at most this size, so a length field alone
#: never makes us allocate memory the peer has not sent.
READ_PIECE = 8 << 20

_HEADER = struct.Struct(">BxL")
_PDV_HEADER = struct.Struct(">LBB")


class PeerClosed(Exception):
    """The peer closed the connection (or it was shut down under us)."""


class ProtocolError(Exception):
    """The peer broke the upper-layer protocol; answer with A-ABORT (``reason``) and close."""

    def __init__(self, message: str, reason: int = ABORT_INVALID_PARAMETER):
        super().__init__(message)
        self.reason = reason


def recv_exact(sock: socket.socket, view: memoryview, deadline: float | None = None) -> None:
    """Fill ``view`` from ``sock``; ``deadline`` (monotonic) bounds the whole read, not each recv."""
    while view:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            sock.settimeout(left)
        n = sock.recv_into(view)
        if n == 0:
            raise PeerClosed("connection closed by peer")
        view = view[n:]


def read_header(sock: socket.socket, buf: bytearray, deadline: float | None = None) -> tuple[int, int]:
    """Read a PDU header (6 bytes) into ``buf``; return (PDU type, PDU length)."""
    recv_exact(sock, memoryview(buf)[:6], deadline)
    return _HEADER.unpack(buf)


def read_body(sock: socket.socket, length: int, deadline: float | None = None) -> bytearray:
    """Read a whole (small) PDU body."""
    if length > MAX_CONTROL_PDU:
        raise ProtocolError(f"PDU of {length} bytes is too long", ABORT_INVALID_PARAMETER)
    body = bytearray(length)
    recv_exact(sock, memoryview(body), deadline)
    return body


def read_pieces(sock: socket.socket, length: int) -> list[bytearray]:
    """Read ``length`` bytes as one buffer, or several when it is large."""
    pieces = []
    while length:
        piece = bytearray(min(length, READ_PIECE))
        recv_exact(sock, memoryview(piece))
        pieces.append(piece)
        length -= len(piece)
    return pieces


def pdv_header(sock: socket.socket, buf: bytearray) -> tuple[int, int, int]:
    """Read a PDV item header: (data length, presentation context ID, message control header)."""
    recv_exact(sock, memoryview(buf)[:6])
    length, context_id, control = _PDV_HEADER.unpack_from(buf)
    if length < 2:
        raise ProtocolError("PDV item shorter than its header")
    return length - 2, context_id, control


def p_data_tf(context_id: int, command: bytes, max_pdu: int) -> bytes:
    """A command set as P-DATA-TF PDUs (one unless the peer's maximum length forces more)."""
    room = len(command) if max_pdu == 0 else max(max_pdu - 6, 1)
    out = []
    for start in range(0, len(command), room):
        chunk = command[start:start + room]
        last = start + room >= len(command)
        out.append(_HEADER.pack(P_DATA_TF, len(chunk) + 6)
                   + _PDV_HEADER.pack(len(chunk) + 2, context_id, 0x03 if last else 0x01) + chunk)
    return b"".join(out)


def abort_pdu(source: int = 0x02, reason: int = 0x00) -> bytes:
    pdu = A_ABORT_RQ()
    pdu.source, pdu.reason_diagnostic = source, reason
    return pdu.encode()


def release_rp_pdu() -> bytes:
    return A_RELEASE_RP().encode()


def reject_pdu(result: int, source: int, reason: int) -> bytes:
    pdu = A_ASSOCIATE_RJ()
    pdu.result, pdu.source, pdu.reason_diagnostic = result, source, reason
    return pdu.encode()


@dataclass(frozen=True)
class AcceptorPolicy:
    """What the acceptor agrees to."""

    ae_title: str
    contexts: list[PresentationContext]
    allow_ae: tuple[str, ...] = ()
    require_called_ae: bool = False
    max_pdu: int = 0  # what we advertise: 0 = unlimited


@dataclass
class Negotiated:
    """An established association's parameters."""

    calling_ae: str
    called_ae: str
    peer_max_pdu: int
    #: accepted context ID -> (abstract syntax, transfer syntax)
    contexts: dict[int, tuple[str, str]] = field(default_factory=dict)


def decode_request(header: bytes | bytearray, body: bytes | bytearray) -> A_ASSOCIATE_RQ:
    pdu = A_ASSOCIATE_RQ()
    try:
        pdu.decode(bytes(header[:6]) + bytes(body))
    except Exception as exc:  # pynetdicom's decoders raise many types on damaged input
        raise ProtocolError(f"malformed A-ASSOCIATE-RQ ({type(exc).__name__})") from None
    return pdu


def negotiate(rq: A_ASSOCIATE_RQ, policy: AcceptorPolicy, over_limit: bool
              ) -> tuple[bytes, Negotiated | None, tuple[int, int, int] | None]:
    """Answer an A-ASSOCIATE-RQ: (PDU to send, the association or None, the rejection or None).

    Checks in pynetdicom's order (protocol version, calling AE, called AE, association limit),
    then presentation contexts by :func:`negotiate_as_acceptor`, answering SCP/SCU role
    selection as it does and an asynchronous operations window with 1/1; other extended
    negotiation sub-items are not answered.
    """
    try:
        primitive = rq.to_primitive()
        calling, called = primitive.calling_ae_title.strip(), primitive.called_ae_title.strip()
        user_info = primitive.user_information or []
        rq_contexts = primitive.presentation_context_definition_list
    except Exception as exc:
        raise ProtocolError(f"malformed A-ASSOCIATE-RQ ({type(exc).__name__})") from None
    reject = None
    if rq.protocol_version != 0x0001:
        reject = RJ_PROTOCOL_VERSION
    elif policy.allow_ae and calling not in {a.strip() for a in policy.allow_ae}:
        reject = RJ_CALLING_AE
    elif policy.require_called_ae and called != policy.ae_title.strip():
        reject = RJ_CALLED_AE
    elif over_limit:
        reject = RJ_LOCAL_LIMIT
    if reject:
        return reject_pdu(*reject), None, reject

    peer_max, roles, reply_items = 0, {}, []
    for item in user_info:
        if isinstance(item, MaximumLengthNotification):
            peer_max = item.maximum_length_received or 0
        elif isinstance(item, AsynchronousOperationsWindowNegotiation):
            window = AsynchronousOperationsWindowNegotiation()
            window.maximum_number_operations_invoked = 1
            window.maximum_number_operations_performed = 1
            reply_items.append(window)
        elif isinstance(item, SCP_SCU_RoleSelectionNegotiation):
            roles[item.sop_class_uid] = (item.scu_role, item.scp_role)
    try:
        results, role_items = negotiate_as_acceptor(rq_contexts, policy.contexts, roles)
    except Exception as exc:
        raise ProtocolError(f"cannot negotiate presentation contexts ({type(exc).__name__})") from None

    ac = A_ASSOCIATE()
    ac.application_context_name = APPLICATION_CONTEXT
    ac.calling_ae_title = primitive.calling_ae_title
    ac.called_ae_title = primitive.called_ae_title
    ac.result, ac.result_source = 0x00, 0x01
    ac.presentation_context_definition_results_list = results
    max_length = MaximumLengthNotification()
    max_length.maximum_length_received = policy.max_pdu
    impl_uid = ImplementationClassUIDNotification()
    impl_uid.implementation_class_uid = PYNETDICOM_IMPLEMENTATION_UID
    impl_name = ImplementationVersionNameNotification()
    impl_name.implementation_version_name = PYNETDICOM_IMPLEMENTATION_VERSION
    ac.user_information = [max_length, impl_uid, impl_name, *role_items, *reply_items]
    assoc = Negotiated(calling_ae=calling, called_ae=called, peer_max_pdu=peer_max,
                       contexts={cx.context_id: (str(cx.abstract_syntax), str(cx.transfer_syntax[0]))
                                 for cx in results if cx.result == 0x00})
    return A_ASSOCIATE_AC(ac).encode(), assoc, None
