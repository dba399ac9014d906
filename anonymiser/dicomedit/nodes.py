"""AST of a DicomEdit 6 script: small frozen dataclasses, each carrying its line and column.

The transformer in :mod:`.parser` builds these from the lark tree; the evaluator in
:mod:`.evaluator` walks them. Nothing here touches a dataset.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .tagpath import TagPath


@dataclass(frozen=True)
class Node:
    line: int
    column: int


# ---- values -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Literal(Node):
    """A string or number literal (numbers are kept as their source text, as XNAT does)."""

    value: str


@dataclass(frozen=True)
class Variable(Node):
    name: str


@dataclass(frozen=True)
class PathValue(Node):
    path: TagPath


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple = ()


@dataclass(frozen=True)
class ListValue(Node):
    items: tuple = ()


# ---- conditions ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Compare(Node):
    left: Node
    op: str  # '=', '!=', '~', '!~'
    right: Node


@dataclass(frozen=True)
class BoolCall(Node):
    call: Call


# ---- statements ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Assign(Node):
    path: TagPath
    value: Node
    if_exists: bool = False


@dataclass(frozen=True)
class Initialize(Node):
    name: str
    value: Node


@dataclass(frozen=True)
class Delete(Node):
    path: TagPath


@dataclass(frozen=True)
class Echo(Node):
    value: Node | None


@dataclass(frozen=True)
class RemoveAllPrivateTags(Node):
    pass


@dataclass(frozen=True)
class Version(Node):
    version: str


@dataclass(frozen=True)
class Describe(Node):
    name: str
    description: str | None = None
    flag: str | None = None  # 'hidden', 'const', 'immutable'


@dataclass(frozen=True)
class Export(Node):
    name: str
    field: str


@dataclass(frozen=True)
class Conditional(Node):
    """``condition ? action [: action]``."""

    condition: Node
    then: Node
    otherwise: Node | None = None


@dataclass(frozen=True)
class If(Node):
    """``if (c) {..} elseif (c) {..} else {..}``: branches are (condition, statements) pairs."""

    branches: tuple = ()
    otherwise: tuple | None = None


@dataclass(frozen=True)
class VariableInfo:
    """What a script says about one variable (``describe``/``export``)."""

    name: str
    description: str | None = None
    hidden: bool = False
    constant: bool = False
    export_field: str | None = None
    assigned: bool = False
    referenced: bool = False
    required: bool = False  # XNAT asks the context for it (described, or used outside function arguments)
    filled: bool = False  # XNAT fills it in for function arguments (used outside them, or described hidden/const)
    where: tuple | None = None  # (line, column) where the script first names it


@dataclass(frozen=True)
class Program:
    statements: tuple
    version: str | None
    statement_count: int
    variables: dict = field(default_factory=dict)
    #: (line, column, reason) of statements XNAT fails a file on when it reaches them
    reached_errors: tuple = ()
