"""``mapUID[value, prefix]``: one new UID per value, the same for that value across a whole run.

NRG's engine (DicomEdit 6.6.0) keeps a map from value to ``prefix.<random UUID as a number>`` in
one function object that lives as long as the JVM: in XNAT, every file, session and project the
server handles until it restarts. The first prefix a value met wins; the prefix must be a valid
UID root of at most 24 characters (checked only when the value is new).

SDU derives the number instead of drawing it: the first 16 bytes of an HMAC-SHA256 over the
value (length-prefixed, with its own domain), under the run's key, shaped as a version-4 UUID.
The same value gets the same UID in every file of a run and in every worker process, with no
map to share; and, under the site key, in later runs too. Where it still differs from XNAT:
XNAT's UIDs are random and its map is forgotten on restart (SDU's repeat under the same key);
and when one value meets two prefixes, XNAT keeps the first one the server saw, SDU the first
one the worker process saw.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections import OrderedDict

_PROCESS_KEY = os.urandom(32)  # runs without a key (script check, dry run): one map per process
_UID_ROOT = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")
_FIRST: OrderedDict = OrderedDict()  # (key, value) -> UID: the first prefix wins, as in XNAT
_FIRST_LIMIT = 200_000


class UIDRootError(ValueError):
    """A prefix dcm4che 2 refuses as a UID root."""


def _digest(key: bytes, value: str | None) -> bytes:
    msg = bytearray()
    for part in ("dicomedit-mapUID", "\0absent" if value is None else value):
        data = part.encode("utf-8")
        msg += len(data).to_bytes(4, "big") + data
    return hmac.new(key, bytes(msg), hashlib.sha256).digest()


def map_uid(value: str | None, prefix: str, key: bytes | None) -> str:
    key = key or _PROCESS_KEY
    seen = _FIRST.get((key, value))
    if seen is not None:
        _FIRST.move_to_end((key, value))
        return seen
    if len(prefix) > 24 or not _UID_ROOT.fullmatch(prefix):
        raise UIDRootError("mapUID: the prefix is not a UID root of at most 24 characters")
    b = bytearray(_digest(key, value)[:16])
    b[6] = (b[6] & 0x0F) | 0x40  # a version-4 UUID, as java.util.UUID.randomUUID() makes
    b[8] = (b[8] & 0x3F) | 0x80
    uid = f"{prefix}.{int.from_bytes(b, 'big')}"
    _FIRST[(key, value)] = uid
    if len(_FIRST) > _FIRST_LIMIT:
        _FIRST.popitem(last=False)
    return uid
