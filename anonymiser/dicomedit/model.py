"""The values the anonymiser exchanges with the interpreter: context in, changes out."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping


@dataclass(frozen=True)
class ScriptContext:
    """What XNAT would supply: ``project``, ``subject``, ``session``, ``modalityLabel``, trial/site IDs.

    ``lookup(category, key)`` backs the ``lookup`` function (the site's linkage store); without
    it a script calling ``lookup`` fails rather than passing the identifiable key through.
    ``hash_key`` keys ``mapUID``: the same key gives the same UID for the same value in every
    file and worker of a run (the anonymiser passes the site key); without one, a key per process.
    """

    variables: Mapping[str, str] = field(default_factory=dict)
    lookup: Callable[[str, str], str | None] | None = None
    hash_key: bytes | None = None


@dataclass(frozen=True)
class Change:
    """One edit: ``path`` like ``(0008,1115)[0]/(0020,000E)``; ``None`` means absent."""

    path: str
    keyword: str
    before: str | None
    after: str | None


class Changes(list):
    """The changes of one run, in order; ``echoes`` holds what ``echo`` statements produced."""

    def __init__(self, *args):
        super().__init__(*args)
        self.echoes: list[str] = []
