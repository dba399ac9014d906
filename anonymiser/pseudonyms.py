"""Keyed pseudonyms: one HMAC-SHA-256 with the site key behind every replacement value.

Same input and key give the same output across runs and batches, so references between
files survive and a later batch of the same patient lands on the same subject. Inputs are
length-prefixed before hashing: ``("ab", "c")`` and ``("a", "bc")`` never collide. Without
the key none of these can be recomputed from the originals (never a bare hash).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache


def keyed_digest(key: bytes, domain: str, *parts: str) -> bytes:
    msg = bytearray()
    for part in (domain, *parts):
        data = part.encode("utf-8")
        msg += len(data).to_bytes(4, "big") + data
    return hmac.new(key, bytes(msg), hashlib.sha256).digest()


@lru_cache(maxsize=65536)
def replacement_uid(key: bytes, uid: str) -> str:
    """``2.25.<128-bit integer>`` (PS3.5 B.2 UUID-derived form): at most 44 characters."""
    return "2.25." + str(int.from_bytes(keyed_digest(key, "uid", uid)[:16], "big"))


def _code(digest: bytes, length: int) -> str:
    return base64.b32encode(digest).decode("ascii")[:length]


def auto_subject_id(key: bytes, trial: str, site: str, patient_id: str) -> str:
    """A stable subject ID for a patient within a trial, e.g. ``SITE01-K7Q2M4XA``."""
    return f"{site}-{_code(keyed_digest(key, 'subject', trial, patient_id), 8)}"


def auto_session_id(key: bytes, trial: str, subject_id: str, study_uid: str) -> str:
    """A stable session label for a study, unique within the trial: ``<subject>-<6 chars>``."""
    return f"{subject_id}-{_code(keyed_digest(key, 'session', trial, study_uid), 6)}"


def date_shift_days(key: bytes, trial: str, patient_id: str) -> int:
    """A per-subject shift between -3650 and -30 days (never zero, never forward)."""
    value = int.from_bytes(keyed_digest(key, "dateshift", trial, patient_id)[:4], "big")
    return -(30 + value % 3621)
