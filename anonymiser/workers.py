"""The worker processes of a run, started before discovery so they warm up while it runs.

The pool is forked at the start of :func:`~.batch.anonymise_folder` (before this process starts
any thread of its own). Each worker then loads, on the core discovery leaves idle, the tables
every file needs (the Annex E plan for the run's options, the PS3.3 IOD trees, the class UID
tags, the person-name lists), instead of on its first file. A task may run before the files are
known (the verifier's own read of the originals). Files then stream through in order: memory
stays flat, only small outcome records come back.
"""
from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from typing import Callable, Iterable, Iterator

Progress = Callable[[int, int], None]

#: SOP classes whose IOD trees a worker builds while it waits (CT, MR and the RT objects).
COMMON_CLASSES = ("1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.5.1.4.1.1.481.3",
                  "1.2.840.10008.5.1.4.1.1.481.5", "1.2.840.10008.5.1.4.1.1.481.2")


def warm_standard() -> None:
    """Load the shared standard tables (Annex E rows, IOD trees and VRs) once, as the first file
    would. The verifier reads the same tables (:mod:`sdu.standard`): warmed in this process
    while the workers run, its own workers (forked from here) get them too."""
    from sdu.standard import annex_e, iod

    annex_e.exact_rows()
    annex_e.repeating_rows()
    for sop_class in COMMON_CLASSES:
        iod.tree_for(sop_class)
    iod.dictionary_vrs(0x00100010)
    iod.top_level_kept(0x00100010)


def warm(option_columns: frozenset[str]) -> None:
    """Load what the first file of every worker would otherwise pay for (pure caches: no state
    that changes an outcome)."""
    from . import personnames
    from .plan import plan_for
    from .values import class_uid_tags

    warm_standard()
    plan_for(option_columns)
    class_uid_tags()
    personnames.name_lists()


def _launched() -> None:
    """A task that only makes the pool fork its workers now."""


class Workers:
    """``workers`` processes (none below 2: everything then runs in this process)."""

    def __init__(self, workers: int, option_columns: frozenset[str]):
        self.pool, self.workers = None, workers
        if workers > 1:
            self.pool = ProcessPoolExecutor(max_workers=workers, initializer=warm, initargs=(option_columns,))

    @property
    def parallel(self) -> bool:
        return self.pool is not None

    def launch(self) -> None:
        """Fork the workers now (a fork pool starts all of them at its first task)."""
        if self.pool is not None:
            self.pool.submit(_launched)

    def submit(self, fn: Callable, *args) -> Future:
        """``fn(*args)`` on a worker (the pool must exist: :attr:`parallel`)."""
        assert self.pool is not None
        return self.pool.submit(fn, *args)

    def map(self, fn: Callable, items: list, progress: Progress | None = None,
            started: Callable[[], None] = lambda: None) -> Iterator:
        """``fn`` over ``items`` in order; ``started()`` runs once in this process while the
        workers run (before the first item when there are none)."""
        total, done = len(items), 0
        results: Iterable
        if self.pool is None:
            started()
            results = map(fn, items)
        else:
            results = self.pool.map(fn, items, chunksize=max(1, min(16, total // (self.workers * 4))))
        for result in results:
            yield result
            done += 1
            if done == 1 and self.pool is not None:
                started()  # once the queue flows: this thread's work must not hold up feeding it
            if progress:
                progress(done, total)
        if done == 0 and self.pool is not None:
            started()

    def close(self) -> None:
        """Wait for running tasks; queued ones are not started (the caller stopped early)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
