"""Private elements: removed, unless Retain Safe Private keeps an element on the safe list."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files


@lru_cache(maxsize=1)
def safe_private_list() -> frozenset[tuple[str, int]]:
    """(creator, element byte) pairs from ``sdu/standard/data/safe_private.json`` (``xx27`` -> 0x27)."""
    doc = json.loads(files("sdu.standard").joinpath("data/safe_private.json").read_text())
    return frozenset((e["creator"].strip(), int(e["element"][-2:], 16)) for e in doc["elements"])


class Private:
    code = "X"

    def __call__(self, ds, tag, vr, ctx) -> None:
        if ctx.safe_private and tag.element >= 0x1000:
            creator_tag = (tag.group << 16) | (tag.element >> 8)
            creator = ds.get(creator_tag)
            if creator is not None and (str(creator.value).strip(), tag.element & 0xFF) in ctx.safe_private:
                return
        if ctx.safe_private and 0x0010 <= tag.element <= 0x00FF:
            return  # a creator: removed at the end of the walk if none of its elements stayed
        del ds[tag]
        ctx.counts["private"] += 1

    def describe(self) -> str:
        return "private elements: removed (Retain Safe Private keeps the safe list only)"
