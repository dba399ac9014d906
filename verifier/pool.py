"""Run a per-file function over many files in batches, in worker processes or in-process.

Batches stream: at most a few are in flight at once, so memory stays flat however many files. The
context goes to each worker once, at its start, not with every batch.
"""
from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterator, Sequence

#: Below this many files the pool costs more than it saves.
IN_PROCESS_BELOW = 48
BATCH = 32


_context = None


def _set_context(context) -> None:
    """Worker start: keep the context (e.g. the originals and their compiled matchers) for every batch."""
    global _context
    _context = context


def _call(fn: Callable, batch: list) -> list:
    return fn(_context, batch)


def run_batches(fn: Callable, context, items: Sequence, workers: int) -> Iterator[list]:
    """Yield ``fn(context, batch)`` (a list) for consecutive batches of ``items``, in completion order."""
    batches = [list(items[i:i + BATCH]) for i in range(0, len(items), BATCH)]
    if workers <= 1 or len(items) < IN_PROCESS_BELOW:
        for batch in batches:
            yield fn(context, batch)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_set_context, initargs=(context,)) as pool:
        pending = set()
        queue = iter(batches)
        for batch in queue:
            pending.add(pool.submit(_call, fn, batch))
            if len(pending) >= 2 * workers:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
        for fut in pending:
            yield fut.result()
