"""U: replace a UID by its keyed replacement, consistently across every file of the site.

UIDs of the standard (``1.2.840.10008.*``: SOP classes, transfer syntaxes, DICOM's coding
schemes) and values of class-type attributes (SOP Class UID, Coding Scheme UID, ...) are
never replaced: they identify a kind of thing, not a patient's object.
"""
from __future__ import annotations

from ..rawvalues import raw_ascii_values, set_raw_text
from ..values import STANDARD_ROOT, class_uid_tags, is_well_known, replace_uid

__all__ = ["ReplaceUID", "STANDARD_ROOT", "class_uid_tags", "is_well_known"]


class ReplaceUID:
    code = "U"

    def __call__(self, ds, tag, vr, ctx) -> None:
        if vr == "SQ":  # X/Z/U*: a reference sequence keeps its items, their UIDs replaced
            for item in ds[tag].value:
                ctx.walk(item, ctx)
            return
        if vr != "UI" or int(tag) in class_uid_tags():
            return
        values = raw_ascii_values(ds, tag, vr)
        if values is not None:
            if values:
                set_raw_text(ds, tag, vr, [self.replace(v, ctx) for v in values])
                ctx.counts[self.code] += 1
            return
        elem = ds[tag]
        if elem.value in (None, ""):
            return
        if elem.VM > 1:
            elem.value = [self.replace(str(v), ctx) for v in elem.value]
        else:
            elem.value = self.replace(str(elem.value), ctx)
        ctx.counts[self.code] += 1

    replace = staticmethod(replace_uid)

    def describe(self) -> str:
        return "U: replace by a keyed UID (2.25.<HMAC>), the same in every file; standard UIDs kept"
