"""The approval record travels through XNAT (resource ``SDU_APPROVAL``) from the approve container
to the upload container: sealed with an HMAC under a key derived from the site key, so a record
written by anyone without the site key (any user who may edit the session) is refused.
The record itself is exactly what :func:`approval.approve` recorded; the gate still checks it
against the files (:func:`approval.require_release`).
"""
from __future__ import annotations

import hashlib
import hmac
import json

from ..errors import ApprovalError

FIELD = "seal"
_PURPOSE = b"sdu-approval-record-v1"


def _key(site_key: bytes) -> bytes:
    return hmac.new(site_key, _PURPOSE, hashlib.sha256).digest()


def _canonical(record: dict) -> bytes:
    return json.dumps({k: v for k, v in record.items() if k != FIELD}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def seal(record: dict, site_key: bytes) -> dict:
    return {**record, FIELD: {"alg": "HMAC-SHA256", "mac": hmac.new(_key(site_key), _canonical(record),
                                                                  hashlib.sha256).hexdigest()}}


def unseal(sealed: dict, site_key: bytes) -> dict:
    """The record without its seal; :class:`ApprovalError` unless the seal is the site's."""
    mac = (sealed.get(FIELD) or {}).get("mac") if isinstance(sealed, dict) else None
    if not isinstance(mac, str):
        raise ApprovalError("the approval record carries no seal: refused")
    expected = hmac.new(_key(site_key), _canonical(sealed), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        raise ApprovalError("the approval record's seal does not match this site's key: refused")
    return {k: v for k, v in sealed.items() if k != FIELD}
