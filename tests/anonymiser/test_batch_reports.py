"""The run's reports and its integrated verification: how they are written and where they run."""
import json

import pytest

from anonymiser import AnonymiseOptions, anonymise_folder
from anonymiser import batch


@pytest.mark.parametrize("obj", [{}, [], {"files": []}, {"a": [{"x": "Müller"}, {"y": 1}], "b": {"c": [1, 2]}, 3: None}])
def test_report_json_reads_back_as_json_dump_would_write_it(obj):
    text = batch._dumps(obj)
    assert json.loads(text) == json.loads(json.dumps(obj))
    assert "\\u" not in text  # non-ASCII as UTF-8: a byte search must see it


def test_report_gives_each_file_a_line(small_study, tmp_path):
    report = anonymise_folder(small_study.root, tmp_path / "out", AnonymiseOptions(trial_id="T", site_id="S", verify=False))
    text = (tmp_path / "out" / batch.REPORT_NAME).read_text(encoding="utf-8")
    assert json.loads(text) == report.for_destination()
    lines = {line.strip().rstrip(",") for line in text.splitlines()}
    files = report.for_destination()["files"]
    assert len(files) == len(small_study.files)
    assert all(json.dumps(f, ensure_ascii=False) in lines for f in files)  # one line each, greppable


def test_verification_in_this_process_and_on_a_pool_agree(rt_study, tmp_path, monkeypatch):
    rt_study.ct[0].unlink()  # a reference that already dangled in the source: a warning either way
    opts = AnonymiseOptions(trial_id="T", site_id="S", workers=2)
    here = anonymise_folder(rt_study.root, tmp_path / "here", opts)
    monkeypatch.setattr(batch, "VERIFY_POOL_FROM", 0)
    pool = anonymise_folder(rt_study.root, tmp_path / "pool", opts)
    assert here.verified and pool.verified
    assert here.verification == pool.verification and here.verification["warnings"] > 0
    assert here.verification["passed"] == len(rt_study.files)  # the files and the report, less the slice removed
