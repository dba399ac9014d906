"""The gate before upload: approval bound to the exact files and to a passing verification."""
from __future__ import annotations

import hashlib
import json
import os
import zlib

import pytest

from anonymiser import AnonymiseOptions, anonymise_folder
from approval import approve, require_release, revoke
from sdu.errors import ApprovalError


@pytest.fixture
def anonymised(small_study, tmp_path):
    out = tmp_path / "out"
    report = anonymise_folder(small_study.root, out, AnonymiseOptions(trial_id="T1", site_id="S1"))
    assert report.verified
    return out


def test_approval_binds_the_exact_files(anonymised):
    record = approve(anonymised, "R. Physicist", "checked contours")
    release = require_release(anonymised)
    assert set(release.files) == set(record["manifest"]) and len(release.files) == 10  # 8 DICOM + 2 reports
    assert release.approval["user"] == "R. Physicist"
    victim = next(anonymised.rglob("*.dcm"))
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1  # one bit of one pixel
    victim.write_bytes(bytes(data))
    with pytest.raises(ApprovalError, match=r"files changed since approval \(1 changed, 0 added, 0 removed\)"):
        require_release(anonymised)


def test_the_record_keeps_each_files_md5_crc32_and_stat_key(anonymised):
    record = approve(anonymised, "R. Physicist")
    for rel, entry in record["manifest"].items():
        data = (anonymised / rel).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["size"] == len(data)
        assert entry["md5"] == hashlib.md5(data).hexdigest() and entry["crc32"] == zlib.crc32(data)
        st = (anonymised / rel).stat()
        assert entry["stat"] == [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
    assert require_release(anonymised, rehash=False).sums == {
        rel: {"md5": e["md5"], "crc32": e["crc32"]} for rel, e in record["manifest"].items()}
    # Same size, same modification time (set back), new bytes: the change time still moves on.
    victim = next(anonymised.rglob("*.dcm"))
    st = victim.stat()
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(ApprovalError, match=r"\(1 changed, 0 added, 0 removed\)"):
        require_release(anonymised, rehash=False)


def test_no_approval_revoked_approval_and_an_added_file_are_refused(anonymised):
    with pytest.raises(ApprovalError, match="not approved"):
        require_release(anonymised)
    approve(anonymised, "R. Physicist")
    (anonymised / "extra.txt").write_text("x")
    with pytest.raises(ApprovalError, match="1 added"):
        require_release(anonymised)
    (anonymised / "extra.txt").unlink()
    require_release(anonymised)
    revoke(anonymised, "R. Physicist", "wrong patient")
    with pytest.raises(ApprovalError, match="revoked"):
        require_release(anonymised)


def test_a_failing_verification_cannot_be_approved(anonymised, small_study):
    victim = next(anonymised.rglob("*.dcm"))
    import pydicom
    ds = pydicom.dcmread(victim)
    ds.PatientName = small_study.patient.name  # the original name back in: the verifier fails it
    ds.save_as(victim)
    with pytest.raises(ApprovalError, match="verification fails on 1 file"):
        approve(anonymised, "R. Physicist")
    with pytest.raises(ApprovalError, match="not approved"):
        require_release(anonymised)


def test_the_record_stays_at_the_site(anonymised, site_dir):
    approve(anonymised, "R. Physicist")
    records = list((site_dir / "approvals").iterdir())
    assert len(records) == 1 and records[0].stat().st_mode & 0o077 == 0
    assert json.loads(records[0].read_text())["verification"]["ok"]
    assert not any(b"Physicist" in p.read_bytes() for p in anonymised.rglob("*") if p.is_file())
