"""Running a checked script over one dataset: one handler per statement type, one shape.

Every handler is ``handler(run, statement) -> None``; :class:`Run` carries the dataset, the
variables and the list of changes, and offers the few operations functions and handlers share
(read, write, delete, resolve, regex match). Errors become :class:`ScriptError` naming the
script line and column, never an element value.
"""
from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from sdu.errors import ScriptError

from . import nodes as n
from .elements import BINARY_VRS, ValueTypeError, element_str, keyword, write as write_element
from .checks import ASSIGN_MANY, BARE_ECHO, MANY_AS_ONE, assignable
from .functions import NULL_VALUE, REGISTRY, engine_path_text
from .enginematch import matching
from .javaorder import hashmap_order, path_hash
from .limits import MAX_VALUE_LENGTH, REGEX_TIMEOUT
from .model import Change, Changes, ScriptContext
from .parser import parse_path
from .tagpath import PathError, TagPath, Target, ensure, fmt_tag, is_sequence, resolve


class Run:
    """State of one script applied to one dataset."""

    def __init__(self, script, ds: Dataset, context: ScriptContext):
        self.script, self.ds, self.context = script, ds, context
        self.variables: dict = dict(context.variables)
        self.assigned: set[str] = set()  # variables the script has set so far
        self.raw_private: dict = {}  # datasets holding private elements this run wrote as bytes
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
    def eval(self, node, as_path: bool = False, argument: bool = False):
        if isinstance(node, n.Literal):
            return node.value
        if isinstance(node, n.Variable):
            if node.name not in self.variables:
                raise self.fail(f"variable '{node.name}' has no value (not set by the script or the context)", node)
            return self.variables[node.name]
        if isinstance(node, n.PathValue):
            if as_path:
                return node.path
            path = node.path
            if argument and not path.is_singular and path.without_depth().is_singular:
                path = path.without_depth()  # XNAT 6.6.0 reads "(3006,0039)[0]/./(3006,0084)" given to a function
            if not path.is_singular:  # as (3006,0039)[0]/(3006,0084), and fails on it as a plain value
                raise self.fail(MANY_AS_ONE, node)
            return self.read(path, node)
        if isinstance(node, n.ListValue):  # a list value keeps its tag paths as their text (XNAT 6.6.0)
            return [engine_path_text(i.path) if isinstance(i, n.PathValue) and not as_path else self.eval(i, as_path)
                    for i in node.items]
        if isinstance(node, n.Call):
            return self.call(node)
        raise self.fail("not a value", node)

    def call(self, node: n.Call):
        spec = REGISTRY[node.name]
        for a in node.args:
            self._check_argument_variables(a)
        args = [self._arg(a, spec.paths) for a in node.args]
        result = spec.impl(self, args, node)
        if isinstance(result, str) and len(result) > MAX_VALUE_LENGTH:
            raise self.fail(f"{node.name} produced a value longer than {MAX_VALUE_LENGTH} characters", node)
        return result

    def _arg(self, node, as_path):
        """A function argument (its variables were checked by _check_argument_variables)."""
        if isinstance(node, n.Variable):
            return self.variables.get(node.name)
        if isinstance(node, n.ListValue):
            return [self._arg(i, as_path) for i in node.items]
        return self.eval(node, as_path, argument=True)

    def _check_argument_variables(self, node) -> None:
        """XNAT 6.6.0 does not fill in a context variable met only inside function arguments and fails
        on it (a NullPointerException) when the function runs: so does SDU, naming the line."""
        if isinstance(node, n.Variable):
            info = self.script.program.variables.get(node.name)
            usable = node.name in self.assigned if info is not None and info.assigned else \
                info is not None and info.filled
            if not usable:
                raise self.fail(f"variable '{node.name}' is used only inside function arguments: XNAT does not "
                                "fill it in (describe it, or use it once as a value)", node)
        elif isinstance(node, n.ListValue):
            for item in node.items:
                self._check_argument_variables(item)

    def value_of(self, v, node=None):
        return self.read(v, node) if isinstance(v, TagPath) else v

    def paths(self, args, node, strict: bool = False) -> list[TagPath]:
        out = []
        for a in args:
            if isinstance(a, list):
                out.extend(self.paths(a, node, strict))
            elif isinstance(a, TagPath):
                out.append(a)
            elif isinstance(a, str):
                out.append(self.path_from_string(a, node, strict))
            else:
                raise self.fail("expected tag paths as arguments", node)
        return out

    def path_from_string(self, text: str, node, strict: bool = False) -> TagPath:
        try:
            return parse_path(text, strict)
        except PathError:
            raise self.fail("not a tag path string", node) from None

    # ---- dataset access -----------------------------------------------------------------
    def resolve(self, path: TagPath, node) -> list[Target]:
        try:
            return resolve(self.ds, path)
        except PathError as exc:
            raise self.fail(str(exc), node) from None

    def read(self, path: TagPath, node) -> str | None:
        """The element ``path`` names (paths used as values are wildcard-free).

        As in XNAT, reading through sequences that are not there creates them (and their items),
        and reading a private tag by a creator the file lacks adds that creator element.
        """
        if path.is_singular:
            target = self._read_target(path, node)
            if target is not None and is_sequence(target.container, target.tag):
                raise self.fail("a sequence has no value to read (XNAT fails here)", node)
            return None if target is None else self.read_target(target)
        targets = [t for t in (self.resolve(path, node) if node else resolve(self.ds, path)) if t.item is None]
        return self.read_target(targets[0]) if targets else None

    def _read_target(self, path: TagPath, node) -> Target | None:
        """XNAT's read: an absent sequence on the way is created with one empty item."""
        container, prefix = self.ds, ""
        for step in path.steps[:-1]:
            if not isinstance(step.item, int):
                raise self.fail("a sequence step read as a value needs an item number (XNAT fails here)", node)
            tag = step.pattern.concrete(container, create=True)
            if tag not in container:
                container.add_new(tag, "SQ", Sequence([Dataset()]))
            elif not is_sequence(container, tag):
                return None
            items = container[tag].value
            if step.item >= len(items):
                return None
            prefix += f"{fmt_tag(tag)}[{step.item}]/"
            container = items[step.item]
        meta = getattr(self.ds, "file_meta", None)
        if container is self.ds and meta is not None and path.last.pattern.group == "0002":
            container = meta  # the engine's file object holds the file meta elements too
        tag = path.last.pattern.concrete(container, create=True)
        return Target(container, tag, prefix + fmt_tag(tag)) if tag in container else None

    def peek(self, path: TagPath, node) -> str | None:
        """A value read without creating anything (equals[] reads this way in XNAT 6.6.0)."""
        targets = [t for t in self.resolve(path, node) if t.item is None]
        return self.read_target(targets[0]) if targets else None

    def present(self, path: TagPath, node) -> bool:
        """isPresent. XNAT 6.6.0 ignores the creator of ``(gggg,{CREATOR}ee)`` here and looks at
        ``(gggg,10ee)``: the block a creator at (gggg,0010) reserves, whoever the creator is."""
        last = path.last.pattern
        if last.creator is not None:
            container = self.ds
            for step in path.steps[:-1]:
                tag = step.pattern.concrete(container)
                if tag is None or tag not in container or not is_sequence(container, tag):
                    return False
                items = container[tag].value or []
                index = step.item if isinstance(step.item, int) else 0
                if index >= len(items):
                    return False
                container = items[index]
            return (int(last.group, 16) << 16 | 0x1000 | int(last.element, 16)) in container
        return bool(self.resolve(path, node))

    def collect(self, paths: list[TagPath], node) -> list[str]:
        """Values of the elements ``paths`` name, each once, in the order XNAT 6.6.0 lists them:
        matched as the engine matches (:mod:`.enginematch`), listed in its HashMap's order,
        keyed by each element's own path (:mod:`.javaorder`)."""
        found = list(self.engine_match(paths, node))
        order = hashmap_order([path_hash(steps) for _, steps in found])
        return ["" if (v := self.read_target(found[i][0])) is None else v for i in order]

    def engine_match(self, paths: list[TagPath], node):
        """``(target, steps)`` of every element the engine's visit would match, in its order."""
        try:
            yield from matching(self.ds, paths)
        except ValueError:
            raise self.fail("'+' needs a tag after it (XNAT fails here)", node) from None

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
        write_element(t.container, t.tag, "" if text is None else str(text),
                      default_charset="SpecificCharacterSet" not in self.ds)
        if t.tag >> 16 & 1 and (t.tag & 0xFFFF) > 0xFF and t.tag in getattr(t.container, "_sdu_raw_written", ()):
            self.raw_private[id(t.container)] = t.container
        self.record(t, before, self.read_target(t))

    def delete(self, t: Target) -> None:
        before = self._describe(t)
        if t.item == "all":  # [%]: XNAT removes the sequence
            t = Target(t.container, t.tag, t.path.rsplit("[", 1)[0])
            before = self._describe(t)
            if t.tag in t.container:
                del t.container[t.tag]
                self.changes.append(Change(t.path, keyword(t.container, t.tag), before, None))
            return
        if t.item is not None:  # XNAT empties the item and keeps it, so later items keep their numbers;
            item = t.container[t.tag].value[t.item]  # the item's private creator elements stay (XNAT 6.6.0)
            doomed = [tag for tag in item.keys() if not (tag >> 16 & 1 and 0x10 <= (tag & 0xFFFF) <= 0xFF)]
            if not doomed:
                return
            for tag in doomed:
                del item[tag]
        elif t.tag in t.container:
            del t.container[t.tag]
        else:
            return
        self.changes.append(Change(t.path, keyword(t.container, t.tag), before, None))

    def delete_path(self, path: TagPath, node) -> None:
        if path.last.item == "%" and path.last.pattern is not None:  # every item: the whole sequence goes
            seen = set()
            for t in reversed(self.resolve(path, node)):
                if t.item is not None and (id(t.container), t.tag) not in seen:
                    seen.add((id(t.container), t.tag))
                    self.delete(Target(t.container, t.tag, t.path, "all"))
            return
        for t in reversed(self.resolve(path, node)):
            self.delete(t)

    def assign(self, path: TagPath, value, node, if_exists: bool = False) -> None:
        text = _as_str(value)
        if text is None:  # XNAT: ':=' from an absent element (or a function that found nothing) changes
            if not if_exists:  # nothing; '?=' empties the elements that are there
                return
            text = ""
        if if_exists and path.last.pattern is not None and path.last.pattern.creator is not None \
                and (len(path.steps) == 1 or (len(path.steps) == 2 and path.steps[0].depth == "*")):
            targets = self._first_private_match(path.last.pattern, self.ds, "")
        elif if_exists and path.last.pattern is not None and path.last.pattern.creator is not None \
                and all(s.depth is None and not s.pattern.is_wild and isinstance(s.item, int) for s in path.steps[:-1]):
            item = self._item_at(path)  # the same first match, in the item the path names
            targets = self._first_private_match(path.last.pattern, *item) if item else []
        else:
            targets = [t for t in self.resolve(path, node) if t.item is None]
            if if_exists:  # '?=' over a wildcard leaves sequences alone
                targets = [t for t in targets if not is_sequence(t.container, t.tag)]
        try:
            if not targets and not if_exists and path.is_singular and text is not None:
                targets = [ensure(self.ds, path)]
            for t in targets:
                if (value is None or value is NULL_VALUE) and t.tag in t.container and (
                        _vr(t.container, t.tag) in _NOT_TEXT or _script_private(t.container, t.tag)):
                    raise self.fail(f"{fmt_tag(t.tag)} cannot be emptied from an absent value (XNAT fails here)", node)
                self.write(t, text)
        except (ValueTypeError, PathError) as exc:
            raise self.fail(str(exc), node) from None

    def _item_at(self, path: TagPath):
        """(item, path prefix) the sequence steps of ``path`` name, or None; nothing is created."""
        container, prefix = self.ds, ""
        for step in path.steps[:-1]:
            tag = step.pattern.concrete(container)
            if tag is None or tag not in container or not is_sequence(container, tag):
                return None
            items = container[tag].value or []
            if step.item >= len(items):
                return None
            container, prefix = items[step.item], f"{prefix}{fmt_tag(tag)}[{step.item}]/"
        return container, prefix

    def _first_private_match(self, pattern, ds: Dataset, prefix: str) -> list[Target]:
        """XNAT 6.6.0's '?=' on ``(gggg,{CREATOR}ee)``: the first element of the group (in tag order)
        whose last two digits match ``ee`` and that is the creator element or lies in its block."""
        blocks = {block for block, _ in pattern._blocks(ds)}
        for tag in sorted(int(t) for t in ds.keys()):
            if not pattern.group_matches(tag >> 16) or not pattern._digits_match(pattern.element, tag & 0xFF, 2):
                continue
            low = tag & 0xFFFF
            if (0x10 <= low <= 0xFF and low in blocks) or (low > 0xFF and (low >> 8) in blocks):
                return [Target(ds, tag, prefix + fmt_tag(tag))]
        return []

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
        # XNAT 6.6.0 keeps a creator element (gggg,00bb) when a path (gggg,{CREATOR}ee) names it
        # through its own digits: ee matching bb (so {C}10 and {C}1X keep a creator at 0x10), at
        # the depth the path names (matched as the engine matches, see enginematch)
        named = {(id(t.container), t.tag) for t, _ in matching(self.ds, paths)}
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
                    kept = (id(ds), tag) in named
                    if not kept and not any(block <= int(t) <= block + 0xFF for t in ds.keys()):
                        self.delete(Target(ds, tag, prefix + fmt_tag(tag)))

    def blank_known_values(self, known: set[str]) -> None:
        """Empty every element, file meta included (as XNAT does), whose value is one of ``known``."""
        meta = getattr(self.ds, "file_meta", None)
        datasets = list(self._datasets(self.ds, "")) + ([(meta, "")] if meta is not None else [])
        for ds, prefix in datasets:
            for tag in [int(t) for t in ds.keys()]:
                elem = ds.get_item(tag)
                if elem.VR in BINARY_VRS or elem.VR == "SQ" or tag == 0x7FE00010 or is_sequence(ds, tag):
                    continue
                if element_str(ds, tag) in known:
                    self.write(Target(ds, tag, prefix + fmt_tag(tag)), "")

    def read_root(self, tag: int) -> str | None:
        return element_str(self.ds, tag)

    def every(self, tag: int) -> list[Target]:
        """The element ``tag`` at every nesting level."""
        return [Target(ds, tag, prefix + fmt_tag(tag)) for ds, prefix in list(self._datasets(self.ds, "")) if tag in ds]

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


def _script_private(ds, tag) -> bool:
    """A private element this run created: dcm4che 2 holds it as UN bytes until the file is written."""
    return bool(tag >> 16 & 1) and (tag & 0xFFFF) > 0xFF and tag in getattr(ds, "_sdu_raw_written", ())


def _vr(ds, tag):
    vr = ds.get_item(tag).VR
    if vr is None:  # implicit VR, not yet read
        vr = ds[tag].VR
    return vr


_NOT_TEXT = BINARY_VRS | {"US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "AT", "UN"}


def _as_str(v):
    if v is None or isinstance(v, str):
        return v
    if v is NULL_VALUE:  # hashUID of an absent element: nothing to write, as XNAT does
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):  # XNAT writes a list as Java prints it
        from .functions import java_list
        return java_list(v)
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
    if not s.if_exists and not assignable(s.path):
        raise run.fail(ASSIGN_MANY, s)
    run.assign(s.path, run.eval(s.value), s, if_exists=s.if_exists)


def _initialize(run, s):
    run.variables[s.name] = run.eval(s.value)
    run.assigned.add(s.name)


def _delete(run, s):
    run.delete_path(s.path, s)


def _call(run, s):
    run.call(s)


def _echo(run, s):
    if s.value is None:
        raise run.fail(BARE_ECHO, s)
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
