"""Running a checked script over one dataset: one handler per statement type, one shape.

Every handler is ``handler(run, statement) -> None``; :class:`Run` carries the dataset, the
variables and the list of changes, and offers the few operations functions and handlers share
(read, write, delete, resolve, regex match). Errors become :class:`ScriptError` naming the
script line and column, never an element value.
"""
from __future__ import annotations

from pydicom.dataset import Dataset

from sdu.errors import ScriptError

from . import nodes as n
from .elements import BINARY_VRS, ValueTypeError, element_str, keyword, write as write_element
from .functions import REGISTRY
from .limits import MAX_VALUE_LENGTH, REGEX_TIMEOUT
from .model import Change, Changes, ScriptContext
from .parser import parse_path
from .tagpath import PathError, TagPath, Target, ensure, fmt_tag, is_sequence, resolve


class Run:
    """State of one script applied to one dataset."""

    def __init__(self, script, ds: Dataset, context: ScriptContext):
        self.script, self.ds, self.context = script, ds, context
        self.variables: dict = dict(context.variables)
        self.changes = Changes()

    # ---- errors, regexes ----------------------------------------------------------------
    def fail(self, msg: str, node) -> ScriptError:
        return ScriptError(msg, path=self.script.name, line=node.line, column=node.column)

    def fullmatch(self, pattern: str, text: str, node):
        """``~``: the whole value must match (Java ``String.matches``)."""
        return self._match(pattern, text, node, "fullmatch")

    def search(self, pattern: str, text: str, node):
        """``match[...]``: the first match anywhere in the value (Java ``Matcher.find``)."""
        return self._match(pattern, text, node, "search")

    def _match(self, pattern, text, node, how):
        compiled = self.script.regex(pattern, node)
        try:
            return getattr(compiled, how)(text, timeout=REGEX_TIMEOUT)
        except TimeoutError:
            raise self.fail(f"regular expression took longer than {REGEX_TIMEOUT}s", node) from None

    # ---- values -------------------------------------------------------------------------
    def eval(self, node, as_path: bool = False):
        if isinstance(node, n.Literal):
            return node.value
        if isinstance(node, n.Variable):
            if node.name not in self.variables:
                raise self.fail(f"variable '{node.name}' has no value (not set by the script or the context)", node)
            return self.variables[node.name]
        if isinstance(node, n.PathValue):
            return node.path if as_path else self.read(node.path, node)
        if isinstance(node, n.ListValue):
            return [self.eval(i, as_path) for i in node.items]
        if isinstance(node, n.Call):
            return self.call(node)
        raise self.fail("not a value", node)

    def call(self, node: n.Call):
        spec = REGISTRY[node.name]
        args = [self.eval(a, as_path=spec.paths) for a in node.args]
        result = spec.impl(self, args, node)
        if isinstance(result, str) and len(result) > MAX_VALUE_LENGTH:
            raise self.fail(f"{node.name} produced a value longer than {MAX_VALUE_LENGTH} characters", node)
        return result

    def value_of(self, v, node=None):
        return self.read(v, node) if isinstance(v, TagPath) else v

    def paths(self, args, node) -> list[TagPath]:
        out = []
        for a in args:
            if isinstance(a, list):
                out.extend(self.paths(a, node))
            elif isinstance(a, TagPath):
                out.append(a)
            elif isinstance(a, str):
                out.append(self.path_from_string(a, node))
            else:
                raise self.fail("expected tag paths as arguments", node)
        return out

    def path_from_string(self, text: str, node) -> TagPath:
        try:
            return parse_path(text)
        except PathError:
            raise self.fail("not a tag path string", node) from None

    # ---- dataset access -----------------------------------------------------------------
    def resolve(self, path: TagPath, node) -> list[Target]:
        try:
            return resolve(self.ds, path)
        except PathError as exc:
            raise self.fail(str(exc), node) from None

    def read(self, path: TagPath, node) -> str | None:
        """The first element ``path`` names (paths used as values are wildcard-free)."""
        targets = [t for t in (self.resolve(path, node) if node else resolve(self.ds, path)) if t.item is None]
        return self.read_target(targets[0]) if targets else None

    @staticmethod
    def read_target(t: Target) -> str | None:
        if t.item is not None:
            return None
        return element_str(t.container, t.tag)

    def _describe(self, t: Target) -> str | None:
        if t.item is not None:
            return "<sequence item>"
        if t.tag in t.container and is_sequence(t.container, t.tag):
            return f"<sequence of {len(t.container[t.tag].value or [])} items>"
        elem = t.container.get_item(t.tag)
        if elem is not None and elem.VR in BINARY_VRS | {"UN"} and elem.value is not None and len(elem.value) > 64:
            return f"<{len(elem.value)} bytes>"
        return element_str(t.container, t.tag)

    def record(self, t: Target, before, after) -> None:
        if before != after:
            self.changes.append(Change(t.path, keyword(t.container, t.tag), before, after))

    def write(self, t: Target, text: str | None) -> None:
        if t.item is not None:
            raise PathError("a sequence item cannot be assigned a value")
        before = self.read_target(t)
        write_element(t.container, t.tag, "" if text is None else str(text))
        self.record(t, before, self.read_target(t))

    def delete(self, t: Target) -> None:
        before = self._describe(t)
        if t.item is not None:
            del t.container[t.tag].value[t.item]
        elif t.tag in t.container:
            del t.container[t.tag]
        else:
            return
        self.changes.append(Change(t.path, keyword(t.container, t.tag), before, None))

    def assign(self, path: TagPath, value, node, if_exists: bool = False) -> None:
        text = _as_str(value)
        targets = [t for t in self.resolve(path, node) if t.item is None]
        try:
            if not targets and not if_exists and path.is_singular and text is not None:
                targets = [ensure(self.ds, path)]
            for t in targets:
                self.write(t, text)
        except (ValueTypeError, PathError) as exc:
            raise self.fail(str(exc), node) from None

    # ---- whole-dataset operations ------------------------------------------------------
    def _datasets(self, ds: Dataset, prefix: str, into_private: bool = True):
        yield ds, prefix
        for tag in list(ds.keys()):
            tag = int(tag)
            if is_sequence(ds, tag) and (into_private or not tag >> 16 & 1):
                for i, item in enumerate(ds[tag].value or []):
                    yield from self._datasets(item, f"{prefix}{fmt_tag(tag)}[{i}]/", into_private)

    def remove_private(self) -> None:
        for ds, prefix in self._datasets(self.ds, "", into_private=False):
            for tag in [int(t) for t in ds.keys() if t >> 16 & 1]:
                self.delete(Target(ds, tag, prefix + fmt_tag(tag)))

    def retain_private(self, paths: list[TagPath]) -> None:
        keep = set()
        for path in paths:
            for t in resolve(self.ds, path):
                keep.add((id(t.container), t.tag))
        for ds, prefix in list(self._datasets(self.ds, "", into_private=False)):
            private = [int(t) for t in ds.keys() if t >> 16 & 1]
            for tag in private:
                if (tag & 0xFFFF) > 0xFF and (id(ds), tag) not in keep:
                    self.delete(Target(ds, tag, prefix + fmt_tag(tag)))
            for tag in private:
                if 0x10 <= (tag & 0xFFFF) <= 0xFF and tag in ds:
                    block = (tag & 0xFFFF0000) | ((tag & 0xFF) << 8)
                    if not any(block <= int(t) <= block + 0xFF for t in ds.keys()):
                        self.delete(Target(ds, tag, prefix + fmt_tag(tag)))

    def blank_known_values(self, known: set[str]) -> None:
        for ds, prefix in list(self._datasets(self.ds, "")):
            for tag in [int(t) for t in ds.keys()]:
                elem = ds.get_item(tag)
                if elem.VR in BINARY_VRS or elem.VR == "SQ" or tag == 0x7FE00010 or is_sequence(ds, tag):
                    continue
                if element_str(ds, tag) in known:
                    self.write(Target(ds, tag, prefix + fmt_tag(tag)), "")

    def lookup(self, category: str, key: str, node) -> str:
        if self.context.lookup is None:
            raise self.fail("lookup needs the site's linkage store, which this run does not have", node)
        value = self.context.lookup(category, key)
        if value is None:
            raise self.fail(f"lookup found no entry in '{category}' for this value", node)
        return value

    def edit_pixels(self, edit) -> None:
        description = edit(self.ds)
        self.changes.append(Change("(7FE0,0010)", "PixelData", "<pixel data>", f"<pixel data: {description}>"))


def _as_str(v):
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "\\".join(_as_str(x) or "" for x in v)
    return str(v)


def _truth(v) -> bool:
    if isinstance(v, bool):
        return v
    return isinstance(v, str) and v.strip().lower() == "true"


def condition(run: Run, c) -> bool:
    if isinstance(c, n.BoolCall):
        return _truth(run.call(c.call))
    left, right = _as_str(run.eval(c.left)), _as_str(run.eval(c.right))
    if c.op == "=":
        return left is not None and left == right
    if c.op == "!=":
        return left is None or left != right
    matched = left is not None and right is not None and run.fullmatch(right, left, c.right) is not None
    return matched if c.op == "~" else not matched


# ---- statement handlers: handler(run, statement) -> None -------------------------------------
def _assign(run, s):
    run.assign(s.path, run.eval(s.value), s, if_exists=s.if_exists)


def _initialize(run, s):
    run.variables[s.name] = run.eval(s.value)


def _delete(run, s):
    for t in reversed(run.resolve(s.path, s)):
        run.delete(t)


def _call(run, s):
    run.call(s)


def _echo(run, s):
    run.changes.echoes.append("" if s.value is None else (_as_str(run.eval(s.value)) or ""))


def _remove_private(run, s):
    run.remove_private()


def _nothing(run, s):
    """version, describe, export: declarations, nothing to do per dataset."""


def _conditional(run, s):
    branch = s.then if condition(run, s.condition) else s.otherwise
    if branch is not None:
        execute(run, branch)


def _if(run, s):
    for cond, body in s.branches:
        if condition(run, cond):
            execute_all(run, body)
            return
    if s.otherwise is not None:
        execute_all(run, s.otherwise)


HANDLERS = {
    n.Assign: _assign, n.Initialize: _initialize, n.Delete: _delete, n.Call: _call, n.Echo: _echo,
    n.RemoveAllPrivateTags: _remove_private, n.Version: _nothing, n.Describe: _nothing,
    n.Export: _nothing, n.Conditional: _conditional, n.If: _if,
}


def execute(run: Run, s) -> None:
    try:
        HANDLERS[type(s)](run, s)
    except ScriptError:
        raise
    except RecursionError:
        raise run.fail("statement nested too deeply", s) from None
    except (ValueTypeError, PathError) as exc:
        raise run.fail(str(exc), s) from None
    except Exception as exc:  # a library error while editing: name the line, not the value
        raise run.fail(f"statement failed ({type(exc).__name__})", s) from None


def execute_all(run: Run, statements) -> None:
    for s in statements:
        execute(run, s)
