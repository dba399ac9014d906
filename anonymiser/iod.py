"""Keep only what the object's IOD defines (PS3.3), the trial default.

Before the profile acts on a public element, the walk asks :func:`judge`: is the element part of
the object's IOD at this position (its modules and macros, nested paths included, per
:mod:`sdu.standard.iod`), is its tag known, and is the VR it was written with the data
dictionary's? If not, the element is removed and counted under :data:`CODE`. So an element
nobody reviewed (a public tag from another module, a new hiding place, a value written under a
wrong VR) never reaches the trial with only a scrub.

Left alone: private elements (the profile removes them), group lengths, file meta, and the
top-level elements SDU writes after the walk (Clinical Trial modules, the de-identification
record). An object whose SOP class the table does not know is judged against the common
modules only (patient, study, series, equipment, frame of reference, SOP common, clinical
trial, general image and pixel modules) and counted under :data:`FALLBACK`.

Both walks use this module: the Dataset walk (:mod:`.engine`) and the byte walk (:mod:`.fastpath`).
"""
from __future__ import annotations

from sdu.standard import iod

from .context import Context

#: Report code: elements removed because the IOD does not define them there (or VR/tag wrong).
CODE = "IOD"
#: Report code: 1 when the file's SOP class has no IOD in the table (common modules used).
FALLBACK = "IOD-fallback"

Tree = iod.Tree


def start(ctx: Context, sop_class_uid: str, keep_non_iod: bool) -> None:
    """Put the IOD rule for a dataset of ``sop_class_uid`` into ``ctx`` (nothing when kept)."""
    if keep_non_iod:
        ctx.iod = ctx.iod_root = None
        return
    tree, known = iod.tree_for(sop_class_uid)
    ctx.iod = ctx.iod_root = tree
    if not known:
        ctx.counts[FALLBACK] = 1


@iod.per_tree
def judge(tree: Tree, tag: int, wire_vr: str | None, top: bool) -> tuple[bool, Tree | None]:
    """(keep?, the tree for the element's items) for a public element at the level ``tree``
    describes. ``wire_vr`` is the VR the file wrote (None for implicit VR: the dictionary's).
    A child tree of None means no IOD rule below (an element SDU writes itself)."""
    if top and iod.top_level_kept(tag):
        return True, None
    sub = iod.child(tree, tag)
    if sub is None:
        return False, None
    if wire_vr and wire_vr != "UN":  # UN: the reader re-reads the value with the dictionary's VR
        vrs = iod.dictionary_vrs(tag)
        if vrs is not None and wire_vr not in vrs and "UN" not in vrs:
            return False, None
    return True, sub


def describe() -> str:
    return (f"{CODE}: remove public elements the object's IOD (PS3.3) does not define at their position, "
            "unknown public tags and values written with a wrong VR (trial default; --keep-non-iod keeps them)")
