"""The profile walk: every element at every depth meets the action PS3.15 Table E.1-1 gives it.

The action for a tag is worked out once per option set (cached), so a CT slice costs a
dictionary look-up per element; values are converted only when an action touches them and
pixel data is never decoded. First, unless non-IOD elements are kept on request, an element the
object's IOD does not define at its position is removed (:mod:`.iod`). Elements the table does
not list are kept, except that UIDs are replaced (references follow by construction), person
names are emptied, dates are treated as the table treats dates, and free text is scrubbed of the
subject's identifying words.
"""
from __future__ import annotations

from functools import lru_cache

from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset

from . import iod
from .actions import Clean, Dummy, Empty, Keep, Private, Remove, ReplaceUID
from .actions.clean import TEXT_VRS
from .context import Context
from .plan import COMBINED, plan_for, repeating_action

__all__ = ["ACTIONS", "COMBINED", "describe", "element_vr", "plan_for", "walk"]

ACTIONS = {a.code: a for a in (Remove(), Empty(), Dummy(), Keep(), Clean(), ReplaceUID())}
PRIVATE = Private()


@lru_cache(maxsize=4096)
def _vr_from_dictionary(tag: int) -> str:
    try:
        return dictionary_VR(tag)
    except KeyError:
        return "UN"


def element_vr(ds: Dataset, tag) -> str:
    raw = ds._dict[tag]
    vr = raw.VR
    if vr is None or vr == "UN" and not (tag >> 16) & 1:
        vr = _vr_from_dictionary(tag)
    return vr.split(" or ")[0] if vr else "UN"


def walk(ds: Dataset, ctx: Context) -> None:
    """Anonymise ``ds`` in place (recursing into sequences through the actions)."""
    plan = plan_for(ctx.option_columns)
    tree = ctx.iod
    for tag in list(ds._dict):
        group = tag >> 16
        if group & 1:
            PRIVATE(ds, tag, "", ctx)
            continue
        if tag & 0xFFFF == 0 and group != 0x0002:
            del ds[tag]  # group lengths (retired) would be wrong after edits
            continue
        if tree is not None and group != 0x0002:
            keep, ctx.iod = iod.judge(tree, tag, ds._dict[tag].VR, tree is ctx.iod_root)
            if not keep:
                del ds[tag]
                ctx.counts[iod.CODE] += 1
                continue
        code = plan.get(tag) or repeating_action(tag, ctx.option_columns)
        vr = element_vr(ds, tag)
        if code is None:
            _unlisted(ds, tag, vr, ctx)
        else:
            ACTIONS[code](ds, tag, vr, ctx)
    ctx.iod = tree
    if ctx.safe_private:
        _drop_unused_creators(ds)


def _unlisted(ds: Dataset, tag, vr: str, ctx: Context) -> None:
    """An element the table does not list: kept, but never a way around the profile."""
    if vr == "SQ":
        ACTIONS["K"](ds, tag, vr, ctx)
    elif vr == "UI" and "rtnUIDsOpt" not in ctx.option_columns:
        ACTIONS["U"](ds, tag, vr, ctx)
    elif vr == "PN":
        ACTIONS["Z"](ds, tag, vr, ctx)
    elif vr in ("DA", "DT") and "rtnLongFullDatesOpt" not in ctx.option_columns:
        ACTIONS["C" if ctx.shift_days is not None else "D"](ds, tag, vr, ctx)  # dates follow the profile's dates
    elif vr in TEXT_VRS and ctx.scrub is not None:
        ACTIONS["C"](ds, tag, vr, ctx)


def _drop_unused_creators(ds: Dataset) -> None:
    private = [t for t in ds._dict if (t >> 16) & 1]
    used = {((t >> 16), (t & 0xFFFF) >> 8) for t in private if t & 0xFFFF >= 0x1000}
    for t in private:
        if 0x10 <= t & 0xFFFF <= 0xFF and ((t >> 16), t & 0xFFFF) not in used:
            del ds[t]


def describe() -> list[str]:
    """What each action does, for ``--what-if`` style listings and the README."""
    return [iod.describe()] + [a.describe() for a in ACTIONS.values()] + [PRIVATE.describe()]
