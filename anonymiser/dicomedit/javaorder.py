"""The order in which NRG's engine lists values it gathered in a ``java.util.HashMap``.

``collectValues`` (and everything built on the engine's ``asStrings``) puts each element a tag
path names into a ``HashMap<TagPath, String>`` keyed by the element's own path, then lists the
map's values: the order is the map's bucket order, which follows from mizer 1.8.10's
``TagPath.hashCode`` and the JDK's ``HashMap`` (table of 16 buckets doubled when 3/4 full, a
key's bucket ``(h ^ h >>> 16) & (size - 1)``, insertion order within a bucket; resizing keeps
that order). This module reproduces both, from their documented and decompiled behaviour:

- ``String.hashCode``: ``s[0]*31^(n-1) + ... + s[n-1]`` over UTF-16 code units, 32-bit.
- ``Objects.hash(a, b, ...)`` = ``Arrays.hashCode``: ``r = 1; r = 31*r + h(x)`` for each.
- a public tag ``TagPublic(int)``: ``Objects.hash(gggg, eeee, true)``, lowercase hex digits;
  a private one ``TagPrivate(int, creator)``: ``Objects.hash(gggg, eeee, true, creator)``, the
  creator ``"NULL"`` when the block has none; a sequence step ``TagSequence(tag, item)``:
  ``Objects.hash(tag, str(item), true)``; a path ``Objects.hash(tags)``.

A bin that would grow past eight entries in a table of 64 or more buckets becomes a tree in
the JDK, whose order this module does not follow; with these keys that needs hundreds of
values in one bucket chain and has not been seen on real files.
"""
from __future__ import annotations

_MASK = 0xFFFFFFFF
_TRUE = 1231  # Boolean.hashCode(true)


def _i32(v: int) -> int:
    v &= _MASK
    return v - (1 << 32) if v & 0x80000000 else v


def string_hash(text: str) -> int:
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & _MASK
    return _i32(h)


def objects_hash(*hashes: int) -> int:
    r = 1
    for h in hashes:
        r = (31 * r + h) & _MASK
    return _i32(r)


def tag_hash(tag: int, creator: str | None) -> int:
    """``TagPublic`` for an even group, ``TagPrivate``/``TagPrivateCreator`` for an odd one."""
    group, element = string_hash(f"{tag >> 16:04x}"), string_hash(f"{tag & 0xFFFF:04x}")
    if tag >> 16 & 1:
        return objects_hash(group, element, _TRUE, string_hash("NULL" if creator is None else creator))
    return objects_hash(group, element, _TRUE)


def path_hash(steps: list[tuple[int, str | None, int | None]]) -> int:
    """``steps``: ``(tag, creator, item)`` from the top down, ``item`` None for the element itself."""
    tags = []
    for tag, creator, item in steps:
        h = tag_hash(tag, creator)
        tags.append(h if item is None else objects_hash(h, string_hash(str(item)), _TRUE))
    return objects_hash(objects_hash(*tags))  # Objects.hash(list) = 31 + list.hashCode()


def hashmap_order(hashes: list[int]) -> list[int]:
    """Indices of distinct keys (given by hash, in insertion order) in HashMap iteration order."""
    capacity, count = 16, 0
    bins: dict[int, int] = {}
    for h in hashes:
        spread = (h & _MASK) ^ ((h & _MASK) >> 16)
        count += 1
        index = spread & (capacity - 1)
        bins[index] = bins.get(index, 0) + 1
        if bins[index] > 8 and capacity < 64:  # treeifyBin on a small table resizes instead
            capacity *= 2
            bins = _recount(hashes[:count], capacity)
        if count > capacity * 3 // 4:
            capacity *= 2
            bins = _recount(hashes[:count], capacity)
    spread = [((h & _MASK) ^ ((h & _MASK) >> 16)) & (capacity - 1) for h in hashes]
    return sorted(range(len(hashes)), key=lambda i: (spread[i], i))


def _recount(hashes: list[int], capacity: int) -> dict[int, int]:
    bins: dict[int, int] = {}
    for h in hashes:
        index = ((h & _MASK) ^ ((h & _MASK) >> 16)) & (capacity - 1)
        bins[index] = bins.get(index, 0) + 1
    return bins
