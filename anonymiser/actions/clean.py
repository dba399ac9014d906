"""C: clean: keep the meaning, lose the identity.

Dates and times are shifted (Retain Longitudinal Temporal Information, Modified Dates); free
text keeps its words except this subject's identifying ones (names of patient and staff,
IDs, accession, birth date), which become ``XXXX``; a sequence's items are cleaned in turn.
"""
from __future__ import annotations

from ..dates import shift_value
from ..rawvalues import raw_ascii_values, raw_element, set_raw_text
from ..values import TEXT_VRS

__all__ = ["Clean", "TEXT_VRS", "scrub_text"]



def scrub_text(value, pattern):
    if pattern is None or value is None:
        return value
    if isinstance(value, str):
        return pattern.sub("XXXX", value)
    return [pattern.sub("XXXX", str(v)) for v in value]


class Clean:
    code = "C"

    def __call__(self, ds, tag, vr, ctx) -> None:
        raw = raw_element(ds, tag)
        if raw is not None and vr in TEXT_VRS and (ctx.scrub is None or not ctx.scrub_bytes.search(raw.value or b"")):
            ctx.counts[self.code] += 1
            return  # nothing of this subject's in it: stays as it came, unconverted
        if raw is not None and vr in ("DA", "DT"):
            if ctx.shift_days is not None:
                values = raw_ascii_values(ds, tag, vr)
                set_raw_text(ds, tag, vr, shift_value(values, vr, ctx.shift_days) if values else None)
            ctx.counts[self.code] += 1
            return
        elem = ds[tag]
        if vr == "SQ":
            for item in elem.value:
                ctx.walk(item, ctx)
        elif vr in ("DA", "DT"):
            if ctx.shift_days is not None:
                elem.value = shift_value(elem.value, vr, ctx.shift_days)
        elif vr in TEXT_VRS:
            elem.value = scrub_text(elem.value, ctx.scrub)
        elif vr == "PN":
            elem.value = None
        ctx.counts[self.code] += 1

    def describe(self) -> str:
        return "C: shift dates, scrub the subject's identifying words from text, clean sequence items"
