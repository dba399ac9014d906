"""The audit log's hash chain, keyed with the site key: `sdu audit verify` catches an edited, a
deleted and a swapped line, and a whole log rewritten by someone without the key; a log from
before keyed hashes is checked as before and sealed by the next (keyed) entry, never mixed."""
from __future__ import annotations

import json
import multiprocessing
import os

import pytest
from click.testing import CliRunner

from anonymiser import AnonymiseOptions, anonymise_folder
from sdu import audit
from sdu.cli.main import cli
from sdu.site import load_site_key
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
    key = load_site_key()
    assert all(e["alg"] == "hmac-sha256" and e["hash"] == audit.entry_mac(e, key) != audit.entry_hash(e)
               for e in entries)
    assert _verify() == (0, "audit log intact: 5 entries\n")


def _rewrite(path, lines):
    path.write_text("".join(lines))


def test_an_edited_line_is_named(five):
    lines = five.read_text().splitlines(True)
    lines[2] = lines[2].replace('"count": 2', '"count": 7')
    _rewrite(five, lines)
    code, out = _verify()
    assert code == AuditError.exit_code
    assert f"{five}:3: entry 3 changed after it was written (keyed hash mismatch)" in out


def test_an_edited_line_with_a_recomputed_hash_breaks_the_next_link(five):
    lines = five.read_text().splitlines(True)
    entry = json.loads(lines[1])
    entry["count"] = 9
    entry["hash"] = audit.entry_mac(entry, load_site_key())  # even someone holding the site key
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
    assert all(e["alg"] == "hmac-sha256" for e in entries)
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
    audit._write_head(site_dir, 4, entry4["hash"], 1, load_site_key())  # entry 5 written, head not yet updated
    assert audit.verify().ok
    audit._write_head(site_dir, 4, "0" * 64, 1, load_site_key())
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


# --- the key: a rewrite of the whole log by someone without it -------------------------------
def _rechain(path, site_dir, edit, keyed: bool, key: bytes | None = None):
    """Rewrite every entry (``edit`` changes them) with a fresh, self-consistent chain and head,
    as someone who can write the site folder would: without the site key, a plain SHA-256 chain
    (``keyed`` False) or a guess at the keyed one (HMAC under ``key``, not the site's)."""
    entries, prev = [], audit.GENESIS
    for line in path.read_text().splitlines():
        entry = {k: v for k, v in json.loads(line).items() if k not in ("hash", "prev", "alg")}
        edit(entry)
        if keyed:
            entry["alg"] = "hmac-sha256"
        entry["prev"] = prev
        entry["hash"] = prev = audit.entry_mac(entry, key) if keyed else audit.entry_hash(entry)
        entries.append(entry)
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    if keyed:
        audit._write_head(site_dir, entries[-1]["seq"], prev, 1, key)
    else:
        (site_dir / audit.HEAD_FILE).write_text(json.dumps({"seq": entries[-1]["seq"], "hash": prev}))


def _cut_counts(entry):
    entry["count"] = 0


def test_a_whole_log_rewritten_without_the_key_is_caught(five, site_dir):
    _rechain(five, site_dir, _cut_counts, keyed=False)
    check = audit.verify()
    assert not check.ok and check.keyed == 0
    assert any(line is None and p.startswith("no entry is keyed with the site key") for line, p in check.problems)
    code, out = _verify()
    assert code == AuditError.exit_code and "no entry is keyed with the site key" in out


def test_a_whole_log_rechained_under_another_key_is_caught(five, site_dir):
    _rechain(five, site_dir, _cut_counts, keyed=True, key=b"\x01" * 32)
    code, out = _verify()
    assert code == AuditError.exit_code
    assert all(f"{five}:{n}: entry {n} changed after it was written (keyed hash mismatch)" in out for n in range(1, 6))
    assert "audit.head changed (keyed hash mismatch)" in out


def test_keyed_entries_turned_unkeyed_at_the_end_are_caught(five, site_dir):
    lines = five.read_text().splitlines()
    entry = json.loads(lines[4])
    del entry["alg"]
    entry["hash"] = audit.entry_hash(entry)
    five.write_text("\n".join(lines[:4] + [json.dumps(entry)]) + "\n")
    code, out = _verify()
    assert code == AuditError.exit_code
    assert f"{five}:5: entry 5 is not keyed, after the keyed chain began (line 1)" in out


def _old_log(site_dir, n: int) -> None:
    """A log as the code before keyed hashes wrote it: a plain SHA-256 chain and head."""
    site_dir.mkdir(parents=True, exist_ok=True)
    prev, lines = audit.GENESIS, []
    for i in range(n):
        entry = {"seq": i + 1, "time": "2026-11-01T00:00:00+00:00", "action": "relabel", "count": i, "prev": prev}
        entry["hash"] = prev = audit.entry_hash(entry)
        lines.append(json.dumps(entry))
    _log(site_dir).write_text("\n".join(lines) + "\n")
    (site_dir / audit.HEAD_FILE).write_text(json.dumps({"seq": n, "hash": prev}))


def test_an_old_unkeyed_log_is_checked_as_before_then_sealed_by_migrate(site_dir):
    _old_log(site_dir, 3)
    code, out = _verify()
    assert code == AuditError.exit_code and "seal it once with 'sdu audit migrate'" in out
    result = CliRunner().invoke(cli, ["audit", "migrate"])
    assert result.exit_code == 0 and "sealed under the site key: 3 earlier entries" in result.output
    assert _verify() == (0, "audit log intact: 4 entries, 3 unkeyed from before the site key, sealed by the "
                            "keyed chain\n")
    audit.record("relabel", count=9)
    check = audit.verify()
    assert check.ok and (check.unkeyed, check.keyed) == (3, 2)
    assert CliRunner().invoke(cli, ["audit", "migrate"]).output == "audit log already keyed: nothing to do\n"
    # The sealed old entries: an edit, even with their whole unkeyed chain recomputed, breaks the
    # keyed entry that follows them.
    lines = _log(site_dir).read_text().splitlines()
    prev = audit.GENESIS
    for i in range(3):
        entry = json.loads(lines[i])
        entry["count"], entry["prev"] = 7, prev
        entry["hash"] = prev = audit.entry_hash(entry)
        lines[i] = json.dumps(entry)
    _log(site_dir).write_text("\n".join(lines) + "\n")
    code, out = _verify()
    assert code == AuditError.exit_code
    assert f"{_log(site_dir)}:4: does not follow entry 3 (line 3): prev hash mismatch" in out


def test_migrate_refuses_an_old_log_that_is_already_broken(site_dir):
    _old_log(site_dir, 3)
    lines = _log(site_dir).read_text().splitlines()
    lines[1] = lines[1].replace('"count": 1', '"count": 5')
    _log(site_dir).write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(cli, ["audit", "migrate"])
    assert result.exit_code == AuditError.exit_code and "not sealed" in result.output
    assert "audit-keyed" not in _log(site_dir).read_text()


def test_an_old_log_is_sealed_by_the_next_real_step_too(small_study, tmp_path, site_dir):
    _old_log(site_dir, 2)
    anonymise_folder(small_study.root, tmp_path / "out", AnonymiseOptions(trial_id="T1", site_id="S1"))
    check = audit.verify()
    assert check.ok and (check.unkeyed, check.keyed) == (2, 1)
    head = json.loads((site_dir / audit.HEAD_FILE).read_text())
    assert head["keyed_from"] == 3 and head["mac"] == audit.head_mac(head, load_site_key())


def test_a_real_run_then_a_rewrite_without_the_key_fails_in_a_real_process(small_study, tmp_path, site_dir):
    import subprocess
    import sys
    out = tmp_path / "out"
    anonymise_folder(small_study.root, out, AnonymiseOptions(trial_id="T1", site_id="S1"))
    assert CliRunner().invoke(cli, ["verify", str(out)]).exit_code == 0
    env = {**os.environ, "SDU_SITE_DIR": str(site_dir)}
    run = lambda: subprocess.run([sys.executable, "-m", "sdu.cli.main", "audit", "verify"],  # noqa: E731
                                 capture_output=True, text=True, env=env, timeout=120)
    assert run().returncode == 0
    _rechain(_log(site_dir), site_dir, lambda e: e.update(ok=True), keyed=False)
    proc = run()
    assert proc.returncode == AuditError.exit_code and "no entry is keyed with the site key" in proc.stdout



def test_a_site_key_created_meanwhile_by_another_process_is_the_one_used(site_dir, monkeypatch):
    """The first keyed entry creates the site key; another step creating it at the same moment
    (here: between this process's look and its write) wins, and both use that one key."""
    import secrets

    import sdu.site

    other = "ab" * 32
    real = secrets.token_bytes

    def racing(n):
        key_file = site_dir / "site.key"
        if not key_file.exists():
            site_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(other + "\n")
        return real(n)

    with monkeypatch.context() as patched:
        patched.setattr(sdu.site.secrets, "token_bytes", racing)
        audit.record("relabel", count=1)
    assert load_site_key().hex() == other
    assert audit.verify().ok and not list(site_dir.glob(".site.key.*"))
