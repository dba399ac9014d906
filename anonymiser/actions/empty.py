"""Z: replace with a zero-length value (a sequence loses its items)."""
from pydicom.sequence import Sequence

from ..rawvalues import is_raw, set_raw_text


class Empty:
    code = "Z"

    def __call__(self, ds, tag, vr, ctx) -> None:
        if vr != "SQ" and is_raw(ds, tag):
            set_raw_text(ds, tag, vr, None)
            ctx.counts[self.code] += 1
            return
        elem = ds[tag]
        elem.value = Sequence() if vr == "SQ" else (b"" if vr in ("OB", "OW", "UN", "OD", "OF", "OL", "OV") else None)
        ctx.counts[self.code] += 1

    def describe(self) -> str:
        return "Z: replace with a zero-length value"
