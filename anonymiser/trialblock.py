"""The trial and de-identification elements as little-endian bytes, without pydicom.

The same elements :func:`anonymiser.trial.set_identity` and :func:`~anonymiser.trial.record_deidentification`
set, encoded as pydicom encodes them (a test compares the two): text in Latin-1 padded with a
space, the code sequence with defined lengths. A value outside Latin-1 is left to pydicom.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sdu import __version__
from sdu.standard import annex_e, iod

from .encoding import IMPLICIT, header



@dataclass(frozen=True)
class TrialIdentity:
    trial_id: str
    site_id: str
    subject_id: str
    session_id: str
    sponsor: str
    protocol_name: str = ""
    site_name: str = ""
    time_point: str = ""
    coordinating_center: str = ""
    #: Non-IOD elements were kept on request: De-identification Method says so (the verifier reads it).
    non_iod_kept: bool = False


def method_values(t: TrialIdentity, basic_meaning: str, chosen) -> list[str]:
    """De-identification Method (0012,0063): SDU and version, the profile and options chosen, and
    the keep declaration when non-IOD elements were kept."""
    values = [f"SDU {__version__}", basic_meaning[:64], *(o.meaning[:64] for o in chosen)]
    return values + [iod.keep_declaration()] if t.non_iod_kept else values


def _text(value: str | list[str]) -> bytes:
    data = ("\\".join(value) if isinstance(value, list) else value).encode("latin_1")
    return data + b" " if len(data) % 2 else data


def _element(tag: int, vr: str, data: bytes, implicit: bool) -> bytes:
    return header(tag, vr, len(data), implicit) + data


@lru_cache(maxsize=64)
def trial_block(t: TrialIdentity, options: frozenset, dates: str, implicit: bool) -> tuple[tuple[int, bytes], ...]:
    """(tag, encoded element) pairs for ``TrialIdentity`` ``t``; raises UnicodeEncodeError for a
    value outside Latin-1 (the caller then uses pydicom)."""
    basic_code, basic_meaning = annex_e.basic_profile_code()
    chosen = sorted(options, key=lambda o: o.code)
    study_id = t.session_id if len(t.session_id) <= 16 else t.session_id.rsplit("-", 1)[-1][-16:]
    values = [
        (0x00100010, "PN", t.subject_id), (0x00100020, "LO", t.subject_id),
        (0x00120010, "LO", t.sponsor), (0x00120020, "LO", t.trial_id), (0x00120021, "LO", t.protocol_name),
        (0x00120030, "LO", t.site_id), (0x00120031, "LO", t.site_name), (0x00120040, "LO", t.subject_id),
        *([(0x00120050, "LO", t.time_point)] if t.time_point else []),
        *([(0x00120060, "LO", t.coordinating_center)] if t.coordinating_center else []),
        (0x00120062, "CS", "YES"),
        (0x00120063, "LO", method_values(t, basic_meaning, chosen)),
        (0x00200010, "SH", study_id), (0x00280303, "CS", dates),
    ]
    out = [(tag, _element(tag, vr, _text(v), implicit)) for tag, vr, v in values]
    items = b""
    for code, meaning in [(basic_code, basic_meaning), *((o.code, o.meaning) for o in chosen)]:
        body = b"".join(_element(tag, vr, _text(v), implicit) for tag, vr, v in
                        ((0x00080100, "SH", code), (0x00080102, "SH", "DCM"), (0x00080104, "LO", meaning)))
        items += IMPLICIT(0xFFFE, 0xE000, len(body)) + body
    out.append((0x00120064, _element(0x00120064, "SQ", items, implicit)))
    return tuple(sorted(out))
