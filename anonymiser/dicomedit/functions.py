"""The built-in functions, one registry: ``name[arg, ...]``.

Each entry says how many arguments it takes and whether tag-path arguments reach it as paths
(``paths=True``: wildcards allowed, the function acts on the elements) or as the value of a
single element (the default). Functions that would reach outside the dataset (``getURL``) are
registered as refused so a script using them fails at load time with a clear reason.
"""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qs, quote_plus, urlsplit

from .dates import DateError, seconds_for, shift
from .pixels import PixelEditError, blank_rectangle
from .tagpath import PathError


@dataclass(frozen=True)
class Function:
    name: str
    impl: Callable | None
    min_args: int = 0
    max_args: int | None = None
    paths: bool = False
    regex_args: tuple = ()
    refused: str | None = None
    check: Callable | None = None


REGISTRY: dict[str, Function] = {}


def function(name, min_args=0, max_args=None, paths=False, regex_args=()):
    def register(impl):
        REGISTRY[name] = Function(name, impl, min_args, max_args, paths, tuple(regex_args))
        return impl
    return register


def refuse(name: str, reason: str) -> None:
    REGISTRY[name] = Function(name, None, refused=reason)


refuse("getURL", "scripts have no network access")


def flatten(args) -> list:
    out = []
    for a in args:
        out.extend(flatten(a)) if isinstance(a, list) else out.append(a)
    return out


def hashed_uid(value: str) -> str:
    """XNAT's hashUID: a name-based (SHA-1, no namespace) version-5 UUID as a 2.25 UID."""
    b = bytearray(hashlib.sha1(value.encode("utf-8")).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x50
    b[8] = (b[8] & 0x3F) | 0x80
    return "2.25." + str(int.from_bytes(b, "big"))


def _text(v) -> str:
    return "" if v is None else str(v)


def message_format(pattern: str, args: list) -> str:
    """Java MessageFormat: ``{n}`` placeholders, ``'..'`` quotes literal text, ``''`` is a quote."""
    out, i, size = [], 0, len(pattern)
    while i < size:
        ch = pattern[i]
        if ch == "'":
            j = pattern.find("'", i + 1)
            if j == i + 1:
                out.append("'")
                i += 2
                continue
            j = size if j < 0 else j
            out.append(pattern[i + 1:j])
            i = j + 1
        elif ch == "{":
            j = pattern.find("}", i)
            key = pattern[i + 1:j].split(",")[0].strip() if j > 0 else ""
            if not key.isdigit():
                raise ValueError("format placeholders are {0}, {1}, ...")
            k = int(key)
            out.append(_text(args[k]) if k < len(args) else pattern[i:j + 1])
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# ---- strings ------------------------------------------------------------------------------
@function("format", 1)
def _format(run, a, node):
    try:
        return message_format(_text(a[0]), a[1:])
    except ValueError as exc:
        raise run.fail(str(exc), node)


@function("lowercase", 1, 1)
def _lower(run, a, node):
    return None if a[0] is None else str(a[0]).lower()


@function("uppercase", 1, 1)
def _upper(run, a, node):
    return None if a[0] is None else str(a[0]).upper()


@function("replace", 3, 3)
def _replace(run, a, node):
    return None if a[0] is None else str(a[0]).replace(_text(a[1]), _text(a[2]))


@function("substring", 2, 3)
def _substring(run, a, node):
    if a[0] is None:
        return None
    s = str(a[0])
    try:
        begin = int(a[1])
        end = int(a[2]) if len(a) > 2 else len(s)
    except (TypeError, ValueError):
        raise run.fail("substring indexes are whole numbers", node) from None
    if not 0 <= begin <= end <= len(s):
        raise run.fail("substring indexes out of range for the value", node)
    return s[begin:end]


@function("concatenate", 1)
def _concat(run, a, node):
    return "".join(_text(v) for v in flatten(a))


@function("urlEncode", 1, 1)
def _url_encode(run, a, node):
    return quote_plus(_text(a[0]), safe="*").replace("~", "%7E")


@function("getURLParam", 2, 2)
def _url_param(run, a, node):
    values = parse_qs(urlsplit(_text(a[0])).query).get(_text(a[1]))
    return values[0] if values else None


@function("match", 3, 3, regex_args=(1,))
def _match(run, a, node):
    if a[0] is None:
        return None
    m = run.search(_text(a[1]), str(a[0]), node)
    try:
        return m.group(int(a[2])) if m else None
    except (IndexError, ValueError):
        raise run.fail("match group number out of range", node) from None


@function("isPresent", 1, paths=True)
def _is_present(run, a, node):
    return any(run.resolve(p, node) for p in run.paths(a, node))


# ---- UIDs ---------------------------------------------------------------------------------
@function("hashUID", 1, 2)
def _hash_uid(run, a, node):
    return None if a[0] is None else hashed_uid(str(a[0]))


@function("newUID", 0, 0)
def _new_uid(run, a, node):
    return "2.25." + str(uuid.uuid4().int)


@function("hashUIDList", 1, paths=True)
def _hash_uid_list(run, a, node):
    for path in run.paths(a, node):
        for target in run.resolve(path, node):
            old = run.read_target(target)
            if old:
                run.write(target, "\\".join(hashed_uid(v) if v else v for v in old.split("\\")))


# ---- dates --------------------------------------------------------------------------------
@function("shiftDateByIncrement", 2, 2)
def _shift_date(run, a, node):
    try:
        return shift(a[0], seconds_for(a[1], "days"))
    except DateError as exc:
        raise run.fail(str(exc), node) from None


@function("shiftDateTimeByIncrement", 2, 3)
def _shift_datetime(run, a, node):
    try:
        return shift(a[0], seconds_for(a[1], a[2] if len(a) > 2 else "seconds"))
    except DateError as exc:
        raise run.fail(str(exc), node) from None


@function("shiftDateTimeSequenceByIncrement", 2, paths=True)
def _shift_in_place(run, a, node):
    try:
        seconds = seconds_for(_text(run.value_of(a[0], node)), "seconds")
        for path in run.paths(a[1:], node):
            for target in run.resolve(path, node):
                run.write(target, shift(run.read_target(target), seconds))
    except DateError as exc:
        raise run.fail(str(exc), node) from None


# ---- dataset-wide edits -------------------------------------------------------------------
@function("set", 2, 2)
def _set(run, a, node):
    try:
        run.assign(run.path_from_string(_text(a[0]), node), a[1], node)
    except PathError:
        raise run.fail("set needs a tag path string such as \"(0010,0010)\"", node) from None


@function("delete", 1, paths=True)
def _delete(run, a, node):
    for path in run.paths(a, node):
        for target in reversed(run.resolve(path, node)):
            run.delete(target)


@function("blankValues", 0)
def _blank(run, a, node):
    known = {str(v) for v in flatten(a) if v is not None}
    if known:
        run.blank_known_values(known)


@function("retainPrivateTags", 0, paths=True)
def _retain(run, a, node):
    paths = run.paths(a, node)
    for p in paths:
        if not p.is_private:
            raise run.fail("retainPrivateTags takes private tag paths, e.g. (0029,{CREATOR}XX)", node)
    run.retain_private(paths)


@function("lookup", 2, 2)
def _lookup(run, a, node):
    if a[1] is None:
        return None
    return run.lookup(_text(a[0]), str(a[1]), node)


@function("alterPixels", 4, 4)
def _alter_pixels(run, a, node):
    try:
        run.edit_pixels(lambda ds: blank_rectangle(ds, *[_text(x) for x in a]))
    except PixelEditError as exc:
        raise run.fail(f"alterPixels: {exc}", node) from None
