"""Reading and writing one element as DicomEdit sees it: a string, values joined by ``\\``."""
from __future__ import annotations

from pydicom.datadict import dictionary_VR, keyword_for_tag, private_dictionary_VR
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from .tagpath import fmt_tag

#: VRs whose value is one piece of text (a backslash is a character, not a value separator).
TEXT_VRS = {"LT", "ST", "UT", "UR"}
INT_VRS = {"US", "SS", "UL", "SL", "UV", "SV"}
FLOAT_VRS = {"FL", "FD"}
BINARY_VRS = {"OB", "OW", "OD", "OF", "OL", "OV"}


class ValueTypeError(ValueError):
    """A value that cannot be stored in an element of that VR (message names the tag, not the value)."""


def _scalar(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(v)
    return str(v)


def element_str(ds: Dataset, tag: int) -> str | None:
    """The element's value as one string (``None`` when absent or a sequence)."""
    if tag not in ds:
        return None
    elem = ds[tag]
    if elem.VR == "SQ":
        return None
    value = elem.value
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1").rstrip("\0 ")
    if isinstance(value, (MultiValue, list, tuple)):
        return "\\".join(_scalar(v) for v in value)
    return _scalar(value)


def keyword(ds: Dataset, tag: int) -> str:
    """Dictionary keyword; private elements are named by their creator block."""
    if tag >> 16 & 1:
        if (tag & 0xFFFF) <= 0xFF:
            return "PrivateCreator" if (tag & 0xFFFF) >= 0x10 else "PrivateGroupLength"
        return "Private"
    return keyword_for_tag(tag) or ""


def _vr_for(ds: Dataset, tag: int) -> str:
    if tag in ds:
        vr = ds[tag].VR
        return vr
    if tag >> 16 & 1:
        if (tag & 0xFFFF) <= 0xFF:
            return "LO"
        creator_tag = (tag & 0xFFFF0000) | ((tag >> 8) & 0xFF)
        creator = ds[creator_tag].value if creator_tag in ds else None
        try:
            return private_dictionary_VR(tag, creator) if creator else "LO"
        except KeyError:
            return "LO"
    try:
        vr = dictionary_VR(tag)
    except KeyError:
        return "UN"
    return vr.split(" or ")[0]


def _convert(vr: str, text: str, tag: int):
    if text == "":
        return None if vr in INT_VRS | FLOAT_VRS | BINARY_VRS | {"UN", "AT", "SQ"} else ""
    if vr in TEXT_VRS:
        return text
    parts = text.split("\\")
    try:
        if vr in INT_VRS:
            nums = [int(p.strip()) for p in parts]
        elif vr in FLOAT_VRS:
            nums = [float(p.strip()) for p in parts]
        else:
            nums = None
    except ValueError:
        raise ValueTypeError(f"{fmt_tag(tag)} has VR {vr}: the value assigned is not a number") from None
    if nums is not None:
        return nums[0] if len(nums) == 1 else nums
    if vr in BINARY_VRS or vr == "UN":
        data = text.encode("latin-1", errors="replace")
        return data + b"\0" if len(data) % 2 else data
    if vr == "SQ":
        raise ValueTypeError(f"{fmt_tag(tag)} is a sequence: a string cannot be assigned to it")
    return text  # pydicom splits multi-valued strings on '\\' itself


def write(ds: Dataset, tag: int, text: str) -> None:
    """Store ``text`` in ``ds[tag]``, creating the element with its dictionary VR if needed."""
    vr = _vr_for(ds, tag)
    value = _convert(vr, text, tag)
    if tag in ds:
        ds[tag].value = value
    else:
        ds.add_new(tag, vr, value)
