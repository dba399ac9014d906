"""The audit log's hash chain: `sdu audit verify` catches an edited, a deleted and a swapped line."""
from __future__ import annotations

import json
import multiprocessing
import os

import pytest
from click.testing import CliRunner

from anonymiser import AnonymiseOptions, anonymise_folder
from sdu import audit
from sdu.cli.main import cli
from sdu.errors import AuditError


def _log(site_dir):
    return site_dir / audit.AUDIT_FILE


@pytest.fixture
def five(site_dir):
    for n in range(5):
        audit.record("relabel", count=n)
    return _log(site_dir)


def _verify():
    result = CliRunner().invoke(cli, ["audit", "verify"])
    return result.exit_code, result.output


def test_an_intact_chain(five):
    entries = [json.loads(line) for line in five.read_text().splitlines()]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["prev"] == audit.GENESIS and all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:]))
    assert _verify() == (0, "audit log intact: 5 entries\n")


def _rewrite(path, lines):
    path.write_text("".join(lines))


def test_an_edited_line_is_named(five):
    lines = five.read_text().splitlines(True)
    lines[2] = lines[2].replace('"count": 2', '"count": 7')
    _rewrite(five, lines)
    code, out = _verify()
    assert code == AuditError.exit_code
    assert f"{five}:3: entry 3 changed after it was written (hash mismatch)" in out


def test_an_edited_line_with_a_recomputed_hash_breaks_the_next_link(five):
    lines = five.read_text().splitlines(True)
    entry = json.loads(lines[1])
    entry["count"] = 9
    entry["hash"] = audit.entry_hash(entry)
    lines[1] = json.dumps(entry) + "\n"
    _rewrite(five, lines)
    code, out = _verify()
    assert code == AuditError.exit_code and f"{five}:3: does not follow entry 2 (line 2)" in out


def test_a_deleted_line_is_named(five):
    lines = five.read_text().splitlines(True)
    del lines[1]
    _rewrite(five, lines)
    code, out = _verify()
    assert code == AuditError.exit_code and f"{five}:2: entry 2 missing before this line (deleted)" in out
    assert out.count(str(five)) == 1  # one problem, not a cascade


def test_a_deleted_last_line_is_caught_by_the_head(five):
    _rewrite(five, five.read_text().splitlines(True)[:-1])
    code, out = _verify()
    assert code == AuditError.exit_code and f"{five}:4: entry 5 missing after this line" in out


def test_swapped_lines_are_named(five):
    lines = five.read_text().splitlines(True)
    lines[1], lines[2] = lines[2], lines[1]
    _rewrite(five, lines)
    code, out = _verify()
    assert code == AuditError.exit_code
    assert f"{five}:2: entry 3 where entry 2 belongs (reordered)" in out
    assert f"{five}:3: entry 2 after entry 3 (reordered)" in out
    assert out.count(str(five)) == 2


def test_json_output_and_an_older_unchained_log(site_dir):
    site_dir.mkdir(parents=True)
    _log(site_dir).write_text('{"time": "2026-01-01T00:00:00+00:00", "action": "relabel", "count": 1}\n')
    audit.record("relabel", count=2)
    audit.record("relabel", count=3)
    result = CliRunner().invoke(cli, ["audit", "verify", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and data["entries"] == 3 and data["legacy_entries"] == 1


def _append(site: str, n: int, who: int) -> None:
    os.environ["SDU_SITE_DIR"] = site
    for i in range(n):
        audit.record("relabel", writer=who, count=i)


def test_two_processes_appending_keep_the_chain(site_dir):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append, args=(str(site_dir), 40, w)) for w in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    check = audit.verify()
    assert check.ok, check.problems
    entries = [json.loads(line) for line in _log(site_dir).read_text().splitlines()]
    assert [e["seq"] for e in entries] == list(range(1, 81))
    assert sorted((e["writer"], e["count"]) for e in entries) == [(w, i) for w in (1, 2) for i in range(40)]


def test_anonymise_and_verify_are_recorded(small_study, tmp_path, site_dir):
    out = tmp_path / "out"
    anonymise_folder(small_study.root, out, AnonymiseOptions(trial_id="T1", site_id="S1"))
    assert CliRunner().invoke(cli, ["verify", str(out)]).exit_code == 0
    entries = [json.loads(line) for line in _log(site_dir).read_text().splitlines()]
    assert [e["action"] for e in entries] == ["anonymise", "verify"]
    assert entries[0]["trial"] == "T1" and entries[0]["out"] == 8 and entries[0]["verified"]
    assert entries[1]["ok"] and entries[1]["files"] == 10  # 8 DICOM + both reports
    text = _log(site_dir).read_text()
    assert str(small_study.root) not in text and small_study.patient.patient_id not in text
    assert audit.verify().ok


def test_reserved_fields_are_refused(site_dir):
    with pytest.raises(TypeError, match="reserved"):
        audit.record("relabel", hash="x")


def test_a_head_left_behind_by_a_crash_is_not_a_break(five, site_dir):
    head = site_dir / audit.HEAD_FILE
    lines = five.read_text().splitlines()
    entry4 = json.loads(lines[3])
    head.write_text(json.dumps({"seq": 4, "hash": entry4["hash"]}))  # entry 5 written, head not yet updated
    assert audit.verify().ok
    head.write_text(json.dumps({"seq": 4, "hash": "0" * 64}))
    assert not audit.verify().ok


def test_the_command_in_a_real_process_names_the_swapped_line(five, site_dir):
    import subprocess
    import sys
    lines = five.read_text().splitlines(True)
    lines[3], lines[4] = lines[4], lines[3]
    five.write_text("".join(lines))
    proc = subprocess.run([sys.executable, "-m", "sdu.cli.main", "audit", "verify"], capture_output=True, text=True,
                          env={**os.environ, "SDU_SITE_DIR": str(site_dir)}, timeout=120)
    assert proc.returncode == AuditError.exit_code
    assert f"{five}:4: entry 5 where entry 4 belongs (reordered)" in proc.stdout
