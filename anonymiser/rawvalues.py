"""Reading and replacing element values without pydicom's conversion, where that is safe.

An element the reader left raw (``RawDataElement``) can be judged and replaced from its bytes:
ASCII VRs (UI, DA, DT, TM, CS, AS, IS, DS) decode trivially, and a replaced value stays raw so
:mod:`.writer` copies it out as bytes. Anything else goes through pydicom as usual.
"""
from __future__ import annotations

from pydicom.dataelem import RawDataElement

from .values import ASCII_VRS



def raw_element(ds, tag) -> RawDataElement | None:
    elem = ds._dict[tag]
    return elem if type(elem) is RawDataElement and elem.length != 0xFFFFFFFF else None


def raw_ascii_values(ds, tag, vr: str) -> list[str] | None:
    """The values of a raw ASCII-VR element, or None when it is not raw (or not ASCII)."""
    raw = raw_element(ds, tag)
    if raw is None or vr not in ASCII_VRS:
        return None
    text = (raw.value or b"").decode("ascii", "replace").strip("\0 ")
    return [v.strip() for v in text.split("\\")] if text else []


def set_raw_text(ds, tag, vr: str, values: list[str] | str | None) -> None:
    """Store a new value as raw bytes (padded to even length as PS3.5 6.2 asks)."""
    raw = ds._dict[tag]
    if values is None:
        data = b""
    else:
        data = ("\\".join(values) if isinstance(values, list) else values).encode("ascii" if vr in ASCII_VRS else "utf-8")
    if len(data) % 2:
        data += b"\0" if vr == "UI" else b" "
    ds._dict[tag] = raw._replace(value=data, length=len(data))


def is_raw(ds, tag) -> bool:
    return raw_element(ds, tag) is not None
