"""Keyed pseudonyms: deterministic under one key, unrelated under another, never a bare hash."""
import hashlib
import re

from anonymiser.pseudonyms import auto_session_id, auto_subject_id, date_shift_days, replacement_uid

KEY, OTHER = b"k" * 32, b"o" * 32
UID = "1.2.826.0.1.3680043.2.1125.1.123"


def test_uid_replacement_is_deterministic_valid_and_keyed():
    new = replacement_uid(KEY, UID)
    assert new == replacement_uid(KEY, UID)
    assert new != replacement_uid(OTHER, UID)
    assert re.fullmatch(r"2\.25\.(0|[1-9][0-9]*)", new) and len(new) <= 64
    assert replacement_uid(KEY, UID + "1") != new


def test_subject_id_is_not_a_bare_hash_of_the_patient_id():
    sid = auto_subject_id(KEY, "TRIAL", "SITE", "PID123")
    assert sid.startswith("SITE-") and sid == auto_subject_id(KEY, "TRIAL", "SITE", "PID123")
    assert sid != auto_subject_id(OTHER, "TRIAL", "SITE", "PID123")
    assert sid != auto_subject_id(KEY, "OTHERTRIAL", "SITE", "PID123")
    bare = hashlib.sha256(b"PID123").hexdigest().upper()
    assert sid.split("-")[1] not in bare


def test_inputs_are_unambiguous():
    # ("AB", "C") and ("A", "BC") must not collide
    assert auto_session_id(KEY, "T", "AB", "C") != auto_session_id(KEY, "T", "A", "BC")


def test_date_shift_is_per_subject_negative_and_stable():
    shifts = {date_shift_days(KEY, "T", f"P{i}") for i in range(50)}
    assert all(-3650 <= s <= -30 for s in shifts)
    assert len(shifts) > 40
    assert date_shift_days(KEY, "T", "P1") == date_shift_days(KEY, "T", "P1")
