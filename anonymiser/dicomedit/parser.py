"""Text -> :class:`~.nodes.Program`: size limits, the lark LALR parser, the AST transformer.

Everything a script can get wrong without seeing a dataset is caught here, with line and
column: syntax, unknown or forbidden functions, argument counts, bad regular expressions,
wildcard paths used as single values, unsupported versions, oversized or over-nested scripts.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import lark
from lark import Transformer, v_args

from sdu.errors import ScriptError

from . import nodes as n
from .limits import MAX_BYTES, MAX_LINES, MAX_NESTING, MAX_REGEX_LENGTH
from .tagpath import PathError, Step, TagPath, TagPattern

_BACKSLASH_NEWLINE = re.compile(r"\\\r?\n")
# XNAT 1.8.10 (DicomEdit 6.6.0) runs "6.0" to "6.6" and refuses "6.7" and later
SUPPORTED_VERSION = re.compile(r"6\.[0-6]")
_FRIENDLY = {"TAG": "a tag like (0010,0010)", "STRING": "a quoted string", "ID": "a name",
             "NUMBER": "a number", "_NL": "a new line", "INT": "an item number", "$END": "end of script",
             "COMPARE": "a comparison (=, !=, ~, !~)", "SEQ_WILDCARD": "a sequence wildcard (*, +, .)",
             "DESCRIBE_FLAG": "hidden/const/immutable"}


@lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    text = resources.files(__package__).joinpath("grammar.lark").read_text()
    return lark.Lark(text, parser="lalr", start=["start", "tagpath"], propagate_positions=True,
                     maybe_placeholders=False)


def _unescape(token: str) -> str:
    """XNAT's reading of a string literal: ``\\\\`` is one backslash, every other escape stays as written."""
    return token[1:-1].replace("\\\\", "\\")


def _err(msg: str, node_or_line, column=None, name=None) -> ScriptError:
    if isinstance(node_or_line, n.Node):
        return ScriptError(msg, path=name, line=node_or_line.line, column=node_or_line.column)
    return ScriptError(msg, path=name, line=node_or_line, column=column)


@v_args(meta=True)
class _ToAst(Transformer):
    def _pos(self, meta):
        return dict(line=getattr(meta, "line", 1), column=getattr(meta, "column", 1))

    def start(self, meta, children):
        return _attach_else(children)

    def block(self, meta, children):
        return _attach_else(children)

    def assign(self, meta, c):
        return n.Assign(**self._pos(meta), path=c[0].path, value=c[1])

    def assign_if_exists(self, meta, c):
        return n.Assign(**self._pos(meta), path=c[0].path, value=c[1], if_exists=True)

    def initialize(self, meta, c):
        return n.Initialize(**self._pos(meta), name=str(c[0]), value=c[1])

    def delete(self, meta, c):
        return n.Delete(**self._pos(meta), path=c[0].path)

    def echo(self, meta, c):
        return n.Echo(**self._pos(meta), value=c[0] if c else None)

    def remove_private(self, meta, c):
        return n.RemoveAllPrivateTags(**self._pos(meta))

    def version(self, meta, c):
        return n.Version(**self._pos(meta), version=_unescape(c[0]))

    def describe(self, meta, c):
        if c[1].type == "STRING":
            return n.Describe(**self._pos(meta), name=str(c[0]), description=_unescape(c[1]))
        return n.Describe(**self._pos(meta), name=str(c[0]), flag=str(c[1]))

    def export(self, meta, c):
        return n.Export(**self._pos(meta), name=str(c[0]), field=_unescape(c[1]))

    def conditional(self, meta, c):
        return n.Conditional(**self._pos(meta), condition=c[0], then=c[1], otherwise=c[2] if len(c) > 2 else None)

    def if_clause(self, meta, c):
        return ("if", self._pos(meta), c[0], c[1], c[2] if len(c) > 2 else None)

    def elseif_clause(self, meta, c):
        return ("elseif", self._pos(meta), c[0], c[1], c[2] if len(c) > 2 else None)

    def else_clause(self, meta, c):
        return ("else", self._pos(meta), None, c[0], None)

    def compare(self, meta, c):
        return n.Compare(**self._pos(meta), left=c[0], op=str(c[1]), right=c[2])

    def bool_call(self, meta, c):
        return n.BoolCall(**self._pos(meta), call=c[0])

    def call(self, meta, c):
        return n.Call(**self._pos(meta), name=str(c[0]), args=tuple(x for x in c[1:] if x is not None))

    def list(self, meta, c):
        return n.ListValue(**self._pos(meta), items=tuple(x for x in c if x is not None))

    def string(self, meta, c):
        return n.Literal(**self._pos(meta), value=_unescape(c[0]))

    def number(self, meta, c):
        return n.Literal(**self._pos(meta), value=str(c[0]))

    def variable(self, meta, c):
        return n.Variable(**self._pos(meta), name=str(c[0]))

    def tagpath(self, meta, c):
        steps: list[Step] = []
        for s in c:
            if isinstance(s, tuple):  # a bare [n] step selects items of the step before it
                if not steps or steps[-1].pattern is None:
                    raise _err("an item selector follows a sequence tag", *self._pos(meta).values())
                steps[-1] = Step(pattern=steps[-1].pattern, item=s[1])
            else:
                steps.append(s)
        path = TagPath(tuple(steps))
        try:
            path.check()
        except PathError as exc:
            raise _err(str(exc), *self._pos(meta).values()) from None
        return n.PathValue(**self._pos(meta), path=path)

    def element(self, meta, c):
        try:
            pattern = TagPattern.parse(str(c[0]))
        except PathError as exc:
            raise _err(str(exc), c[0].line, c[0].column) from None
        return Step(pattern=pattern, item=c[1] if len(c) > 1 else None)

    def seq_wildcard(self, meta, c):
        return Step(depth=str(c[0]))

    def item_only(self, meta, c):
        return ("item", c[0])

    def item(self, meta, c):
        return int(c[0]) if c else "%"


def _unchain(children):
    for child in children:
        while isinstance(child, tuple):
            yield child[:4]
            child = child[4]
        if child is not None:
            yield child


def _attach_else(children) -> tuple:
    out: list = []
    for child in _unchain(children):
        if isinstance(child, tuple):
            kind, pos, cond, body = child
            if kind == "if":
                out.append(n.If(**pos, branches=((cond, body),)))
                continue
            prev = out[-1] if out else None
            if not isinstance(prev, n.If) or prev.otherwise is not None:
                raise ScriptError(f"'{kind}' without a matching 'if'", line=pos["line"], column=pos["column"])
            if kind == "elseif":
                out[-1] = n.If(line=prev.line, column=prev.column, branches=prev.branches + ((cond, body),))
            else:
                out[-1] = n.If(line=prev.line, column=prev.column, branches=prev.branches, otherwise=body)
        elif child is not None:
            out.append(child)
    return tuple(out)


def _describe_expected(expected) -> str:
    names = []
    parser = _parser()
    for name in sorted(expected):
        if name in _FRIENDLY:
            names.append(_FRIENDLY[name])
            continue
        try:
            pattern = parser.get_terminal(name).pattern
            names.append(repr(pattern.value) if pattern.type == "str" else name)
        except KeyError:
            names.append(name)
    return ", ".join(dict.fromkeys(names)) or "nothing"


def _scan_limits(text: str, name: str | None) -> None:
    """Cheap checks before parsing: size, line count, bracket nesting (strings/comments skipped)."""
    if len(text) > MAX_BYTES:
        raise ScriptError(f"script is {len(text)} characters; the limit is {MAX_BYTES}", path=name, line=1, column=1)
    lines = text.count("\n") + 1
    if lines > MAX_LINES:
        raise ScriptError(f"script has {lines} lines; the limit is {MAX_LINES}", path=name, line=MAX_LINES + 1, column=1)
    depth, line, col, i, size = 0, 1, 1, 0, len(text)
    while i < size:
        ch = text[i]
        if ch == '"':
            j = i + 1
            while j < size and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            seg = text[i:j + 1]
            nl = seg.count("\n")
            line, col = (line + nl, len(seg) - seg.rfind("\n")) if nl else (line, col + len(seg))
            i = j + 1
            continue
        if ch == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = size if j < 0 else j
            col += j - i
            i = j
            continue
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ScriptError(f"brackets nested deeper than {MAX_NESTING} levels", path=name, line=line, column=col)
        elif ch in ")]}":
            depth = max(0, depth - 1)
        if ch == "\n":
            line, col = line + 1, 1
        else:
            col += 1
        i += 1


def parse_program(text: str, name: str | None = None) -> n.Program:
    """Parse and check a whole script."""
    if not isinstance(text, str):
        raise ScriptError("script text must be a string", path=name)
    _scan_limits(text, name)
    text = _BACKSLASH_NEWLINE.sub("", text)  # XNAT joins a line ending in a backslash with the next one
    try:
        statements = _ToAst().transform(_parser().parse(text + "\n", start="start"))
    except lark.exceptions.UnexpectedCharacters as exc:
        ch = text[exc.pos_in_stream:exc.pos_in_stream + 1] if exc.pos_in_stream is not None else "?"
        raise ScriptError(f"unexpected character {ch!r}; expected {_describe_expected(exc.allowed or ())}",
                          path=name, line=exc.line, column=exc.column) from None
    except lark.exceptions.UnexpectedToken as exc:
        tok = exc.token
        shown = "end of script" if tok.type == "$END" else ("new line" if tok.type == "_NL" else repr(str(tok)[:24]))
        raise ScriptError(f"unexpected {shown}; expected {_describe_expected(exc.expected)}",
                          path=name, line=exc.line if exc.line != -1 else text.count("\n") + 1,
                          column=exc.column if exc.column != -1 else 1) from None
    except lark.exceptions.VisitError as exc:
        if isinstance(exc.orig_exc, ScriptError):
            raise ScriptError(_strip_where(exc.orig_exc),
                              path=name, line=exc.orig_exc.line, column=exc.orig_exc.column) from None
        raise
    except RecursionError:
        raise ScriptError("script is nested too deeply", path=name, line=1, column=1) from None
    from .checks import check_program  # late import: checks needs the function registry
    return check_program(statements, name)


def _strip_where(exc: ScriptError) -> str:
    reason = exc.reason
    prefix = f"line {exc.line}, column {exc.column}: "
    return reason[len(prefix):] if reason.startswith(prefix) else reason


_PLAIN_STEP = re.compile(r"\(\s*([0-9A-Fa-f]{4})\s*,\s*([0-9A-Fa-f]{4})\s*\)(?:\[([0-9]+)\])?")


def parse_path(text: str, strict: bool = False) -> TagPath:
    """A tag path given as a string (``retainPrivateTags["(0029,{X}XX)"]``).

    ``strict``: XNAT 6.6.0's ``delete[]`` and ``set[]`` read their string with a parser of their own
    that takes plain tags, ``(gggg,eeee)``, private groups included, through sequences with item
    numbers, and nothing else (no wildcards, creators, a last item number).
    """
    if len(text) > MAX_REGEX_LENGTH:
        raise PathError("tag path string too long")
    if strict:
        steps = []
        parts = text.strip().split("/")
        for i, part in enumerate(parts):
            m = _PLAIN_STEP.fullmatch(part.strip())
            if not m or (i < len(parts) - 1) != (m.group(3) is not None):
                raise PathError("delete[] and set[] take plain tags, sequences with item numbers: "
                                "\"(0010,0010)\", \"(3006,0020)[0]/(3006,0026)\"")
            item = int(m.group(3)) if m.group(3) is not None else None
            steps.append(Step(pattern=TagPattern(m.group(1).upper(), m.group(2).upper()), item=item))
        return TagPath(tuple(steps))
    try:
        return _ToAst().transform(_parser().parse(text.strip(), start="tagpath")).path
    except (lark.exceptions.LarkError, ScriptError) as exc:
        raise PathError("not a tag path") from exc


def compile_regex(pattern: str, node, name=None):
    """Compile with the PyPI ``regex`` engine, whose matches take a timeout (see limits)."""
    try:
        import regex
    except ImportError:  # a declared dependency; without it no regex can be bounded in time
        raise _err("regular expressions need the 'regex' package (pip install regex)", node, name=name) from None
    if len(pattern) > MAX_REGEX_LENGTH:
        raise _err(f"regular expression is {len(pattern)} characters; the limit is {MAX_REGEX_LENGTH}", node, name=name)
    try:
        return regex.compile(pattern, regex.V0)
    except regex.error as exc:
        raise _err(f"bad regular expression: {exc.msg}", node, name=name) from None
