"""No byte of a file leaves before its SHA-256 matched the approval: a file changed after the
pre-connection gate stops the upload before any of its bytes (its zip header included) reach the
wire; the gate re-hashes only files written since approval; approval records from before the
stat keys and checksums were kept still upload, checked the same way."""
from __future__ import annotations

import hashlib
import json
import sys

import pytest

import approval.gate
from approval import approve, require_release
from faultproxy import FaultProxy
from sdu import audit
from uploader import UploadError, UploadOptions, stream, upload
from uploader.stream import FileChangedError

MARKER = b"CHANGED-AFTER-APPROVAL:"


class RecordingProxy(FaultProxy):
    """A proxy that keeps every byte that passes, both directions (never cuts)."""

    def __init__(self, upstream_port: int):
        self.seen = bytearray()
        super().__init__(upstream_port)

    def _pump(self, src, dst):
        original = dst.sendall

        class _Tap:
            def __getattr__(_, name):
                return getattr(dst, name)

            def sendall(_, data):
                self.seen += data
                return original(data)

        return super()._pump(src, _Tap())


def _options(url, **kw):
    return UploadOptions(url, "SITE01", "TRIAL", backoff=0.01, **kw)


def _last_dicom(folder):
    """The DICOM file the zip stream sends last (the plan's order: relative paths sorted)."""
    rel = max(p.relative_to(folder).as_posix() for p in folder.rglob("*.dcm"))
    return folder / rel


@pytest.mark.parametrize("spooled", [False, True], ids=["in-memory", "through-a-temporary-copy"])
def test_a_file_changed_after_the_gate_never_leaves(xnat_server, anonymised_session, monkeypatch, site_dir, spooled):
    if spooled:
        monkeypatch.setattr(stream, "SPOOL_OVER", 1000)  # every DICOM file here is larger
    approve(anonymised_session, "R. Physicist")
    first = min(anonymised_session.rglob("*.dcm"), key=lambda p: p.relative_to(anonymised_session).as_posix())
    victim = _last_dicom(anonymised_session)
    original = victim.read_bytes()
    changed = original[:-len(MARKER) * 4] + MARKER * 4  # same size, new bytes at the end
    upload_module = sys.modules["uploader.upload"]
    gate = upload_module.require_release

    def gate_then_change(folder, **kw):
        release = gate(folder, **kw)  # the gate passed (nothing had changed yet) ...
        victim.write_bytes(changed)  # ... and the file changes before it is read to be sent
        return release

    monkeypatch.setattr(upload_module, "require_release", gate_then_change)
    proxy = RecordingProxy(xnat_server.port)
    try:
        with pytest.raises(FileChangedError, match="changed since approval: stopped before it was sent"):
            upload(anonymised_session, _options(proxy.url))
    finally:
        proxy.close()
    wire = bytes(proxy.seen)
    assert first.read_bytes()[-4096:] in wire  # the stream had started: earlier files went out
    assert MARKER not in wire  # not a byte of the changed content
    assert victim.name.encode() not in wire  # nor the file's zip header
    assert original[-4096:] not in wire  # nor its approved content (it was never read before the check)
    assert not xnat_server.archive.experiments  # the server never got a whole zip: nothing imported
    assert not any(r["path"] == "/data/services/import" and r["status"] == 200 for r in xnat_server.requests)
    entry = json.loads((site_dir / audit.AUDIT_FILE).read_text().splitlines()[-1])
    assert entry["action"] == "upload" and not entry["ok"] and "changed since approval" in entry["reason"]
    # With the approved bytes back (a new stat key: hashed again at the gate), it goes through whole.
    victim.write_bytes(original)
    monkeypatch.setattr(upload_module, "require_release", gate)
    assert upload(anonymised_session, _options(xnat_server.url)).ok


@pytest.mark.parametrize("spool_over,ahead", [(1000, 64 << 20), (10 ** 9, 1)], ids=["spooled", "one-file-ahead"])
def test_large_files_and_a_small_read_ahead_arrive_whole(xnat_server, anonymised_session, monkeypatch, spool_over,
                                                         ahead):
    monkeypatch.setattr(stream, "SPOOL_OVER", spool_over)  # through temporary copies
    monkeypatch.setattr(stream, "SLICE", 777)  # many pieces per file
    monkeypatch.setattr(stream, "AHEAD_BYTES", ahead)  # the producer waits for the sender after each file
    approve(anonymised_session, "R. Physicist")
    result = upload(anonymised_session, _options(xnat_server.url))
    assert result.ok and all(c.files == c.expected == c.checksums == 13 for c in result.checks)
    (exp,) = xnat_server.archive.experiments.values()
    stored = sorted(hashlib.md5(d).hexdigest() for s in exp.scans.values() for r in s.resources.values()
                    for d in r.files.values())
    assert stored == sorted(hashlib.md5(p.read_bytes()).hexdigest() for p in anonymised_session.rglob("*.dcm"))


def test_the_gate_rehashes_only_files_written_since_approval(anonymised_session, monkeypatch):
    approve(anonymised_session, "R. Physicist")
    hashed = []
    real = approval.gate._hash_file
    monkeypatch.setattr(approval.gate, "_hash_file", lambda path, *a: hashed.append(path) or real(path, *a))
    release = require_release(anonymised_session, rehash=False)
    assert hashed == [] and len(release.files) == 13  # a stat per file, no reads
    touched = _last_dicom(anonymised_session)
    touched.write_bytes(touched.read_bytes())  # rewritten, same bytes: hashed again, accepted
    require_release(anonymised_session, rehash=False)
    assert hashed == [touched]
    hashed.clear()
    require_release(anonymised_session)  # the default re-reads everything
    assert len(hashed) == 13


def test_an_approval_recorded_before_stat_keys_and_checksums_still_uploads(xnat_server, anonymised_session):
    approve(anonymised_session, "R. Physicist")
    path = approval.gate._record_path(anonymised_session)
    record = json.loads(path.read_text())
    for entry in record["manifest"].values():
        for key in ("stat", "md5", "crc32"):
            del entry[key]
    path.write_text(json.dumps(record))
    result = upload(anonymised_session, _options(xnat_server.url))
    assert result.ok and all(c.checksums == 13 for c in result.checks)  # MD5s taken at upload instead


def test_a_changed_attachment_is_not_sent(xnat_server, anonymised_session, monkeypatch):
    approve(anonymised_session, "R. Physicist")
    pdf = next(anonymised_session.rglob("consent-form.pdf"))
    upload_module = sys.modules["uploader.upload"]
    gate = upload_module.require_release

    def gate_then_change(folder, **kw):
        release = gate(folder, **kw)
        pdf.write_bytes(pdf.read_bytes()[:-len(MARKER)] + MARKER)
        return release

    monkeypatch.setattr(upload_module, "require_release", gate_then_change)
    with pytest.raises(UploadError, match="consent-form.pdf changed since approval"):
        upload(anonymised_session, _options(xnat_server.url))
    assert not any("consent-form.pdf" in r["path"] for r in xnat_server.requests)
