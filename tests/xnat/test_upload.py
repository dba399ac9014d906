"""`sdu upload`: the gate before any connection, the session in the site project and shared into
the trial project with the same files, resumable after dropped connections (fault proxy), retries,
authentication errors, credentials never shown."""
from __future__ import annotations

import hashlib
import json
import random

import pydicom
import pytest
from click.testing import CliRunner

from approval import approve
from faultproxy import FaultProxy
from sdu.cli.main import cli
from uploader import UploadAuthError, UploadError, UploadOptions, upload
from xnat_scenario import ADMIN, PASSWORD
from xnatemu import Emulator


def _expected(folder):
    """(DICOM md5s, {resource: {name: md5}}) of a release folder."""
    dicom, resources = [], {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        md5 = hashlib.md5(p.read_bytes()).hexdigest()
        if p.suffix == ".dcm":
            dicom.append(md5)
        else:
            label = "SDU_REPORTS" if p.name.startswith("sdu-report.") else "ATTACHMENTS"
            resources.setdefault(label, {})[p.name] = md5
    return sorted(dicom), resources


def _assert_once_on_server(emu: Emulator, folder, trial="TRIAL"):
    """Every file of the release is on the server exactly once, in one session, shared to the trial."""
    dicom, resources = _expected(folder)
    (exp,) = emu.archive.experiments.values()
    (subject,) = emu.archive.subjects.values()
    stored = sorted(hashlib.md5(d).hexdigest() for s in exp.scans.values() for r in s.resources.values()
                    for d in r.files.values())
    assert stored == dicom
    assert {label: {n: hashlib.md5(d).hexdigest() for n, d in r.files.items()}
            for label, r in exp.resources.items()} == resources
    assert (exp.project, subject.project) == ("SITE01", "SITE01")
    assert exp.shares == {trial: exp.label} and subject.shares == {trial: subject.label}
    assert not emu.archive.prearchive
    return exp


def _options(emu_or_url, **kw):
    url = emu_or_url if isinstance(emu_or_url, str) else emu_or_url.url
    return UploadOptions(url, "SITE01", kw.pop("share", "TRIAL"), backoff=kw.pop("backoff", 0.01), **kw)


# --- the gate: nothing is sent -------------------------------------------------------------
def test_upload_without_approval_is_refused_before_any_connection(xnat_server, anonymised_session):
    result = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", xnat_server.url,
                                      "--project", "SITE01", "--share", "TRIAL"])
    assert result.exit_code == 9 and "not approved" in result.output
    assert xnat_server.requests == []


def test_a_stale_approval_is_refused_and_nothing_is_sent(xnat_server, anonymised_session):
    approve(anonymised_session, "R. Physicist")
    victim = next(anonymised_session.rglob("*.dcm"))
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1  # one byte of one file
    victim.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", xnat_server.url,
                                      "--project", "SITE01"])
    assert result.exit_code == 9 and "1 changed" in result.output
    assert xnat_server.requests == []


def test_a_failing_verification_cannot_be_uploaded(xnat_server, anonymised_session, tmp_path):
    victim = next(p for p in anonymised_session.rglob("*.dcm"))
    ds = pydicom.dcmread(victim)
    ds.PatientName = "Quixtable^Marguerite"  # an identifier back in: the verifier fails the file
    ds.save_as(victim)
    with pytest.raises(Exception, match="verification fails"):
        approve(anonymised_session, "R. Physicist")
    result = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", xnat_server.url,
                                      "--project", "SITE01"])
    assert result.exit_code == 9
    assert xnat_server.requests == []


# --- the upload ---------------------------------------------------------------------------
def test_session_lands_in_the_site_project_and_is_shared_with_the_same_files(xnat_server, anonymised_session,
                                                                             site_dir):
    approve(anonymised_session, "R. Physicist")
    result = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", xnat_server.url,
                                      "--project", "SITE01", "--share", "TRIAL", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and [c["where"] for c in data["checks"]] == ["SITE01", "TRIAL"]
    n = sum(1 for p in anonymised_session.rglob("*") if p.is_file())
    assert n == 13  # 6 CT + RTSTRUCT + RTPLAN + RTDOSE, a PDF, a CSV, two reports
    assert all(c["files"] == c["expected"] == c["checksums_compared"] == n for c in data["checks"])
    exp = _assert_once_on_server(xnat_server, anonymised_session)
    subject_dir = next(p for p in anonymised_session.iterdir() if p.is_dir())
    assert (exp.label, data["subject"]) == (next(subject_dir.iterdir()).name, subject_dir.name)
    assert {s.modality for s in exp.scans.values()} == {"CT", "RTSTRUCT", "RTPLAN", "RTDOSE"}
    # The same files seen through the trial project's paths.
    import requests
    base = f"{xnat_server.url}/data/projects/TRIAL/subjects/{data['subject']}/experiments/{data['session']}"
    rows = requests.get(base + "/resources/ATTACHMENTS/files", auth=(ADMIN, PASSWORD), timeout=10).json()
    assert sorted(r["Name"] for r in rows["ResultSet"]["Result"]) == ["consent-form.pdf", "dose-summary.csv"]
    # The audit entry: counts and pseudonymous labels only.
    entry = json.loads((site_dir / "audit.jsonl").read_text().splitlines()[-1])
    assert entry["action"] == "upload" and entry["ok"] and entry["files"] == 13 and entry["dicom"] == 9
    # Run again: nothing new on the server, still one copy of everything.
    again = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", xnat_server.url,
                                     "--project", "SITE01", "--share", "TRIAL", "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["resumed"]
    _assert_once_on_server(xnat_server, anonymised_session)


def test_prearchive_route_archives_and_shares(xnat_server, anonymised_session):
    approve(anonymised_session, "R. Physicist")
    result = upload(anonymised_session, _options(xnat_server, prearchive=True))
    assert result.ok
    assert any(r["path"] == "/data/services/archive" for r in xnat_server.requests)
    _assert_once_on_server(xnat_server, anonymised_session)


@pytest.mark.parametrize("seed", range(10))
def test_dropped_connections_then_a_rerun_leave_every_file_once(seed, anonymised_session, xnat_server):
    approve(anonymised_session, "R. Physicist")
    rng = random.Random(seed)
    prearchive = seed % 2 == 1
    # A clean run's traffic through a proxy to a scratch server gives the range to cut in.
    with Emulator(ADMIN, PASSWORD) as scratch:
        scratch.archive.create_project("SITE01")
        scratch.archive.create_project("TRIAL")
        probe = FaultProxy(scratch.port)
        upload(anonymised_session, _options(probe.url, prearchive=prearchive))
        total = probe.passed
        probe.close()
    import sdu.site
    for p in (sdu.site.site_dir() / "uploads").glob("*.json"):
        p.unlink()  # the real run starts with no journal
    proxy = FaultProxy(xnat_server.port, cut_after=rng.randint(1, total - 1))
    try:
        with pytest.raises(UploadError):
            upload(anonymised_session, _options(proxy.url, prearchive=prearchive, attempts=2))
        assert proxy.cuts == 1
        proxy.heal()
        result = upload(anonymised_session, _options(proxy.url, prearchive=prearchive))
    finally:
        proxy.close()
    assert result.ok and all(c.files == c.expected == 13 for c in result.checks)
    _assert_once_on_server(xnat_server, anonymised_session)


def test_transient_server_errors_are_retried(xnat_server, anonymised_session):
    approve(anonymised_session, "R. Physicist")
    xnat_server.fail_next(3, 503)
    assert upload(anonymised_session, _options(xnat_server)).ok
    assert [r["status"] for r in xnat_server.requests].count(503) == 3
    _assert_once_on_server(xnat_server, anonymised_session)


def test_wrong_credentials_and_no_access_are_clear_errors(xnat_server, anonymised_session, monkeypatch, site_dir):
    approve(anonymised_session, "R. Physicist")
    monkeypatch.setenv("SDU_XNAT_PASS", "not-the-password")
    result = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", xnat_server.url,
                                      "--project", "SITE01"])
    assert result.exit_code == 13 and "refused the credentials" in result.output
    assert "not-the-password" not in result.output
    xnat_server.add_user("site", "site-pw", {"TRIAL"})
    monkeypatch.setenv("SDU_XNAT_USER", "site")
    monkeypatch.setenv("SDU_XNAT_PASS", "site-pw")
    with pytest.raises(UploadAuthError, match=r"refused access \(403\)"):
        upload(anonymised_session, _options(xnat_server))
    assert not xnat_server.archive.experiments
    entry = json.loads((site_dir / "audit.jsonl").read_text().splitlines()[-1])
    assert entry["action"] == "upload" and entry["ok"] is False and "403" in entry["reason"]


def test_credentials_from_a_token_file_or_netrc_never_in_output_or_records(xnat_server, anonymised_session,
                                                                          monkeypatch, tmp_path, site_dir):
    import requests
    approve(anonymised_session, "R. Physicist")
    token = requests.get(xnat_server.url + "/data/services/tokens/issue", auth=(ADMIN, PASSWORD), timeout=10).json()
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps(token))
    monkeypatch.delenv("SDU_XNAT_USER")
    monkeypatch.delenv("SDU_XNAT_PASS")
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    result = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", xnat_server.url,
                                      "--project", "SITE01", "--share", "TRIAL", "--token-file", str(token_file)])
    assert result.exit_code == 0, result.output
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login {ADMIN} password {PASSWORD}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert upload(anonymised_session, _options(xnat_server)).ok
    records = b"".join(p.read_bytes() for p in site_dir.rglob("*") if p.is_file())
    for secret in (PASSWORD, token["secret"]):
        assert secret not in result.output and secret.encode() not in records
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with pytest.raises(UploadAuthError, match="no credentials"):
        upload(anonymised_session, _options(xnat_server))



def test_tls_is_verified_unless_the_server_certificate_is_trusted(anonymised_session, tmp_path, monkeypatch):
    """A self-signed HTTPS server is refused by default; trusted through --ca-bundle it works."""
    import ssl
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    approve(anonymised_session, "R. Physicist")
    monkeypatch.setenv("SDU_XNAT_USER", ADMIN)
    monkeypatch.setenv("SDU_XNAT_PASS", PASSWORD)
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(var, raising=False)
    with Emulator(ADMIN, PASSWORD, ssl_context=context) as emu:
        emu.archive.create_project("SITE01")
        emu.archive.create_project("TRIAL")
        assert emu.url.startswith("https://")
        refused = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", emu.url, "--project", "SITE01"])
        assert refused.exit_code == 10 and "certificate is not trusted" in refused.output
        assert not emu.archive.experiments
        trusted = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", emu.url, "--project", "SITE01",
                                           "--share", "TRIAL", "--ca-bundle", str(cert)])
        assert trusted.exit_code == 0, trusted.output
        _assert_once_on_server(emu, anonymised_session)


def test_attach_takes_only_approved_files(xnat_server, anonymised_session, tmp_path):
    approve(anonymised_session, "R. Physicist")
    outside = tmp_path / "unapproved.pdf"
    outside.write_bytes(b"%PDF-1.4 not approved")
    result = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", xnat_server.url,
                                      "--project", "SITE01", "--attach", str(outside)])
    assert result.exit_code == 10 and "not a file of the approved folder" in result.output
    assert xnat_server.requests == []
    form = next(anonymised_session.rglob("consent-form.pdf"))
    ok = CliRunner().invoke(cli, ["upload", str(anonymised_session), "--xnat", xnat_server.url,
                                  "--project", "SITE01", "--share", "TRIAL", "--attach", str(form)])
    assert ok.exit_code == 0, ok.output
    exp = _assert_once_on_server(xnat_server, anonymised_session)
    assert "consent-form.pdf" in exp.resources["ATTACHMENTS"].files
