"""The store and the SCP in-process: transfer syntaxes, statuses, versions, keys, completion, CLI."""
from __future__ import annotations

import json
import logging
import sys

import pydicom
import pytest
from click.testing import CliRunner
from intake_helpers import dataset_bytes, stored_files
from pydicom.data import get_testdata_file
from pynetdicom import AE

from intake.completion import CompletionOptions, complete_quiet_studies
from intake.receiver import STATUS_CANNOT_UNDERSTAND, Receiver, ReceiverOptions
from intake.store import Store, ingest
from sdu.cli.main import cli
from sdu.errors import ConfigError
from sdu.site import load_site_key

TESTDATA = ["CT_small.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm", "image_dfl.dcm", "rtplan.dcm",
            "MR_small_RLE.dcm", "SC_rgb_jpeg_gdcm.dcm", "JPEG2000.dcm"]


def split(path):
    from intake.identity import split_part10

    return split_part10(open(path, "rb").read(), path=str(path))


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store", load_site_key())


def test_scp_accepts_each_transfer_syntax_and_refuses_what_it_cannot_file(store):
    rx = Receiver(store, ReceiverOptions(port=0, host="127.0.0.1"), logging.getLogger("test")).start()
    try:
        scu = AE(ae_title="PYSCU")
        sources = [pydicom.dcmread(get_testdata_file(n), force=True) for n in TESTDATA]
        for i, ds in enumerate(sources):  # the MR_small variants share one SOP Instance UID
            ds.SOPInstanceUID = f"2.25.{1000 + i}"
            scu.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
        assoc = scu.associate("127.0.0.1", rx.port, ae_title="SDU")
        assert assoc.is_established
        for name, ds in zip(TESTDATA, sources):
            assert assoc.send_c_store(ds).Status == 0x0000, name
        broken = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
        del broken.SeriesInstanceUID
        broken.SOPInstanceUID = "1.2.3.4.5.6.7"
        assert assoc.send_c_store(broken).Status == STATUS_CANNOT_UNDERSTAND
        assoc.release()
    finally:
        report = rx.stop()
    assert report.stored == len(TESTDATA) and report.rejected == 1
    stored = {pydicom.dcmread(p).SOPInstanceUID: pydicom.dcmread(p) for p in stored_files(store.root)}
    for name, ds in zip(TESTDATA, sources):
        got = stored[ds.SOPInstanceUID]
        assert got.file_meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID, name
        for elem in ds:  # element by element, as sent
            if elem.tag.group != 0x0002:
                assert got[elem.tag] == elem, f"{name} {elem.tag}"


def test_identical_resend_stored_once_conflicting_resend_kept_as_version_and_reported(store, small_study):
    ts, data = split(small_study.rtplan)
    first = ingest(store, data, ts, source="test")
    again = ingest(store, data, ts, source="test")
    assert (first.status, again.status) == ("stored", "duplicate")
    ds = pydicom.dcmread(small_study.rtplan)
    ds.RTPlanLabel = "CHANGED"
    changed_path = small_study.root / "changed.dcm"
    ds.save_as(changed_path, enforce_file_format=True)
    conflict = ingest(store, split(changed_path)[1], ts, source="test")
    assert conflict.status == "conflict" and conflict.version == 2 and conflict.keys == first.keys
    files = sorted(p.name for p in stored_files(store.root))
    assert files == [f"{first.keys.sop}.dcm", f"{first.keys.sop}.v2.dcm"]
    assert dataset_bytes(store.root / first.path) == data  # the original is untouched
    events = [json.loads(p.read_text()) for p in (store.root / ".events").glob("*-conflict.json")]
    assert [e["sop_key"] for e in events] == [first.keys.sop] and events[0]["version"] == 2
    assert ingest(store, split(changed_path)[1], ts).status == "duplicate"  # the version is known too


def test_names_are_keyed_hashes_and_a_store_keeps_its_key(tmp_path, small_study):
    ts, data = split(small_study.ct[0])
    a = ingest(Store(tmp_path / "a", b"\x01" * 32), data, ts)
    b = ingest(Store(tmp_path / "b", b"\x02" * 32), data, ts)
    assert a.keys.patient != b.keys.patient and a.keys.study != b.keys.study
    assert small_study.patient.patient_id not in a.path and small_study.uids["study"] not in a.path
    with pytest.raises(ConfigError):
        Store(tmp_path / "a", b"\x02" * 32)


def test_quiet_study_completes_once_with_event_and_hook(store, small_study, tmp_path):
    for p in small_study.files:
        ingest(store, *reversed(split(p)))
    marker = tmp_path / "hook.json"
    hook = (f"{sys.executable} -c \"import json,sys; json.dump(sys.argv[1:], open({str(marker)!r}, 'w'))\""
            " {study_dir} --trial {trial}")
    options = CompletionOptions(quiet_seconds=0.0, on_complete=hook, trial="TRIAL-1")
    events = complete_quiet_studies(store, options, logging.getLogger("test"))
    assert len(events) == 1 and events[0]["instances"] == len(small_study.files) and events[0]["hook_exit"] == 0
    study_dir = events[0]["study_dir"]
    assert json.loads(marker.read_text()) == [study_dir, "--trial", "TRIAL-1"]
    assert len(list((store.root / ".events").glob("*.json"))) == 1
    assert complete_quiet_studies(store, options, logging.getLogger("test")) == []  # announced once
    # a new instance reopens the study; it completes (and is announced) again
    ds = pydicom.dcmread(small_study.ct[0])
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".9"
    extra = tmp_path / "extra.dcm"
    ds.save_as(extra, enforce_file_format=True)
    ingest(store, *reversed(split(extra)))
    assert len(complete_quiet_studies(store, options, logging.getLogger("test"))) == 1


def test_store_cli_list_hides_names_show_reveals_them(store, small_study):
    for p in small_study.files:
        ingest(store, *reversed(split(p)))
    runner = CliRunner()
    listed = runner.invoke(cli, ["store", "list", "--store", str(store.root), "--json"])
    assert listed.exit_code == 0, listed.output
    (row,) = json.loads(listed.output)
    assert row["instances"] == len(small_study.files) and row["series_count"] == 4
    assert small_study.patient.family not in listed.output and small_study.patient.patient_id not in listed.output
    shown = runner.invoke(cli, ["store", "show", "--store", str(store.root), row["study_key"][:8]])
    assert shown.exit_code == 0, shown.output
    assert small_study.patient.family in shown.output and small_study.patient.patient_id in shown.output
    assert "CT" in shown.output and "RTDOSE" in shown.output
    missing = runner.invoke(cli, ["store", "show", "--store", str(store.root), "ffffffffffff"])
    assert missing.exit_code != 0


def test_tls_association_with_client_certificate(store, tmp_path, small_study):
    import shutil
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    options = ReceiverOptions(port=0, host="127.0.0.1", tls_cert=str(cert), tls_key=str(key), tls_ca=str(cert))
    rx = Receiver(store, options, logging.getLogger("test")).start()
    try:
        ds = pydicom.dcmread(small_study.rtplan)
        client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(cert))
        client.load_cert_chain(str(cert), str(key))
        scu = AE(ae_title="TLSSCU")
        scu.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
        assoc = scu.associate("127.0.0.1", rx.port, ae_title="SDU", tls_args=(client, "127.0.0.1"))
        assert assoc.is_established
        assert assoc.send_c_store(ds).Status == 0x0000
        assoc.release()
        plain = AE(ae_title="PLAIN")
        plain.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
        assert not plain.associate("127.0.0.1", rx.port, ae_title="SDU").is_established  # no TLS, no entry
    finally:
        report = rx.stop()
    assert report.stored == 1 and len(stored_files(store.root)) == 1
