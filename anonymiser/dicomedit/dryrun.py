"""A dry run: a script applied to a copy of a data set, every changed element listed.

The list comes from comparing the data set before and after (file meta included), not from the
interpreter's own record, so whatever the script touched shows: creators added by a read,
sequences created on the way, items emptied. Old values are the file's identifiable values:
this is a site-side tool, and the result says so.
"""
from __future__ import annotations

import copy

from pydicom.dataset import Dataset

from .elements import BINARY_VRS, element_str, keyword
from .model import ScriptContext

IDENTIFIABLE_NOTE = ("old values are the file's own, identifiable values: keep this output at the site "
                     "(it is never logged or sent)")
_SHOWN_BYTES = 64


def _value(ds: Dataset, tag: int):
    raw = ds.get_item(tag)
    if raw.VR == "SQ" or (raw.VR is None and isinstance(raw.value, list)):
        return f"<sequence of {len(ds[tag].value or [])} items>"
    try:
        elem = ds[tag]
    except Exception:  # bytes that do not fit the VR: show their size
        return f"<{len(raw.value or b'')} bytes>"
    if elem.VR == "SQ":
        return f"<sequence of {len(elem.value or [])} items>"
    if elem.VR in BINARY_VRS | {"UN"} and isinstance(elem.value, (bytes, bytearray)) and len(elem.value) > _SHOWN_BYTES:
        return f"<{len(elem.value)} bytes>"
    return element_str(ds, tag)


def _flatten(ds: Dataset, prefix: str, out: dict) -> None:
    for tag in [int(t) for t in ds.keys()]:
        path = f"{prefix}({tag >> 16:04X},{tag & 0xFFFF:04X})"
        raw = ds.get_item(tag)
        out[path] = (keyword(ds, tag), raw.VR if raw.VR is not None else ds[tag].VR, _value(ds, tag))
        if out[path][1] == "SQ":
            for i, item in enumerate(ds[tag].value or []):
                _flatten(item, f"{path}[{i}]/", out)


def snapshot(ds: Dataset) -> dict:
    """``{tag path: (keyword, VR, value as text)}``; file meta elements are prefixed ``meta``."""
    out: dict = {}
    _flatten(ds, "", out)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        meta_out: dict = {}
        _flatten(meta, "", meta_out)
        out.update({f"meta {k}": v for k, v in meta_out.items()})
    return out


def dry_run(script, ds: Dataset, context: ScriptContext | None = None) -> dict:
    """Apply ``script`` to a deep copy of ``ds``; ``ds`` itself is left as it was."""
    work = copy.deepcopy(ds)
    before = snapshot(work)
    changes = script.apply(work, context)
    after = snapshot(work)
    changed = []
    for path in sorted(set(before) | set(after), key=_order):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        entry = (new or old)
        changed.append({"path": path, "keyword": entry[0], "vr": str(entry[1]),
                        "old": None if old is None else old[2], "new": None if new is None else new[2]})
    return {"note": IDENTIFIABLE_NOTE, "changes": changed, "echoes": list(changes.echoes)}


def _order(path: str):
    return (path.startswith("meta "), path)
