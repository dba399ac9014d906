"""Values of elements found by :mod:`verifier.elements`, converted exactly as pydicom converts them.

Only the few values the checks need are converted, one at a time, with pydicom's own converter and
the data set's character set. Character sets other than the default, ISO_IR 100 and ISO_IR 192, and
a character set inside a sequence item, are declined (the caller falls back to pydicom).
"""
from __future__ import annotations

from typing import Any

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import RawDataElement, convert_raw_data_element, empty_value_for_VR
from pydicom.tag import BaseTag

from .elements import Declined, Parsed, find

CHARSET = 0x00080005
_SIMPLE_CHARSETS = frozenset({b"ISO_IR 100", b"ISO_IR 192"})


def encodings(data: bytes, parsed: Parsed) -> list[str] | str:
    """The top-level data set's character encodings, as pydicom would use them."""
    element = find(parsed.dataset, CHARSET)
    if element is None:
        return default_encoding
    raw = data[element[2]:element[2] + element[3]].strip(b" \x00")
    if raw not in _SIMPLE_CHARSETS:
        raise Declined
    return convert_encodings(raw.decode("ascii"))


def raw_value(data: bytes, element: tuple, implicit: bool) -> bytes | None:
    """The value as pydicom keeps it in its RawDataElement (None for some empty values)."""
    tag, vr, start, length, _ = element
    if length == 0:
        return empty_value_for_VR(None if implicit else vr, raw=True)
    return data[start:start + length]


#: pydicom's conversion of a single ASCII value (no backslash, no escape) of these VRs, spelled out:
#: UI (convert_UI, then UID() strips), CS (convert_string), SH and LO (convert_text).
_PLAIN = {"UI": lambda s: s.rstrip(" \x00").strip(), "CS": lambda s: s.rstrip(" \x00"),
          "SH": lambda s: s.rstrip("\x00 "), "LO": lambda s: s.rstrip("\x00 ")}


def converted(data: bytes, element: tuple, implicit: bool, encoding) -> Any:
    """The element's value as ``ds[tag].value`` gives it (public, non-sequence elements)."""
    tag, vr, start, length, _ = element
    plain = _PLAIN.get(vr)
    if plain is not None and length:
        raw = data[start:start + length]
        if raw.isascii() and b"\\" not in raw and b"\x1b" not in raw:
            return plain(raw.decode("ascii"))
    raw = RawDataElement(BaseTag(tag), None if implicit else vr, length, raw_value(data, element, implicit),
                         start, implicit, True)
    return convert_raw_data_element(raw, encoding=encoding).value


def text_values(raw: bytes | None) -> list[str]:
    """As :meth:`verifier.walk.Node.text_values` for a raw element."""
    return [v for v in (raw or b"").decode("latin-1").strip(" \x00").split("\\") if v.strip(" \x00")]
