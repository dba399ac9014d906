"""The verifier's batch runner: every item once, the calling process working beside its helpers,
and the same verify report with a pool as without."""
from __future__ import annotations

import os

from verifier import VerifyOptions, verify_folder
from verifier.pool import BATCH, IN_PROCESS_BELOW, run_batches


def _tagged(context, batch):
    return [(os.getpid(), context, item) for item in batch]


def test_every_item_once_and_this_process_works_too():
    items = list(range(4 * BATCH + 5))
    assert len(items) >= IN_PROCESS_BELOW
    out = [row for batch in run_batches(_tagged, "ctx", items, 2) for row in batch]
    assert sorted(item for _, _, item in out) == items
    assert {context for _, context, _ in out} == {"ctx"}
    pids = {pid for pid, _, _ in out}
    assert os.getpid() in pids and len(pids) == 2  # this process and one helper


def test_one_worker_or_few_items_stay_in_this_process():
    for items, workers in ((list(range(200)), 1), (list(range(IN_PROCESS_BELOW - 1)), 2)):
        out = [row for batch in run_batches(_tagged, None, items, workers) for row in batch]
        assert [item for _, _, item in out] == items and {pid for pid, _, _ in out} == {os.getpid()}


def test_verify_report_is_the_same_with_a_pool(rt_study):
    """53 files (past the in-process limit): originals gathered and files checked by this process
    and a helper give the report one process gives (here: the identifiable study, every finding)."""
    assert len(rt_study.ct) + 3 >= IN_PROCESS_BELOW
    pooled = verify_folder(rt_study.root, VerifyOptions(against=rt_study.root, workers=2)).to_dict()
    alone = verify_folder(rt_study.root, VerifyOptions(against=rt_study.root, workers=1)).to_dict()
    assert pooled == alone and not pooled["ok"] and pooled["files_failed"] == len(rt_study.ct) + 3
