"""Tag paths: ``(0008,1115)[0]/(0020,000E)``, digit wildcards, private creators, depth wildcards.

A :class:`TagPath` is a tuple of steps. An element step has a :class:`TagPattern` (group and
element digits, each a hex digit, ``X`` any, ``#`` odd, ``@`` even; private elements may name
their block by creator: ``(0019,{SIEMENS MR HEADER}10)``) and an optional item selector (``[n]``
or ``[%]``; none means every item). Depth steps: ``*`` zero or more sequence levels, ``+`` one
or more, ``.`` exactly one, ``?`` zero or one.

Resolving a path against a dataset reads tags (dictionary keys) and sequence elements only:
other elements are not converted from their raw bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

_DIGITS = {c: frozenset([int(c, 16)]) for c in "0123456789abcdef"}
_DIGITS.update({c.upper(): v for c, v in _DIGITS.items()})
_DIGITS.update({"X": frozenset(range(16)), "x": frozenset(range(16)),
                "#": frozenset(range(1, 16, 2)), "@": frozenset(range(0, 16, 2))})
_TAG_TEXT = re.compile(r"\(\s*([0-9A-Fa-fXx#@]{4})\s*,\s*(?:\{([^}\n]*)\}\s*)?([0-9A-Fa-fXx#@]{2,4})\s*\)")
MAX_DEPTH = 32  # DICOM nesting deeper than this is treated as malformed


class PathError(ValueError):
    """A tag path that is not well formed (the parser turns it into a ScriptError)."""


@dataclass(frozen=True)
class TagPattern:
    group: str
    element: str  # 4 digits, or 2 digits when ``creator`` is set
    creator: str | None = None

    @classmethod
    def parse(cls, text: str) -> "TagPattern":
        m = _TAG_TEXT.fullmatch(text.strip())
        if not m:
            raise PathError("not a tag: expected (gggg,eeee)")  # never quote it: it may come from a DICOM value
        group, creator, element = m.group(1), m.group(2), m.group(3)
        if creator is not None:
            creator = creator.strip()
            if len(element) != 2:
                raise PathError("a private tag names its creator and two element digits: (gggg,{creator}ee)")
            if not creator:
                raise PathError("empty private creator")
            if 1 not in {d % 2 for d in _DIGITS[group[3]]}:
                raise PathError("a private creator needs an odd group")
        elif len(element) != 4:
            raise PathError("a tag has four element digits: (gggg,eeee)")
        last = group[3].upper()
        if last == "X":  # XNAT's lexer: the group's last digit says even (public) or odd (private)
            raise PathError("the last digit of a group is a digit, '#' (odd) or '@' (even), not 'X'")
        if creator is None and last in "13579BDF#":
            raise PathError("a private tag names its creator: (gggg,{CREATOR}ee)")
        if creator is not None and last not in "13579BDF#":
            raise PathError("a private creator needs an odd group")
        return cls(group.upper(), element.upper(), creator)

    @property
    def is_wild(self) -> bool:
        return any(c in "X#@" for c in self.group + self.element)

    @property
    def is_private(self) -> bool:
        return self.creator is not None or (not self.is_wild and int(self.group, 16) % 2 == 1)

    def __str__(self) -> str:
        mid = "{%s}" % self.creator if self.creator is not None else ""
        return f"({self.group},{mid}{self.element})"

    def _digits_match(self, pattern: str, value: int, width: int) -> bool:
        for i, c in enumerate(pattern):
            if (value >> (4 * (width - 1 - i))) & 0xF not in _DIGITS[c]:
                return False
        return True

    def group_matches(self, group: int) -> bool:
        return self._digits_match(self.group, group, 4)

    def matches_public(self, tag: int) -> bool:
        return self._digits_match(self.group + self.element, tag, 8)

    def find(self, ds: Dataset) -> list[int]:
        """Tags of ``ds`` this pattern names (no element values are read, except creators)."""
        if self.creator is None:
            if not self.is_wild:
                tag = int(self.group + self.element, 16)
                return [tag] if tag in ds else []
            return [t for t in ds.keys() if self.matches_public(int(t))]
        found = []
        for block, group in self._blocks(ds):
            for t in ds.keys():
                t = int(t)
                if t >> 16 == group and (t >> 8) & 0xFF == block and (t & 0xFFFF) > 0xFF \
                        and self._digits_match(self.element, t & 0xFF, 2):
                    found.append(t)
        return found

    def _blocks(self, ds: Dataset):
        for t in list(ds.keys()):
            t = int(t)
            group, elem = t >> 16, t & 0xFFFF
            if group % 2 == 1 and 0x10 <= elem <= 0xFF and self.group_matches(group):
                value = ds[t].value
                if isinstance(value, bytes):
                    value = value.decode("latin-1")
                if isinstance(value, str) and value.strip(" \0") == self.creator:
                    yield elem, group

    def concrete(self, ds: Dataset, create: bool = False) -> int | None:
        """The one tag this (wildcard-free) pattern names in ``ds``; creates a private block if asked."""
        if self.creator is None:
            return int(self.group + self.element, 16)
        group = int(self.group, 16)
        for block, g in self._blocks(ds):
            return (g << 16) | (block << 8) | int(self.element, 16)
        if not create:
            return None
        # dcm4che 2 reserves the first slot (gggg,0010..00FF) that is absent or holds an empty creator
        for slot in range(0x10, 0x100):
            tag = (group << 16) | slot
            if tag not in ds:
                ds.add_new(tag, "LO", self.creator)
                break
            value = ds[tag].value
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            if value is None or (isinstance(value, str) and not value.strip(" \0")):
                ds[tag].value = self.creator
                break
        else:
            raise PathError("no free private block left in the group")
        return (group << 16) | (slot << 8) | int(self.element, 16)


@dataclass(frozen=True)
class Step:
    """An element step (``pattern`` set, ``item`` None/int/'%') or a depth wildcard (``depth``)."""

    pattern: TagPattern | None = None
    item: int | str | None = None
    depth: str | None = None  # '*', '+', '.'

    def __str__(self) -> str:
        if self.depth:
            return self.depth
        return str(self.pattern) + ("" if self.item is None else f"[{self.item}]")


@dataclass(frozen=True)
class TagPath:
    steps: tuple

    def __str__(self) -> str:
        return "/".join(str(s) for s in self.steps)

    @property
    def is_singular(self) -> bool:
        """No wildcards of any kind: the path names at most one element per item chain."""
        return all(s.depth is None and not s.pattern.is_wild and s.item != "%" for s in self.steps)

    def without_depth(self) -> "TagPath":
        """The path without its depth wildcards: how XNAT 6.6.0 reads a path given to a function."""
        return TagPath(tuple(s for s in self.steps if s.depth is None))

    @property
    def last(self) -> Step:
        return self.steps[-1]

    @property
    def is_private(self) -> bool:
        return self.last.pattern.is_private

    def check(self) -> None:
        if not self.steps or self.last.depth is not None:
            # XNAT 6.6.0 takes "(3006,0020)/*" (and "-*" deletes every element); SDU refuses it
            raise PathError("a tag path ends with an element, not a wildcard (SDU refuses what XNAT would "
                            "read as every element below)")


@dataclass
class Target:
    """One element (``item`` None) or one sequence item a path resolved to."""

    container: Dataset
    tag: int
    path: str
    item: int | None = None


def fmt_tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def is_sequence(ds: Dataset, tag: int) -> bool:
    elem = ds.get_item(tag)
    if elem is None:
        return False
    vr = elem.VR
    if vr is None:
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            return False
    return vr == "SQ"


def child_items(ds: Dataset, prefix: str):
    """Every (item, path prefix) one sequence level below ``ds``."""
    for tag in list(ds.keys()):
        tag = int(tag)
        if is_sequence(ds, tag):
            for i, item in enumerate(ds[tag].value or []):
                yield item, f"{prefix}{fmt_tag(tag)}[{i}]/"


def _containers(ds: Dataset, pattern: TagPattern, root: bool):
    yield ds
    meta = getattr(ds, "file_meta", None) if root else None
    if meta is not None and pattern.group_matches(0x0002):
        yield meta


def resolve(ds: Dataset, path: TagPath) -> list[Target]:
    """Every existing element (or item) ``path`` names in ``ds``, each once, in dataset order."""
    out: list[Target] = []
    seen: set = set()
    _walk(ds, path.steps, 0, "", out, seen, 0)
    return out


def _walk(ds, steps, i, prefix, out, seen, depth):
    if depth > MAX_DEPTH:
        raise PathError("sequences nested deeper than %d levels" % MAX_DEPTH)
    step = steps[i]
    last = i == len(steps) - 1
    if step.depth is not None:
        if step.depth in "*?":  # zero levels
            _walk(ds, steps, i + 1, prefix, out, seen, depth)
        below = steps if step.depth != "+" else steps[:i] + (Step(depth="*"),) + steps[i + 1:]
        if step.depth == "+" and i > 0:  # XNAT 6.6.0: after a tag, '+' also takes zero levels
            _walk(ds, steps, i + 1, prefix, out, seen, depth)
        for item, sub in _levels(ds, prefix, steps, i):
            # '*' stays on this step one level down; '+' becomes '*' once a level is consumed
            _walk(item, below, i if step.depth in "*+" else i + 1, sub, out, seen, depth + 1)
        return
    for container in _containers(ds, step.pattern, depth == 0):
        for tag in step.pattern.find(container):
            here = prefix + fmt_tag(tag)
            if last:
                if step.item is None:
                    key = (id(container), tag, None)
                    if key not in seen:
                        seen.add(key)
                        out.append(Target(container, tag, here))
                    continue
            if not is_sequence(container, tag):
                continue
            items = container[tag].value or []
            indices = range(len(items)) if step.item in (None, "%") else \
                ([step.item] if step.item < len(items) else [])
            for n in indices:
                if last:
                    key = (id(container), tag, n)
                    if key not in seen:
                        seen.add(key)
                        out.append(Target(container, tag, f"{here}[{n}]", n))
                else:
                    _walk(items[n], steps, i + 1, f"{here}[{n}]/", out, seen, depth + 1)


def _levels(ds: Dataset, prefix: str, steps: tuple, i: int):
    """The items one level down; XNAT 6.6.0 reads a leading '+' as ``(?!NEXT)([^/]*/)*NEXT``,
    so the first sequence on the way must not itself match the step after the '+'."""
    if steps[i].depth != "+" or i > 0 or prefix or i + 1 >= len(steps) or steps[i + 1].depth is not None:
        yield from child_items(ds, prefix)
        return
    from .enginematch import creator_of, step_regex
    nxt = re.compile(step_regex(steps[i + 1], i + 1 == len(steps) - 1))
    for tag in list(ds.keys()):
        tag = int(tag)
        if not is_sequence(ds, tag):
            continue
        text = f"{tag >> 16:04x}{tag & 0xFFFF:04x}"
        if tag >> 16 & 1:
            creator = creator_of(ds, tag)
            text = f'{text[:4]}"{"NULL" if creator is None else creator}"{text[4:]}'
        for n, item in enumerate(ds[tag].value or []):
            if not nxt.match(f"{text}[{n}]/"):
                yield item, f"{prefix}{fmt_tag(tag)}[{n}]/"


def ensure(ds: Dataset, path: TagPath, create_leaf: bool = True) -> Target | None:
    """The element a wildcard-free path names, creating sequences, items and private blocks.

    With ``create_leaf=False`` (reading) the sequences and items on the way and an absent private
    creator are still created, as XNAT does, but ``None`` is returned when the element is absent.
    """
    container, prefix = ds, ""
    for step in path.steps[:-1]:
        tag = step.pattern.concrete(container, create=True)
        index = step.item if isinstance(step.item, int) else 0
        if tag not in container:
            container.add_new(tag, "SQ", Sequence())
        elif not is_sequence(container, tag):
            raise PathError(f"{fmt_tag(tag)} is not a sequence")
        seq = container[tag].value
        while len(seq) <= index:
            seq.append(Dataset())
        prefix += f"{fmt_tag(tag)}[{index}]/"
        container = seq[index]
    step = path.last
    if step.pattern.group_matches(0x0002) and not step.pattern.is_wild and getattr(ds, "file_meta", None) is not None \
            and container is ds:
        container = ds.file_meta
    tag = step.pattern.concrete(container, create=True)
    if not create_leaf and tag not in container:
        return None
    return Target(container, tag, prefix + fmt_tag(tag))
