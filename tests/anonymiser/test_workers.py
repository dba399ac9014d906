"""The run's worker processes: forked before discovery, warmed while it runs, same output as
one process, and the verifier's read of the originals taken on a worker."""
import hashlib
import os

from anonymiser import AnonymiseOptions, anonymise_folder
from anonymiser import batch
from anonymiser.workers import Workers


def _caches_and_pid(_item):
    """In a worker, before it has anonymised anything: which per-process caches are loaded."""
    from anonymiser import personnames
    from anonymiser.plan import plan_for
    return os.getpid(), plan_for.cache_info().currsize, personnames.name_lists.cache_info().currsize


def test_workers_are_other_processes_warmed_before_their_first_item():
    from anonymiser.plan import plan_for
    from anonymiser.personnames import name_lists

    plan_for.cache_clear()
    name_lists.cache_clear()  # a fork inherits this process's caches: they must come from the warm-up
    workers = Workers(2, frozenset({"cleanDescOpt"}))
    try:
        workers.launch()
        seen = list(workers.map(_caches_and_pid, list(range(6))))
    finally:
        workers.close()
    assert {pid for pid, *_ in seen} and os.getpid() not in {pid for pid, *_ in seen}
    assert all(plan == 1 and names == 1 for _, plan, names in seen)


def test_one_worker_runs_in_this_process_in_order():
    workers = Workers(1, frozenset())
    started = []
    assert not workers.parallel
    assert list(workers.map(_caches_and_pid, [1, 2], started=lambda: started.append(1)))[0][0] == os.getpid()
    assert started == [1]
    workers.close()


def _tree(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.dcm"))}


def test_two_workers_write_what_one_process_writes_and_verify(rt_study, tmp_path, site_dir):
    opts = dict(trial_id="T", site_id="S", verify=True)
    one = anonymise_folder(rt_study.root, tmp_path / "one", AnonymiseOptions(**opts, workers=1))
    two = anonymise_folder(rt_study.root, tmp_path / "two", AnonymiseOptions(**opts, workers=2))
    assert one.ok and two.ok and one.verified and two.verified
    assert two.verification["passed"] == one.verification["passed"] == len(rt_study.files) + 1  # + the report
    assert _tree(tmp_path / "two") == _tree(tmp_path / "one") and len(_tree(tmp_path / "one")) == len(rt_study.files)


def _collect_recording(src):
    """``batch._collect_originals``, noting the process it ran in."""
    with open(os.environ["SDU_TEST_COLLECT_PIDS"], "a") as f:
        f.write(f"{os.getpid()}\n")
    return _REAL_COLLECT(src)


_REAL_COLLECT = batch._collect_originals


def test_originals_are_read_on_a_worker_and_judge_dangling_references(rt_study, tmp_path, site_dir, monkeypatch):
    """The read taken on a worker is the one the verifier uses: a reference that dangled in the
    source is a warning, not a failure (it could only know that from the originals)."""
    rt_study.ct[0].unlink()  # the RTSTRUCT now references a slice that is not in the source
    pids = tmp_path / "pids"
    monkeypatch.setenv("SDU_TEST_COLLECT_PIDS", str(pids))
    monkeypatch.setattr(batch, "_collect_originals", _collect_recording)  # forked after this: the workers see it
    report = anonymise_folder(rt_study.root, tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S", workers=2))
    assert report.ok and report.verified
    assert report.verification["warnings"] > 0
    ran_in = [int(x) for x in pids.read_text().split()]
    assert len(ran_in) == 1 and ran_in[0] != os.getpid()


def test_a_read_that_never_started_is_taken_in_this_process(small_study):
    from concurrent.futures import Future

    cancelled = Future()
    cancelled.cancel()
    reader = batch._OriginalsReader(small_study.root)
    reader._future = cancelled
    collected = reader.result()
    assert collected.files_read == len(small_study.files)
