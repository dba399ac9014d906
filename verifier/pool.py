"""Run a per-file function over many files in batches, in worker processes or in-process.

Batches stream: at most a few are in flight at once, so memory stays flat however many files. The
context goes to each worker once, at its start, not with every batch. With ``workers`` of 2 or
more, this process is one of them (it takes batches from the same queue as its helpers): one fork
fewer, and its caches are already warm.
"""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Callable, Iterator, Sequence

#: Below this many files the pool costs more than it saves.
IN_PROCESS_BELOW = 48
BATCH = 16


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
    helpers = workers - 1
    with ProcessPoolExecutor(max_workers=helpers, initializer=_set_context, initargs=(context,)) as pool:
        queue = iter(batches)
        pending: set = set()

        def top_up() -> None:  # keep every helper busy while this process works on its own batch
            while len(pending) < 2 * helpers + 1:
                batch = next(queue, None)
                if batch is None:
                    return
                pending.add(pool.submit(_call, fn, batch))

        top_up()
        while True:
            batch = next(queue, None)
            if batch is None:
                break
            yield fn(context, batch)  # this process's share
            for fut in [f for f in pending if f.done()]:
                pending.discard(fut)
                yield fut.result()
            top_up()
        for fut in as_completed(pending):
            yield fut.result()
