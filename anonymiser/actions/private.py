"""Private elements: removed, unless Retain Safe Private keeps an element on the safe list."""
from __future__ import annotations

from ..values import safe_private_list

__all__ = ["Private", "safe_private_list"]


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
