"""Caps that keep one hostile file from exhausting memory: configurable, with safe defaults."""
from __future__ import annotations

from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    #: Largest data set a deflated file may inflate to (a small deflated file can inflate to GBs).
    max_inflated: int = 512 * MIB
    #: Largest single element value read (pixel data of a large multi-frame object included).
    max_element: int = 1024 * MIB


DEFAULT_LIMITS = Limits()
