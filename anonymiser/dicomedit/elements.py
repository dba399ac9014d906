"""Reading and writing one element as DicomEdit sees it: a string, values joined by ``\\``."""
from __future__ import annotations

import math
import struct

from pydicom.datadict import dictionary_VR, keyword_for_tag, private_dictionary_VR
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from .tagpath import fmt_tag

#: VRs whose value is one piece of text (a backslash is a character, not a value separator).
TEXT_VRS = {"LT", "ST", "UT", "UR"}
INT_VRS = {"US", "SS", "UL", "SL", "UV", "SV"}
FLOAT_VRS = {"FL", "FD"}
BINARY_VRS = {"OB", "OW", "OD", "OF", "OL", "OV"}
#: VRs whose text the Specific Character Set (0008,0005) applies to.
CHARSET_VRS = {"SH", "LO", "ST", "LT", "UT", "PN", "UC"}


class ValueTypeError(ValueError):
    """A value that cannot be stored in an element of that VR (message names the tag, not the value)."""


def _scalar(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(v)
    return str(v)


def java_float_text(value: float, single: bool) -> str:
    """``Float.toString``/``Double.toString``: the shortest digits that read back as the same
    float (32-bit for FL), plain from 10^-3 to 10^7, else ``1.5E-4``; always a digit after the point."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if single:
        value = struct.unpack("<f", struct.pack("<f", value))[0]
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    for precision in range(1, 18):
        text = f"{value:.{precision - 1}e}"
        back = float(text)
        if single:
            back = struct.unpack("<f", struct.pack("<f", back))[0]
        if back == value:
            break
    mantissa, exponent = text.split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "").rstrip("0") or "0"
    exponent = int(exponent)
    if 1e-3 <= abs(value) < 1e7:
        if exponent >= 0:
            whole, frac = digits[:exponent + 1].ljust(exponent + 1, "0"), digits[exponent + 1:]
        else:
            whole, frac = "0", "0" * (-exponent - 1) + digits
        return f"{sign}{whole}.{frac or '0'}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def element_str(ds: Dataset, tag: int) -> str | None:
    """The element's value as one string (``None`` when absent or a sequence), as dcm4che 2
    gives it to the engine: OB as hex bytes ``00\\01``, OW as unsigned 16-bit numbers, AT as
    ``0020000D``, FL and FD as Java prints a float."""
    if tag not in ds:
        return None
    if tag in getattr(ds, "_sdu_raw_written", ()):  # bytes this run wrote: read them as text
        raw = ds.get_item(tag)
        data = raw.value if isinstance(raw.value, (bytes, bytearray)) else None
        if data is not None:
            return bytes(data).decode("utf-8", errors="replace").rstrip("\0 ")
    elem = ds[tag]
    if elem.VR == "SQ":
        return None
    value = elem.value
    if value is None:
        return ""
    if elem.VR in ("OB", "OW") and isinstance(value, (bytes, bytearray)):
        data = bytes(value)
        if elem.VR == "OB":
            return "\\".join(f"{b:02X}" for b in data)
        return "\\".join(str(v) for v in struct.unpack(f"<{len(data) // 2}H", data[:len(data) // 2 * 2]))
    if elem.VR == "AT":
        tags = value if isinstance(value, (MultiValue, list, tuple)) else [value]
        return "\\".join(f"{int(t):08X}" for t in tags)
    if elem.VR in ("FL", "FD"):
        floats = value if isinstance(value, (MultiValue, list, tuple)) else [value]
        return "\\".join(java_float_text(float(v), elem.VR == "FL") for v in floats)
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


# bits kept, signed, bits Java parses the text into (int for 16-bit VRs, long for 32-bit VRs)
_WRAP = {"US": (16, False, 32), "SS": (16, True, 32), "UL": (32, False, 64), "SL": (32, True, 64)}


def _java_int(text: str, parse_bits: int = 32) -> int:
    value = int(text.strip())
    if not -(1 << (parse_bits - 1)) <= value < (1 << (parse_bits - 1)):
        raise ValueError("out of Java's int/long range")
    return value


def _wrap(value: int, bits: int, signed: bool) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if signed and value >> (bits - 1) else value


def _convert(vr: str, text: str, tag: int):
    if text == "":
        return None if vr in INT_VRS | FLOAT_VRS | BINARY_VRS | {"UN", "AT", "SQ"} else ""
    if vr in TEXT_VRS:
        return text
    parts = text.split("\\")
    if vr == "AT":  # XNAT writes an AT value as eight hex digits: "00209056"
        try:
            tags = [int(p.strip(), 16) for p in parts]
        except ValueError:
            raise ValueTypeError(f"{fmt_tag(tag)} has VR AT: the value assigned is not a tag (gggg eeee as 8 hex digits)") from None
        return tags[0] if len(tags) == 1 else tags
    try:
        if vr in _WRAP:  # Java parses an int/long and keeps the low bits (US "70000" is 4464, "-1" is 65535)
            bits, signed, parse_bits = _WRAP[vr]
            nums = [_wrap(_java_int(p, parse_bits), bits, signed) for p in parts]
        elif vr in INT_VRS:
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


def write(ds: Dataset, tag: int, text: str, default_charset: bool = False) -> None:
    """Store ``text`` in ``ds[tag]``, creating the element with its dictionary VR if needed.

    As XNAT (dcm4che 2) does: a new private data element has no dictionary VR and is written as
    UN holding the text's bytes; DS and IS keep whatever text they are given.
    """
    if tag >> 16 & 1 and (tag & 0xFFFF) > 0xFF and (tag not in ds or _is_raw(ds, tag)):
        # dcm4che 2 puts the text's bytes under the VR of its private dictionary (UN when unknown)
        data = text.encode("utf-8")
        _store_raw(ds, tag, _private_vr(ds, tag), data + b"\0" if len(data) % 2 else data)
        return
    vr = _vr_for(ds, tag)
    if not text.isascii() and vr not in INT_VRS | FLOAT_VRS | BINARY_VRS | {"UN", "AT", "SQ"} \
            and (default_charset or vr not in CHARSET_VRS):
        # XNAT (dcm4che 2) writes non-ASCII text as UTF-8 bytes in a VR the Specific Character Set
        # does not cover (DA, CS, UI, ...) and in any VR of a file that declares no character set
        data = text.encode("utf-8")
        _store_raw(ds, tag, vr, data + (b"\0" if vr == "UI" else b" ") if len(data) % 2 else data)
        return
    if vr in ("DS", "IS") and text != "":
        try:
            _check_number(vr, text)
        except ValueError:
            _store_raw(ds, tag, vr, text)
            return
    value = _convert(vr, text, tag)
    if tag in ds:
        ds[tag].value = value
    else:
        ds.add_new(tag, vr, value)


def _check_number(vr: str, text: str) -> None:
    for part in text.split("\\"):
        float(part) if vr == "DS" else int(part)


def _is_raw(ds: Dataset, tag: int) -> bool:
    from pydicom.dataelem import RawDataElement
    return tag in getattr(ds, "_sdu_raw_written", ()) and isinstance(ds.get_item(tag), RawDataElement)


def _private_vr(ds: Dataset, tag: int) -> str:
    creator_tag = (tag & 0xFFFF0000) | ((tag >> 8) & 0xFF)
    creator = ds[creator_tag].value if creator_tag in ds else None
    try:
        return private_dictionary_VR(tag, creator).split(" or ")[0] if creator else "UN"
    except KeyError:
        return "UN"


def _store_raw(ds: Dataset, tag: int, vr: str, text) -> None:
    """Bytes stored as they are: text that is no number in a DS/IS element (XNAT keeps it) and new
    private elements (XNAT writes the text's bytes whatever the VR)."""
    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag
    data = text if isinstance(text, bytes) else text.encode("latin-1", errors="replace")
    if len(data) % 2:
        data += b" "
    ds._dict[Tag(tag)] = RawDataElement(Tag(tag), vr, len(data), data, 0, False, True)
    written = getattr(ds, "_sdu_raw_written", None)
    if written is None:
        written = set()
        object.__setattr__(ds, "_sdu_raw_written", written)
    written.add(tag)
