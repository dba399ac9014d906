"""Load-time checks over the AST: functions, arguments, regexes, paths, variables, version."""
from __future__ import annotations

from sdu.errors import ScriptError

from . import nodes as n
from .functions import REGISTRY
from .limits import MAX_STATEMENTS
from .parser import SUPPORTED_VERSION, compile_regex


class _Checker:
    def __init__(self, name):
        self.name = name
        self.count = 0
        self.version: str | None = None
        self.vars: dict[str, dict] = {}
        self.in_calls: list = []
        self.reached: list = []  # (line, column, reason): XNAT fails a file when it reaches these
        self.guarded = 0  # > 0 inside a branch: a statement there runs for some files only

    def when_reached(self, msg, node, certain=True):
        """XNAT fails a file that reaches ``node``. A statement every file reaches fails every file:
        refused now, before any file is written; one in a branch fails the files that take it."""
        if certain and not self.guarded:
            self.fail(msg, node)
        self.reached.append((node.line, node.column, msg))

    def fail(self, msg, node):
        raise ScriptError(msg, path=self.name, line=node.line, column=node.column)

    def var(self, name) -> dict:
        return self.vars.setdefault(name, {"name": name})

    # statements ---------------------------------------------------------------------------
    def statements(self, stmts):
        for s in stmts:
            self.statement(s)

    def statement(self, s):
        self.count += 1
        if self.count > MAX_STATEMENTS:
            self.fail(f"more than {MAX_STATEMENTS} statements", s)
        if isinstance(s, n.Version):
            if not SUPPORTED_VERSION.fullmatch(s.version):
                self.fail("unsupported DicomEdit version (XNAT 1.8.10 runs \"6.0\" to \"6.6\")", s)
            self.version = s.version
        elif isinstance(s, n.Assign):
            if not s.if_exists and not assignable(s.path):
                self.when_reached(ASSIGN_MANY, s)
            self.value(s.value, direct=True)
        elif isinstance(s, n.Initialize):
            self.value(s.value, direct=True)
            self.var(s.name)["assigned"] = True
        elif isinstance(s, n.Call):
            self.call(s)
        elif isinstance(s, n.Echo) and s.value is not None:
            self.value(s.value, direct=True)
        elif isinstance(s, n.Echo):
            self.when_reached(BARE_ECHO, s)
        elif isinstance(s, n.Describe):
            v = self.var(s.name)
            v["required"] = True
            v.setdefault("where", (s.line, s.column))
            if s.flag is not None:  # 'describe x hidden' has XNAT fill x in; a described name alone does not
                v["filled"] = True
            if s.description is not None:
                v["description"] = s.description
            v["hidden"] = v.get("hidden", False) or s.flag == "hidden"
            v["constant"] = v.get("constant", False) or s.flag in ("const", "immutable")
        elif isinstance(s, n.Export):
            self.var(s.name)["export_field"] = s.field
        elif isinstance(s, n.Conditional):
            self.condition(s.condition)
            self.guarded += 1
            self.statement(s.then)
            if s.otherwise is not None:
                self.statement(s.otherwise)
            self.guarded -= 1
        elif isinstance(s, n.If):
            for i, (cond, body) in enumerate(s.branches):
                self.guarded += i > 0  # an elseif condition is tested only when those before it fail
                self.condition(cond)
                self.guarded += 1
                self.statements(body)
                self.guarded -= 1 + (i > 0)
            if s.otherwise is not None:
                self.guarded += 1
                self.statements(s.otherwise)
                self.guarded -= 1

    def condition(self, c):
        if isinstance(c, n.BoolCall):
            self.call(c.call)
            return
        self.value(c.left, direct=True)
        self.value(c.right, direct=True)
        if c.op in ("~", "!~") and isinstance(c.right, n.Literal):
            compile_regex(c.right.value, c.right, self.name)

    # values -------------------------------------------------------------------------------
    def value(self, v, path_ok=False, direct=False):
        if isinstance(v, n.Call):
            self.call(v)
        elif isinstance(v, n.ListValue):
            for item in v.items:  # a list keeps its tag paths (as text, or as paths for a function)
                self.value(item, path_ok=True)
        elif isinstance(v, n.Variable):
            info = self.var(v.name)
            info["referenced"] = True
            info.setdefault("where", (v.line, v.column))
            if direct:  # XNAT fills in the variables it meets outside function arguments (lists included)
                info["required"] = info["filled"] = True
        elif isinstance(v, n.PathValue) and not path_ok and not v.path.is_singular \
                and (direct or not v.path.without_depth().is_singular):
            # a function argument's depth wildcards are skipped when XNAT reads it (see Run.eval)
            self.when_reached(MANY_AS_ONE, v)

    def call(self, c: n.Call):
        spec = REGISTRY.get(c.name)
        if spec is None:
            self.fail(f"unknown function '{c.name}'", c)
        if spec.refused:
            self.fail(f"function '{c.name}' is not allowed: {spec.refused}", c)
        if len(c.args) < spec.min_args or (spec.max_args is not None and len(c.args) > spec.max_args):
            want = str(spec.min_args) if spec.max_args == spec.min_args else \
                f"{spec.min_args} to {spec.max_args}" if spec.max_args is not None else f"at least {spec.min_args}"
            self.fail(f"{c.name} takes {want} arguments, not {len(c.args)}", c)
        for arg in c.args:
            self.value(arg, path_ok=spec.paths)
        if c.name == "isPresent":
            for arg in c.args:
                if isinstance(arg, n.PathValue) and not assignable(arg.path):
                    # isPresent stops at the first absent element: only the first argument is sure to be read
                    self.when_reached(PRESENT_MANY, arg, certain=arg is c.args[0])
        for index in spec.regex_args:
            if index < len(c.args) and isinstance(c.args[index], n.Literal):
                compile_regex(c.args[index].value, c.args[index], self.name)
        if spec.check is not None:
            spec.check(c, self.fail)


#: Statements XNAT 6.6.0 accepts in a script but fails on, for the file at hand, when it reaches them
#: (SDU fails that file too; ``sdu script check`` lists them).
BARE_ECHO = "echo without a value (XNAT fails here)"
ASSIGN_MANY = ("':=' assigns one element: a tag path with wildcards, or a sequence step without an item number, "
               "is an error in XNAT (use '?=' to change every element it names)")
PRESENT_MANY = "isPresent takes tag paths that name one element (no wildcards; XNAT fails here)"
MANY_AS_ONE = "a tag path with wildcards names many elements and cannot be used as one value (XNAT fails here)"


def assignable(path) -> bool:
    """One element: no digit wildcards, no depth wildcards, an item number on every sequence step."""
    steps = path.steps
    return all(s.depth is None and not s.pattern.is_wild and (s is steps[-1] or isinstance(s.item, int))
               and s.item != "%" for s in steps)


def check_program(statements: tuple, name: str | None) -> n.Program:
    checker = _Checker(name)
    try:
        checker.statements(statements)
    except RecursionError:
        raise ScriptError("script is nested too deeply", path=name, line=1, column=1) from None
    info = {k: n.VariableInfo(name=k, description=v.get("description"), hidden=v.get("hidden", False),
                              constant=v.get("constant", False), export_field=v.get("export_field"),
                              assigned=v.get("assigned", False), referenced=v.get("referenced", False),
                              required=v.get("required", False), filled=v.get("filled", False),
                              where=v.get("where"))
            for k, v in checker.vars.items()}
    return n.Program(statements=statements, version=checker.version, statement_count=checker.count, variables=info,
                     reached_errors=tuple(checker.reached))
