"""C: clean: keep the meaning, lose the identity.

Dates and times are shifted (Retain Longitudinal Temporal Information, Modified Dates); free
text keeps its words except identifying ones, which become ``XXXX``: the subject's identifiers
in every spelling and every person name of the batch (:mod:`..spellings`), and names found by
pattern (:mod:`..personnames`); a sequence's items are cleaned in turn. Free text about the
patient (:mod:`..patienttext`) is removed instead. A value with nothing to replace stays as it
came, unconverted.
"""
from __future__ import annotations

from ..dates import shift_value
from ..patienttext import PATIENT_TEXT_TAGS
from ..rawvalues import raw_ascii_values, raw_element, set_raw_text
from ..values import TEXT_VRS

__all__ = ["Clean", "TEXT_VRS", "scrub_text"]


def scrub_text(value, scrub):
    """``value`` (a string or a list of them) with the identifiers ``scrub`` finds replaced."""
    if scrub is None or value is None:
        return value
    if isinstance(value, str):
        return scrub.sub(value)
    return [scrub.sub(str(v)) for v in value]


def _same(old, new) -> bool:
    return old == new if isinstance(old, str) or old is None else list(map(str, old)) == new


class Clean:
    code = "C"

    def __call__(self, ds, tag, vr, ctx) -> None:
        if vr in TEXT_VRS:
            if tag in PATIENT_TEXT_TAGS:
                del ds[tag]
                ctx.counts["X"] += 1
                return
            ctx.counts[self.code] += 1
            if ctx.scrub is None:
                return
            raw = raw_element(ds, tag)
            elem = ds[tag]
            new = scrub_text(elem.value, ctx.scrub)
            if raw is not None and _same(elem.value, new):
                ds._dict[tag] = raw  # nothing to replace: stays as it came, unconverted
            else:
                elem.value = new
            return
        raw = raw_element(ds, tag)
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
        elif vr == "PN":
            elem.value = None
        ctx.counts[self.code] += 1

    def describe(self) -> str:
        return ("C: shift dates; replace identifiers in free text (every spelling of the subject's, every "
                "person name of the batch, names found by pattern); remove free text about the patient; "
                "clean sequence items")
