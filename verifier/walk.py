"""Visiting a dataset's elements at every depth without converting their values.

pydicom keeps freshly read elements as raw bytes until touched; converting every element of a
512x512 CT (or every contour point of an RTSTRUCT) is what makes naive verifiers slow. Here only
sequences are converted (to reach their items). Each :class:`Node` knows its tag path, keyword path
and, when pydicom kept it, the absolute byte offset of its value in the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Iterator

from .dictionary import dictionary_vr, keyword_for_tag

if TYPE_CHECKING:
    from pydicom.dataset import Dataset


def _raw_type() -> type:
    """pydicom's RawDataElement: only data sets read by pydicom reach the functions that need it."""
    from pydicom.dataelem import RawDataElement
    return RawDataElement


@lru_cache(maxsize=8192)
def tag_str(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


@lru_cache(maxsize=8192)
def _keyword(tag: int) -> str:
    return "" if is_private(tag) else (keyword_for_tag(tag) or "")


@lru_cache(maxsize=8192)
def _dictionary_vr(tag: int) -> str:
    try:
        return dictionary_vr(tag)
    except KeyError:
        return "UN"


def is_private(tag: int) -> bool:
    return bool((tag >> 16) & 1)


@dataclass(frozen=True)
class Node:
    tag: int
    vr: str
    elem: object            # RawDataElement (usually) or DataElement
    offset: int | None      # absolute offset of the value in the file, when known
    tag_path: str
    keyword_path: str

    @property
    def keyword(self) -> str:
        return _keyword(self.tag)

    @property
    def length(self) -> int:
        if isinstance(self.elem, _raw_type()):
            return self.elem.length if self.elem.length != 0xFFFFFFFF else -1
        return len(self.value_bytes())

    def value_bytes(self) -> bytes:
        """The value as stored (raw bytes), or its text form for an already converted element."""
        if isinstance(self.elem, _raw_type()):
            return self.elem.value or b""
        value = self.elem.value
        if value is None:
            return b""
        if isinstance(value, (bytes, bytearray)):
            return bytes(value)
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            return "\\".join(str(v) for v in value).encode("utf-8", "replace")
        return str(value).encode("utf-8", "replace")

    def has_value(self) -> bool:
        return bool(self.value_bytes().strip(b" \x00"))

    def text_values(self) -> list[str]:
        """Values as text (UI/string VRs), split on backslash: decoded from raw bytes, no conversion."""
        return [v for v in self.value_bytes().decode("latin-1").strip(" \x00").split("\\") if v.strip(" \x00")]


def element_vr(tag: int, elem) -> str:
    vr = getattr(elem, "VR", None)
    if vr:
        return vr
    if is_private(tag):
        return "UN"
    return _dictionary_vr(tag)


def nodes(ds: Dataset, base: int | None = 0, tag_prefix: str = "", kw_prefix: str = "") -> Iterator[Node]:
    """The elements of one dataset level (not their items), in file order."""
    raw_type = _raw_type()
    for tag, elem in list(ds._dict.items()):  # raw as read, or as converted: never converted here
        tag = int(tag)
        offset = None
        if base is not None and isinstance(elem, raw_type) and elem.value_tell is not None:
            offset = base + elem.value_tell
        name = _keyword(tag) or tag_str(tag)
        yield Node(tag, element_vr(tag, elem), elem, offset, tag_prefix + tag_str(tag), kw_prefix + name)


def items(ds: Dataset, node: Node) -> Iterator[tuple[Dataset, int | None, str, str]]:
    """(item, base offset for its elements, tag prefix, keyword prefix) for each item of a sequence node."""
    seq = ds[node.tag].value  # converts this sequence only; its items' elements stay raw
    from pydicom.dataset import Dataset
    for i, item in enumerate(seq or ()):
        if isinstance(item, Dataset):
            yield item, node.offset, f"{node.tag_path}[{i}]/", f"{node.keyword_path}[{i}]."
