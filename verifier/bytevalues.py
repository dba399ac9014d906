"""Values of elements found by :mod:`verifier.elements`, converted exactly as pydicom converts them.

Only the few values the checks need are converted, one at a time. The text VRs in the character
sets read here (the default, ISO_IR 100, ISO_IR 192) are converted as pydicom's converters do
(``pydicom.values``: the same decoding, splitting and stripping), without importing pydicom;
anything else (a number VR, an escape sequence, bytes the character set cannot decode, a value
pydicom would split or type differently) goes to pydicom's own converter, imported then.
``tests/verifier/test_verifier_byte_values.py`` compares the two over every VR and odd value.
Character sets other than those three, and a character set inside a sequence item, are declined
(the caller falls back to pydicom).
"""
from __future__ import annotations

from typing import Any

from .elements import Declined, Parsed, find

CHARSET = 0x00080005
#: pydicom's ``default_encoding`` and its ``convert_encodings`` of the character sets read here.
DEFAULT_ENCODING = "iso8859"
_SIMPLE_CHARSETS = {b"ISO_IR 100": "latin_1", b"ISO_IR 192": "UTF8"}
#: String VRs pydicom decodes with its default encoding whatever the character set (convert_string,
#: convert_AE_string, convert_UI, convert_UR_string), and those decoded in the data set's (convert_text,
#: convert_single_string, convert_PN).
_DEFAULT_DECODED = frozenset({"AE", "AS", "CS", "DA", "DT", "TM", "UI", "UR"})
_SPLIT_TEXT = frozenset({"SH", "LO", "UC"})
_SINGLE_TEXT = frozenset({"ST", "LT", "UT"})
_TEXT = _DEFAULT_DECODED | _SPLIT_TEXT | _SINGLE_TEXT | {"PN"}
#: pydicom's empty raw value is b"" for these (STR_VR but DS and IS, PN, SQ), else None.
_EMPTY_RAW = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "LT", "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT", "SQ"})
_PYDICOM = object()  # the value needs pydicom's converter


def encodings(data: bytes, parsed: Parsed) -> list[str] | str:
    """The top-level data set's character encodings, as pydicom would use them."""
    element = find(parsed.dataset, CHARSET)
    if element is None:
        return DEFAULT_ENCODING
    raw = data[element[2]:element[2] + element[3]].strip(b" \x00")
    if raw not in _SIMPLE_CHARSETS:
        raise Declined
    return [_SIMPLE_CHARSETS[raw]]


def raw_value(data: bytes, element: tuple, implicit: bool) -> bytes | None:
    """The value as pydicom keeps it in its RawDataElement (None for some empty values)."""
    tag, vr, start, length, _ = element
    if length == 0:  # empty_value_for_VR(VR, raw=True); an implicit VR element has no VR yet
        return b"" if not implicit and vr in _EMPTY_RAW else None
    return data[start:start + length]


def _texts(raw: bytes, vr: str, encoding) -> list[str] | object:
    """``[str(v) for v in values]`` of a non-empty value of a text VR as pydicom converts it, or _PYDICOM."""
    if b"\x1b" in raw:
        return _PYDICOM  # ISO 2022 escapes: pydicom's decoder
    if vr in _DEFAULT_DECODED:
        text = raw.decode("latin-1")  # pydicom's default encoding: any byte decodes
        if vr == "UR":  # convert_UR_string; a backslash would be split by DataElement
            return _PYDICOM if "\\" in text else [text.rstrip()]
        if vr == "AE":
            return [v.strip() for v in text.split("\\")]
        text = text.rstrip(" \x00")  # multi_string (convert_UI strips first too)
        if "\\" not in text:  # one value (an RTSTRUCT holds thousands of single UIDs)
            return [text.strip() if vr == "UI" else text]
        values = text.split("\\")
        return [v.strip() for v in values] if vr == "UI" else values  # UID(v) strips
    name = encoding if isinstance(encoding, str) else encoding[0]
    try:
        if vr == "PN":
            if b"=" in raw:
                return _PYDICOM  # component groups: PersonName drops empty trailing ones
            values = raw.rstrip(b"\x00 ").decode(name).split("\\")
        else:
            text = raw.decode(name)
            values = [text.rstrip("\x00 ")] if vr in _SINGLE_TEXT else [v.rstrip("\x00 ") for v in text.split("\\")]
    except (UnicodeError, LookupError):
        return _PYDICOM  # pydicom decodes with replacement characters (and warns)
    return values  # a PersonName of one component group prints as the value it was built from


def _pydicom_value(data: bytes, element: tuple, implicit: bool, encoding) -> Any:
    from pydicom.dataelem import RawDataElement, convert_raw_data_element
    from pydicom.tag import BaseTag

    tag, vr, start, length, _ = element
    raw = RawDataElement(BaseTag(tag), None if implicit else vr, length, raw_value(data, element, implicit),
                         start, implicit, True)
    return convert_raw_data_element(raw, encoding=encoding).value


def converted(data: bytes, element: tuple, implicit: bool, encoding) -> Any:
    """The element's value as ``ds[tag].value`` gives it, or a str equal to it (public, non-sequence
    elements); a multi-valued text value comes from pydicom (its MultiValue prints differently)."""
    tag, vr, start, length, _ = element
    if vr in _TEXT:
        if not length:
            return ""  # empty_value_for_VR: "" (PN: an empty PersonName, which prints as "")
        values = _texts(data[start:start + length], vr, encoding)
        if values is not _PYDICOM and len(values) == 1:
            return values[0]
    return _pydicom_value(data, element, implicit, encoding)


def values(data: bytes, element: tuple, implicit: bool, encoding) -> list[str]:
    """``[str(v) for v in value]`` of the converted value (``[]`` for None): what the identifier
    collection needs, multi-valued names and IDs included, still without pydicom for text VRs."""
    tag, vr, start, length, _ = element
    if vr in _TEXT:
        if not length:
            return [""]
        found = _texts(data[start:start + length], vr, encoding)
        if found is not _PYDICOM:
            return found
    value = _pydicom_value(data, element, implicit, encoding)
    if value is None:
        return []
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return [str(v) for v in value]
    return [str(value)]


def text_values(raw: bytes | None) -> list[str]:
    """As :meth:`verifier.walk.Node.text_values` for a raw element."""
    return [v for v in (raw or b"").decode("latin-1").strip(" \x00").split("\\") if v.strip(" \x00")]
