"""D: replace with a non-identifying dummy value of the same VR (a date may be shifted instead)."""
from __future__ import annotations

from ..dates import shift_value
from ..rawvalues import raw_ascii_values, set_raw_text
from ..values import DUMMIES

__all__ = ["DUMMIES", "Dummy"]


class Dummy:
    code = "D"

    def __call__(self, ds, tag, vr, ctx) -> None:
        values = raw_ascii_values(ds, tag, vr)
        if values is not None:
            if values:
                if vr in ("DA", "DT") and ctx.shift_days is not None:
                    set_raw_text(ds, tag, vr, shift_value(values, vr, ctx.shift_days))
                else:
                    set_raw_text(ds, tag, vr, str(DUMMIES.get(vr, "")))
                ctx.counts[self.code] += 1
            return
        elem = ds[tag]
        if vr == "SQ":  # a dummy sequence: the same items, themselves anonymised
            for item in elem.value:
                ctx.walk(item, ctx)
        elif elem.value in (None, "", b"") or elem.VM == 0:
            pass  # nothing to hide, and an empty value stays valid where it was
        elif vr in ("DA", "DT") and ctx.shift_days is not None:
            elem.value = shift_value(elem.value, vr, ctx.shift_days)
        elif vr in DUMMIES:
            elem.value = DUMMIES[vr]
        else:
            elem.value = b""
        ctx.counts[self.code] += 1

    def describe(self) -> str:
        return "D: replace with a dummy value of the same VR (dates shifted when dates are kept modified)"
