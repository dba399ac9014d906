"""DIMSE command sets for the acceptor: read a request, write a C-STORE-RSP or C-ECHO-RSP.

Command sets are always implicit VR little endian (PS3.7 6.3.1). Requests are decoded with
pynetdicom's :func:`~pynetdicom.dsutils.decode` (pydicom underneath). The two responses are
six or seven fixed elements written directly (building them through pynetdicom's message
classes costs ~0.3 ms per instance); the tests check them byte for byte against pynetdicom's
``C_STORE_RSP``/``C_ECHO_RSP`` encoding.
"""
from __future__ import annotations

from dataclasses import dataclass
import struct
from io import BytesIO

from pynetdicom.dsutils import decode

C_STORE_RQ = 0x0001
C_ECHO_RQ = 0x0030
C_CANCEL_RQ = 0x0FFF
C_STORE_RSP = 0x8001
C_ECHO_RSP = 0x8030
NO_DATASET = 0x0101

_ELEMENT = struct.Struct("<HHL")
_US = struct.Struct("<H")
_UL = struct.Struct("<L")


class BadCommand(Exception):
    """The command set cannot be read."""


@dataclass(frozen=True)
class Command:
    """The fields of a request command set the acceptor uses."""

    field: int
    message_id: int
    has_dataset: bool
    sop_class_uid: str = ""
    sop_instance_uid: str = ""


def read_command(raw: bytes) -> Command:
    try:
        ds = decode(BytesIO(raw), True, True)
        field = int(ds.CommandField)
        has_dataset = int(ds.get("CommandDataSetType", NO_DATASET)) != NO_DATASET
        message_id = int(ds.get("MessageID", 0) or 0)
        return Command(field, message_id, has_dataset, str(ds.get("AffectedSOPClassUID", "") or ""),
                       str(ds.get("AffectedSOPInstanceUID", "") or ""))
    except Exception as exc:  # pydicom raises many types on damaged input
        raise BadCommand(f"unreadable command set ({type(exc).__name__})") from None


def _element(element: int, value: bytes) -> bytes:
    return _ELEMENT.pack(0x0000, element, len(value)) + value


def _uid(element: int, uid: str) -> bytes:
    value = uid.encode("ascii")
    return _element(element, value + b"\0" if len(value) % 2 else value) if uid else b""


def _response(field: int, rq: Command, status: int, with_instance: bool) -> bytes:
    body = b"".join([
        _uid(0x0002, rq.sop_class_uid),
        _element(0x0100, _US.pack(field)),
        _element(0x0120, _US.pack(rq.message_id)),
        _element(0x0800, _US.pack(NO_DATASET)),
        _element(0x0900, _US.pack(status)),
        _uid(0x1000, rq.sop_instance_uid) if with_instance else b"",
    ])
    return _element(0x0000, _UL.pack(len(body))) + body


def store_response(rq: Command, status: int) -> bytes:
    """The encoded C-STORE-RSP command set answering ``rq``."""
    return _response(C_STORE_RSP, rq, status, True)


def echo_response(rq: Command, status: int) -> bytes:
    """The encoded C-ECHO-RSP command set answering ``rq``."""
    return _response(C_ECHO_RSP, rq, status, False)
