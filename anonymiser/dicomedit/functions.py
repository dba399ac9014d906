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

from .dates import DateError, seconds_for, shift
from .pixels import PixelEditError, blank_rectangle
from .tagpath import PathError, TagPath


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
# in the DicomEdit 6 reference but not in 6.6.0, which XNAT 1.8.10 runs: the engine fails on them
for _name in ("urlEncode", "getURLParam", "shiftTimeByIncrement"):
    refuse(_name, "DicomEdit 6.6.0 (XNAT 1.8.10) has no such function; XNAT fails the file on it")


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


class _NullValue:
    """XNAT 6.6.0 has two kinds of nothing: no value at all (``match`` that found nothing: None
    here) and a value holding null (``hashUID`` of an absent element). Both print as ``null`` in
    ``format`` and leave an assignment's target alone, but ``equals`` tells them apart."""

    def __str__(self) -> str:
        return "null"

    def __repr__(self) -> str:
        return "NULL_VALUE"


NULL_VALUE = _NullValue()


def _absent(v) -> bool:
    return v is None or v is NULL_VALUE


def _text(v) -> str:
    if isinstance(v, list):
        return java_list(v)
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
            # Java's MessageFormat writes "null" for an absent value
            out.append(("null" if args[k] is None else str(args[k])) if k < len(args) else pattern[i:j + 1])
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# ---- strings ------------------------------------------------------------------------------
@function("format", 1)
def _format(run, a, node):
    try:  # a list argument (collectValues) gives one argument per value
        return message_format(_text(a[0]), flatten(a[1:]))
    except ValueError as exc:
        raise run.fail(str(exc), node)


def _present(run, value, node, name):
    """XNAT fails when a string function gets an absent element (the file is refused)."""
    if value is None or value is NULL_VALUE:
        raise run.fail(f"{name} of an absent element", node)
    return _text(value)


@function("lowercase", 1, 1)
def _lower(run, a, node):
    return _present(run, a[0], node, "lowercase").lower()


@function("uppercase", 1, 1)
def _upper(run, a, node):
    return _present(run, a[0], node, "uppercase").upper()


@function("replace", 3, 3)
def _replace(run, a, node):
    return _present(run, a[0], node, "replace").replace(_text(a[1]), _text(a[2]))


@function("substring", 2, 3)
def _substring(run, a, node):
    s = _present(run, a[0], node, "substring")
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
    return "".join(java_list(v) if isinstance(v, list) else _present(run, v, node, "concatenate") for v in a)


def java_list(values) -> str:
    """A list value as text, as Java prints a list: ``[a, b]``."""
    return "[" + ", ".join(java_list(v) if isinstance(v, list) else engine_path_text(v) if isinstance(v, TagPath)
                           else _text(v) for v in values) + "]"


@function("normalizeString", 1, 2)
def _normalize(run, a, node):
    """Every non-ASCII character becomes the replacement (default ``_``)."""
    if _absent(a[0]):
        return a[0]
    text = _text(a[0])
    replacement = _text(a[1]) if len(a) > 1 else "_"
    return "".join(ch if ord(ch) < 128 else replacement for ch in text)


@function("match", 3, 3, regex_args=(1,))
def _match(run, a, node):
    if _absent(a[0]):
        raise run.fail("match of an absent element", node)
    m = run.search(_text(a[1]), _text(a[0]), node)
    try:
        return m.group(int(a[2])) if m else None
    except (IndexError, ValueError):
        raise run.fail("match group number out of range", node) from None


@function("isPresent", 1, paths=True)
def _is_present(run, a, node):
    """True when every argument names an element that is there (XNAT 6.6.0)."""
    from .checks import PRESENT_MANY, assignable
    for path in run.paths(a, node):  # in order: the first absent element ends it, as in XNAT
        if not assignable(path):
            raise run.fail(PRESENT_MANY, node)
        if not run.present(path, node):
            return False
    return True


@function("valueAt", 1, 1, paths=True)
def _value_at(run, a, node):
    """The element's value; XNAT 6.6.0 fails unless the tag path names one element."""
    if isinstance(a[0], TagPath):
        if not a[0].is_singular:
            raise run.fail("valueAt takes a tag path that names one element (XNAT fails here)", node)
        return run.read(a[0], node)
    return a[0]


@function("collectValues", 1, paths=True)
def _collect(run, a, node):
    """XNAT 6.6.0's list: the arguments that are no tag paths, as text, in order; then the value
    of every element the tag paths name, in the order of the engine's HashMap (see javaorder)."""
    values = [None if v is None else _text(v) for v in flatten(a) if not isinstance(v, TagPath)]
    return values + run.collect([v for v in flatten(a) if isinstance(v, TagPath)], node)


def _truth(v) -> bool:
    return v is True or (isinstance(v, str) and v.strip().lower() == "true")


@function("true", 0, 0)
def _true(run, a, node):
    return True


@function("false", 0, 0)
def _false(run, a, node):
    return False


@function("and", 1)
def _and(run, a, node):
    return all(_truth(v) for v in flatten(a))


@function("or", 1)
def _or(run, a, node):
    return any(_truth(v) for v in flatten(a))


@function("equals", 2, 2, paths=True)
def _equals(run, a, node):
    """As XNAT 6.6.0 compares (newer DicomEdit may differ): a tag path argument is compared as a
    path, not by its value, so it equals only the same path; a function that found nothing (null)
    equals only null; anything else compares as text."""
    if any(isinstance(v, TagPath) for v in a):
        return all(isinstance(v, TagPath) for v in a) and _text(a[0]) == str(a[1])
    if a[0] is None or a[1] is None:
        return a[0] is None and a[1] is None
    if a[0] is NULL_VALUE or a[1] is NULL_VALUE:  # a value holding null equals only its like
        return a[0] is a[1]
    if isinstance(a[0], list) or isinstance(a[1], list):  # a list equals only an equal list, never an empty one
        return isinstance(a[0], list) and bool(a[0]) and a[0] == a[1]
    return _text(a[0]) == _text(a[1])


@function("ismatch", 2, 2, regex_args=(1,))
def _ismatch(run, a, node):
    if _absent(a[0]):
        raise run.fail("ismatch of an absent element", node)
    return run.fullmatch(_text(a[1]), _text(a[0]), node) is not None


@function("scalePatientAgeAndDobFromStudyDate", 0, 0)
def _scale_age(run, a, node):
    """Ages over 89 become 089Y; a birth date more than 89 years (365.24 days each) before the study
    date moves forward by the excess days, everywhere in the data set (XNAT's rule, written anew)."""
    from datetime import date
    def parse(text):  # XNAT 6.6.0 reads an 8-character value as yyyyMMdd (failing on a bad one), no other
        if len(text) != 8:
            return None
        try:
            if not text.isdigit():
                raise ValueError
            return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            raise run.fail("scalePatientAgeAndDobFromStudyDate: a birth or study date is no day of the calendar "
                           "(XNAT fails here)", node) from None
    dob = parse((run.read_root(0x00100030) or "").strip())
    study = parse((run.read_root(0x00080020) or "").strip()) if dob is not None else None  # read after a birth date
    if dob is not None and study is None:
        return None  # XNAT stops here: no study date to measure the age from, ages left as they are
    if dob is not None:
        excess = (study - dob).days - round(365.24 * 89)
        if excess > 0:
            for target in run.every(0x00100030):
                value = run.read_target(target)
                if value and value.strip():
                    run.write(target, shift(value.strip(), excess * 86400))
    age = (run.read_root(0x00101010) or "").strip()
    if age and not (len(age) == 4 and age[:3].isdigit() and age[3] in "DWMY"):
        raise run.fail("scalePatientAgeAndDobFromStudyDate: PatientAge (0010,1010) is not an age string", node)
    if len(age) == 4 and age[3] == "Y" and age[:3].isdigit() and int(age[:3]) > 89:
        for target in run.every(0x00101010):
            run.write(target, "089Y")


# ---- UIDs ---------------------------------------------------------------------------------
@function("hashUID", 1, 2)
def _hash_uid(run, a, node):
    return NULL_VALUE if a[0] is None or a[0] is NULL_VALUE else hashed_uid(_text(a[0]))


@function("mapUID", 2, 2, paths=True)
def _map_uid(run, a, node):
    """``mapUID[value, prefix]``: the same new UID for the same value all through a run (see uidmap).

    As in XNAT 6.6.0, a tag path argument stands for its own text, not the element's value:
    ``mapUID[(0020,000D), "1.2.3"]`` gives every file the same UID (``v := (0020,000D)`` then
    ``mapUID[v, "1.2.3"]`` maps the value)."""
    from .uidmap import UIDRootError, map_uid
    a = [engine_path_text(v) if isinstance(v, TagPath) else v for v in a]
    try:
        return map_uid(None if a[0] is None else _text(a[0]), _text(a[1]), run.context.hash_key)
    except UIDRootError as exc:
        raise run.fail(str(exc), node) from None


@function("newUID", 0, 0)
def _new_uid(run, a, node):
    return "2.25." + str(uuid.uuid4().int)


@function("hashUIDList", 1, paths=True)
def _hash_uid_list(run, a, node):
    for target, _ in list(run.engine_match(run.paths(a, node), node)):  # each element once
        old = run.read_target(target)
        if old:
            run.write(target, "\\".join(hashed_uid(v) for v in old.split("\\")))  # empty values too, as XNAT


# ---- dates --------------------------------------------------------------------------------
def _date_arg(run, arg, node, vrs: tuple, name: str):
    """(value, VR) of a date argument; XNAT fails on an absent or empty one and on another VR."""
    vr = None
    if isinstance(arg, TagPath):
        targets = [t for t in run.resolve(arg, node) if t.item is None]
        if not targets:
            raise run.fail(f"{name} of an absent element", node)
        elem = targets[0].container[targets[0].tag]
        vr = elem.VR
        if vr not in vrs:
            raise run.fail(f"{name} needs an element with VR {' or '.join(vrs)}", node)
        arg = run.read_target(targets[0])
    if _absent(arg) or str(arg).strip() == "":
        raise run.fail(f"{name} of an empty value", node)
    return str(arg), vr


def _shift_value(value: str, vr: str | None, seconds: int) -> str:
    return shift(value, seconds)


@function("shiftDateByIncrement", 2, 2, paths=True)
def _shift_date(run, a, node):
    value, vr = _date_arg(run, a[0], node, ("DA",), "shiftDateByIncrement")
    try:
        return shift(value, seconds_for(_text(run.value_of(a[1], node)), "days"))
    except DateError as exc:
        raise run.fail(str(exc), node) from None


@function("shiftDateTimeByIncrement", 2, 3, paths=True)
def _shift_datetime(run, a, node):
    value, vr = _date_arg(run, a[0], node, ("DA", "DT"), "shiftDateTimeByIncrement")
    try:
        units = _text(run.value_of(a[2], node)) if len(a) > 2 else "seconds"
        return _shift_value(value, vr, seconds_for(_text(run.value_of(a[1], node)), units))
    except DateError as exc:
        raise run.fail(str(exc), node) from None


@function("shiftDateTimeListByIncrement", 2, 3, paths=True)
def _shift_list(run, a, node):
    """``shiftDateTimeListByIncrement[{paths}, increment, units]``: XNAT fails, when it runs, unless
    the first argument is a list and the units are given."""
    if not isinstance(a[0], list) or len(a) < 3:
        raise run.fail("shiftDateTimeListByIncrement takes a {list} of tag paths, an increment and its units", node)
    units = _text(run.value_of(a[2], node))
    try:
        seconds = seconds_for(_text(run.value_of(a[1], node)), units)
    except DateError as exc:
        raise run.fail(str(exc), node) from None
    _shift_targets(run, run.paths(a[0], node), seconds, node, "shiftDateTimeListByIncrement", strict=True)


@function("reject", 0, 1)
def _reject(run, a, node):
    """XNAT refuses the file when the argument is true, or when there is none."""
    if not a or a[0] is True or (isinstance(a[0], str) and a[0].strip().lower() == "true"):
        raise run.fail("the script rejects this file (reject[])", node)


def _shift_targets(run, paths, seconds, node, name, strict=False):
    for path in paths:  # each path in turn: an element two paths name is shifted twice, as in XNAT
        for target, _ in list(run.engine_match([path], node)):
            value = run.read_target(target)
            if value is None or value.strip() == "":
                continue  # XNAT skips an empty date
            vr = target.container[target.tag].VR
            # both go by the text, whatever the VR (XNAT 6.6.0): an LO holding 20200101 is shifted,
            # and a TM such as 150031 reads as a date with month 31 and fails
            try:
                run.write(target, _shift_value(value, vr, seconds))
            except DateError as exc:
                # shiftDateTimeSequenceByIncrement leaves text that is no date as it is, and fails on a
                # date that is no day of the calendar; shiftDateTimeListByIncrement fails on both
                if strict or "calendar" in str(exc):
                    raise run.fail(f"{name}: {exc}", node) from None
                continue


@function("shiftDateTimeSequenceByIncrement", 2, paths=True)
def _shift_in_place(run, a, node):
    try:
        seconds = seconds_for(_text(run.value_of(a[0], node)), "seconds")
    except DateError as exc:
        raise run.fail(str(exc), node) from None
    _shift_targets(run, run.paths(a[1:], node), seconds, node, "shiftDateTimeSequenceByIncrement")


# ---- dataset-wide edits -------------------------------------------------------------------
def engine_path_text(path) -> str:
    """How XNAT prints a tag path given where a value is expected (``set``): ``30060020[0]/00080050``."""
    parts = []
    for step in path.steps:
        if step.depth is not None:
            parts.append(step.depth)
            continue
        p = step.pattern
        text = f'{p.group}"{p.creator}"10{p.element}' if p.creator is not None else p.group + p.element
        item = "%" if step.item is None and step is not path.steps[-1] else step.item  # a sequence step: [%]
        parts.append(text + ("" if item is None else f"[{item}]"))
    return "/".join(parts)


@function("set", 2, 2, paths=True)
def _set(run, a, node):
    if isinstance(a[1], TagPath):
        a = [a[0], engine_path_text(a[1])]
    elif _absent(a[1]):  # set[] of nothing empties the element, and fails on a new private one (XNAT 6.6.0)
        if not isinstance(a[0], TagPath):
            from .evaluator import _NOT_TEXT, _script_private, _vr
            path = run.path_from_string(_text(a[0]), node, strict=True)
            found = run.resolve(path, node)
            if path.is_private and not found:
                raise run.fail("set of nothing to a private element that is not there (XNAT fails here)", node)
            if any(t.item is None and t.tag in t.container and (_vr(t.container, t.tag) in _NOT_TEXT
                                                               or _script_private(t.container, t.tag)) for t in found):
                raise run.fail("set of nothing to a binary or numeric element (XNAT fails here)", node)
        a = [a[0], ""]
    elif isinstance(a[0], TagPath):
        raise run.fail("set needs a tag path string such as \"(0010,0010)\"", node)
    try:
        run.assign(run.path_from_string(_text(a[0]), node, strict=True), a[1], node)
    except PathError:
        raise run.fail("set needs a tag path string such as \"(0010,0010)\"", node) from None


@function("delete", 1, paths=True)
def _delete(run, a, node):
    for path in run.paths(a, node, strict=True):
        run.delete_path(path, node)


@function("removeTags", 1, paths=True)
def _remove_tags(run, a, node):
    for path in run.paths(a, node):
        run.delete_path(path, node)


@function("blankValues", 0, paths=True)
def _blank(run, a, node):
    """Tag paths (wildcards allowed) are emptied; a string empties every element with that value."""
    known = {v for v in flatten(a) if isinstance(v, str)}
    # matched as the engine matches: (gggg,{CREATOR}ee) also names the creator element when ee fits
    known.update(run.read_target(t) for t, _ in run.engine_match([v for v in flatten(a) if isinstance(v, TagPath)], node))
    known.discard(None)
    known.discard("")
    if known:
        run.blank_known_values(known)


@function("mapReferencedUIDs", 2, paths=True)
def _map_referenced(run, a, node):
    """Each UID at the paths becomes a new UID under the prefix, the same value the same UID in one run."""
    mapping = run.variables.setdefault(" mapped UIDs", {})
    for path in run.paths(a[1:], node):
        for target, _ in list(run.engine_match([path], node)):
            old = run.read_target(target)
            if old is not None:  # an empty UID gets a new one too
                # the whole value is one key, backslashes and all (XNAT 6.6.0)
                run.write(target, mapping.setdefault(old, "2.25." + str(uuid.uuid4().int)))


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
