"""`sdu approve` / `--revoke` through the command line, the stale approval, and what is recorded."""
from __future__ import annotations

import json

import pydicom
import pytest
from click.testing import CliRunner

from anonymiser import AnonymiseOptions, anonymise_folder
from approval import require_release
from sdu import audit, registry
from sdu.cli.main import cli
from sdu.errors import ApprovalError
from sdu.studygen import PLANTED


@pytest.fixture
def anonymised(small_study, tmp_path):
    out = tmp_path / "out"
    assert anonymise_folder(small_study.root, out, AnonymiseOptions(trial_id="T1", site_id="S1")).verified
    return out


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_approve_then_one_byte_changed_is_stale(anonymised, site_dir):
    result = run("approve", anonymised, "--user", "R. Physicist", "--comment", "contours checked", "--json")
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["user"] == "R. Physicist" and record["files"] == 10 and record["verification"]["ok"]
    assert record["trial"] == "T1" and len(record["registered"]) == 1
    assert require_release(anonymised).approval["comment"] == "contours checked"
    review = json.loads(run("review", anonymised, "--json").output)
    assert review["approval"]["status"] == "valid" and review["approval"]["user"] == "R. Physicist"

    victim = next(anonymised.rglob("*.dcm"))
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(ApprovalError, match=r"1 changed, 0 added, 0 removed"):
        require_release(anonymised)
    review = json.loads(run("review", anonymised, "--json").output)
    assert review["approval"]["status"] == "stale"


def test_revoke_via_the_cli(anonymised):
    assert run("approve", anonymised, "--revoke", "--user", "R. Physicist").exit_code == 9  # nothing to revoke
    assert run("approve", anonymised, "--user", "R. Physicist").exit_code == 0
    result = run("approve", anonymised, "--revoke", "--user", "Q. Lead", "--comment", "wrong series")
    assert result.exit_code == 0 and "revoked" in result.output
    with pytest.raises(ApprovalError, match="revoked"):
        require_release(anonymised)
    assert run("approve", anonymised, "--user", "R. Physicist").exit_code == 0  # approved again
    require_release(anonymised)


def test_refused_with_exit_9_when_verification_fails(anonymised, small_study, site_dir):
    victim = next(p for p in anonymised.rglob("*.dcm"))
    ds = pydicom.dcmread(victim)
    ds.PatientID = small_study.patient.patient_id
    ds.save_as(victim)
    result = run("approve", anonymised, "--user", "R. Physicist")
    assert result.exit_code == 9 and "verification fails" in result.output
    for value in PLANTED.values():
        assert value not in result.output
    assert not (site_dir / registry.SQLITE_FILE).exists() or registry.list_entries() == []  # nothing registered


def test_approval_registers_pseudonyms_and_is_audited(anonymised, site_dir):
    assert run("approve", anonymised, "--user", "R. Physicist").exit_code == 0
    assert run("approve", anonymised, "--user", "R. Physicist").exit_code == 0  # idempotent registration
    report = json.loads((anonymised / "sdu-report.anonymise.json").read_text())
    (entry,) = registry.list_entries("T1")
    assert (entry.subject, entry.session, entry.site) == (report["subjects"][0], report["sessions"][0], "S1")
    sample = pydicom.dcmread(next(anonymised.rglob("*.dcm")), stop_before_pixels=True)
    assert entry.study_uid == sample.StudyInstanceUID  # the replacement UID
    log = (site_dir / "audit.jsonl").read_text()
    actions = [json.loads(line)["action"] for line in log.splitlines()]
    assert actions == ["anonymise", "approve", "approve"]
    for value in PLANTED.values():
        assert value not in log
    assert json.loads(log.splitlines()[-1])["user"] == "R. Physicist"  # a site user: who approved, at the site
    assert audit.verify().ok
