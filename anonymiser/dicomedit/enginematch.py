"""Tag paths matched as NRG's engine matches them when it visits every element of a file.

The functions that gather values or edit elements wherever a path names them (``collectValues``,
``blankValues``, ``hashUIDList``, ``mapReferencedUIDs``, the date-shifting ones) visit each element
of the file, file meta included, and test its path against the tag path turned into a regular
expression (mizer 1.8.10 ``TagPath.isMatch``). Written from the engine's behaviour:

- an element's path text is each step's text joined by ``/``: ``gggg eeee`` as eight lowercase
  hex digits, a private element as ``gggg"CREATOR"eeee`` (``NULL`` when its block has no
  creator; a creator element names itself), a sequence step followed by ``[item]``;
- a tag pattern's regex gives each digit a character class (``X`` any, ``#`` odd, ``@`` even);
  a private one is ``gggg"CREATOR"`` then any two digits then its two element digits, so a
  creator element ``(gggg,00bb)`` matches when ``bb`` fits those digits;
- a sequence step is followed by ``\\[n\\]``, or by an optional item number when it has none or
  ``[%]``; steps are joined by ``/`` except around a depth wildcard;
- ``*`` is ``[\\s\\S]*``, ``.`` is ``(/?[^/]+/){1}``, and ``+`` is ``(?!NEXT)([^/]*/)*`` where NEXT
  is the following step's regex: first in a path it needs a level whose sequence does not
  itself match NEXT, later in a path it also takes zero levels.

Sequences that hold items are not visited as elements (their items are), so a sequence never
matches; pixel data does, and the file meta group length is not there.
"""
from __future__ import annotations

import re
from functools import lru_cache

from pydicom.dataset import Dataset

from .elements import element_str
from .tagpath import Step, TagPath, TagPattern, Target, fmt_tag, is_sequence

_CLASSES = {"X": "[0-9a-fA-F]", "#": "[13579bdfBDF]", "@": "[02468aceACE]"}
_CLASSES.update({c: f"[{c.lower()}{c}]" for c in "ABCDEF"})
_WHITESPACE = "".join(map(chr, range(33)))


def _digits(text: str) -> str:
    return "".join(_CLASSES.get(c.upper(), c) for c in text)


def tag_regex(pattern: TagPattern) -> str:
    if pattern.creator is None:
        return _digits(pattern.group) + _digits(pattern.element)
    return _digits(pattern.group) + '"' + re.escape(pattern.creator) + '"[0-9a-fA-F]{2}' + _digits(pattern.element)


def step_regex(step: Step, last: bool) -> str:
    if step.depth is not None:
        raise ValueError("depth step")
    text = tag_regex(step.pattern)
    if step.item is None and last:
        return text
    if step.item in (None, "%"):
        return text + r"(\[[0-9]+\])?+"
    return text + r"\[" + str(step.item) + r"\]"


@lru_cache(maxsize=256)
def path_regex(path: TagPath) -> re.Pattern:
    """The engine's regex for ``path`` (``ValueError`` for a ``+`` with nothing after it)."""
    steps, out = path.steps, []
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if step.depth == "*":
            out.append(r"[\s\S]*")
        elif step.depth == ".":
            out.append(r"(/?[^/]+/){1}")
        elif step.depth == "+":
            if last or steps[i + 1].depth is not None:
                raise ValueError("'+' needs a tag after it")
            out.append("(?!" + step_regex(steps[i + 1], i + 1 == len(steps) - 1) + r")([^/]*/)*")
        else:
            out.append(step_regex(step, last))
            if not last and steps[i + 1].depth is None:
                out.append("/")
    return re.compile("".join(out))


def creator_of(ds: Dataset, tag: int) -> str | None:
    """The private creator dcm4che 2 gives an odd-group tag (a creator element names itself)."""
    low = tag & 0xFFFF
    creator_tag = tag if 0x10 <= low <= 0xFF else (tag & 0xFFFF0000) | (low >> 8)
    if low < 0x10 or creator_tag not in ds:
        return None
    value = element_str(ds, creator_tag)
    return None if value is None else value.strip(_WHITESPACE)


def visit(ds: Dataset, wanted=None):
    """``(target, steps)`` for every element the engine visits, in its order (file meta first,
    then tag order, depth first); ``steps`` are ``(tag, creator, item)`` from the top. ``wanted``
    (a test on the element's own tag) skips elements early; sequences are entered regardless."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        for tag in sorted(int(t) for t in meta.keys()):
            if tag != 0x00020000 and (wanted is None or wanted(tag)):
                yield Target(meta, tag, fmt_tag(tag)), ((tag, None, None),)
    yield from _visit(ds, "", (), wanted)


def _visit(ds: Dataset, prefix: str, above: tuple, wanted):
    creators: dict = {}
    for tag in sorted(int(t) for t in ds.keys()):
        if is_sequence(ds, tag):
            creator = _creator(ds, tag, creators)
            for i, item in enumerate(ds[tag].value or []):
                yield from _visit(item, f"{prefix}{fmt_tag(tag)}[{i}]/", above + ((tag, creator, i),), wanted)
        elif wanted is None or wanted(tag):
            yield Target(ds, tag, prefix + fmt_tag(tag)), above + ((tag, _creator(ds, tag, creators), None),)


def _creator(ds: Dataset, tag: int, memo: dict) -> str | None:
    if not tag >> 16 & 1:
        return None
    key = tag >> 8 if (tag & 0xFFFF) > 0xFF else tag
    if key not in memo:
        memo[key] = creator_of(ds, tag)
    return memo[key]


def text_of(steps: tuple) -> str:
    parts = []
    for tag, creator, item in steps:
        text = f"{tag >> 16:04x}{tag & 0xFFFF:04x}"
        if tag >> 16 & 1:
            text = f'{text[:4]}"{"NULL" if creator is None else creator}"{text[4:]}'
        parts.append(text if item is None else f"{text}[{item}]")
    return "/".join(parts)


def _last_tag_test(path: TagPath):
    """A cheap test on an element's own tag that every match of ``path`` passes."""
    pattern = path.last.pattern
    if pattern is None or path.last.item is not None:
        return lambda tag: False  # a path ending in a sequence item never names a visited element
    if pattern.creator is None:
        return pattern.matches_public
    return lambda tag: bool(tag >> 16 & 1) and pattern.group_matches(tag >> 16) \
        and pattern._digits_match(pattern.element, tag & 0xFF, 2)


def matching(ds: Dataset, paths: list[TagPath]):
    """``(target, steps)`` of every visited element any of ``paths`` matches, in visiting order."""
    regexes = [path_regex(p) for p in paths]
    tests = [_last_tag_test(p) for p in paths]
    for target, steps in visit(ds, lambda tag: any(t(tag) for t in tests)):
        text = text_of(steps)
        if any(r.fullmatch(text) for r in regexes):
            yield target, steps
