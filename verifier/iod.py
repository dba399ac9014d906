"""The ``iod`` check: an output holds only public elements its IOD defines (PS3.3), at their position.

The verifier's own rule over the shared table (:mod:`sdu.standard.iod`, like Annex E through
:mod:`sdu.standard.annex_e`); nothing here comes from the anonymiser. A public element is a
finding when the object's IOD (modules and macros, nested paths included) has no such attribute
at that position, when its tag is unknown, or when the VR it is written with is not the data
dictionary's (explicit VR files; UN is allowed: readers re-read it with the dictionary's VR).
Not judged: private elements (the private check), group lengths, file meta, and the top-level
elements a de-identifier writes (Clinical Trial modules, the de-identification record).

A file whose De-identification Method (0012,0063) carries the keep declaration (SDU's
``--keep-non-iod``) was anonymised with non-IOD elements kept on purpose: it is not checked.
A SOP class the table does not know is judged against the common modules (the table's fallback).
"""
from __future__ import annotations

from sdu.standard import iod as table

from . import dictionary

Tree = table.Tree

__all__ = ["declares_kept", "problem", "tree_for"]


def declares_kept(method) -> bool:
    """True when a De-identification Method value (str, list or None) is the keep declaration."""
    if method is None:
        return False
    values = [method] if isinstance(method, (str, bytes)) else list(method)
    wanted = table.keep_declaration()
    return any(str(v).strip() == wanted for v in values)


def tree_for(sop_class_uid: str) -> Tree:
    return table.tree_for(str(sop_class_uid or ""))[0]


@table.per_tree
def problem(tree: Tree, tag: int, wire_vr: str | None, top: bool) -> tuple[str | None, Tree | None]:
    """(what is wrong, or None; the tree for the element's items, None: not judged below)."""
    if top and table.top_level_kept(tag):
        return None, None
    sub = table.child(tree, tag)
    if sub is None:
        if table.dictionary_vrs(tag) is None and not _known(tag):
            return "unknown public tag (not in the data dictionary)", None
        return "not defined by this object's IOD at this position", None
    if wire_vr and wire_vr != "UN":
        vrs = table.dictionary_vrs(tag)
        if vrs is not None and "UN" not in vrs and wire_vr not in vrs:
            return f"written with VR {wire_vr}, the data dictionary gives {' or '.join(sorted(vrs))}", None
    return None, sub


def _known(tag: int) -> bool:
    return dictionary.has_tag(tag) or dictionary.repeater_has_tag(tag)
